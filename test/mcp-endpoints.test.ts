// Requirements (MCP endpoints §1, §2): /<workspace>/mcp and /<workspace>/mcp/ without redirects, the shared /mcp,
// "workspace not found", RFC 9728 protected-resource metadata byte-exact for the URL form used, CORS, unknown
// /.well-known/* → 404, request ids and security headers on every MCP response.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { legacyCall, mcpRequest } from './helpers/mcp-http.ts';

const ALLOWED = 'http://localhost:6274';

describe('MCP endpoints and protected-resource metadata', () => {
  let srv: TestServer;
  let token: string;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_ALLOWED_ORIGINS: ALLOWED, TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' } });
    await srv.services.createWorkspace({ slug: 'acme', name: 'Acme Corp' });
    token = (await mintAccessToken(srv.services)).accessToken;
  });
  after(async () => srv.stop());

  test('/<ws>/mcp and /<ws>/mcp/ both answer, without a redirect', async () => {
    for (const path of ['/demo/mcp', '/demo/mcp/']) {
      const anon = await fetch(srv.url + path, { method: 'POST', redirect: 'manual' });
      assert.equal(anon.status, 401, path);
      const r = await legacyCall(srv.url + path, token, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }, null);
      assert.equal(r.status, 200, path);
      assert.equal(r.body.result.protocolVersion, '2025-06-18');
      assert.equal(r.headers.get('mcp-session-id'), null, 'stateless: no session');
    }
  });

  test('an unknown workspace is a JSON 404 that says "workspace not found", on the endpoint and its metadata', async () => {
    for (const [method, path] of [['POST', '/nope/mcp'], ['GET', '/nope/mcp/'], ['GET', '/.well-known/oauth-protected-resource/nope/mcp'], ['GET', '/nope/.well-known/oauth-protected-resource'], ['POST', '/Not_A_Slug!/mcp']]) {
      const r = await fetch(srv.url + path, { method, headers: { authorization: `Bearer ${token}` } });
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
      const body = await r.json();
      assert.match(body.error_description, /workspace not found/, path);
      assert.equal(body.request_id, r.headers.get('x-request-id'));
    }
  });

  test('protected-resource metadata (RFC 9728): resource byte-equal to the URL form used, the issuer, the minimal scopes', async () => {
    const forms: [string, string][] = [
      ['/.well-known/oauth-protected-resource/demo/mcp', '/demo/mcp'],
      ['/.well-known/oauth-protected-resource/demo/mcp/', '/demo/mcp/'],
      ['/demo/.well-known/oauth-protected-resource', '/demo/mcp'],
      ['/.well-known/oauth-protected-resource/mcp', '/mcp'],
      ['/.well-known/oauth-protected-resource/mcp/', '/mcp/'],
    ];
    for (const [metadataPath, resourcePath] of forms) {
      const r = await fetch(srv.url + metadataPath, { redirect: 'manual' });
      assert.equal(r.status, 200, metadataPath);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const prm = await r.json();
      assert.equal(prm.resource, srv.url + resourcePath, metadataPath);
      assert.deepEqual(prm.authorization_servers, [srv.url]);
      assert.deepEqual(prm.scopes_supported, ['mcp:read', 'mcp:write']);
      assert.deepEqual(prm.bearer_methods_supported, ['header']);
      assert.equal(typeof prm.resource_name, 'string');
    }
    const acme = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource/acme/mcp`)).json();
    assert.match(acme.resource_name, /Acme Corp/);
  });

  test('the 401 challenge points at metadata whose resource is the exact URL the client used', async () => {
    for (const path of ['/demo/mcp', '/demo/mcp/', '/mcp', '/mcp/']) {
      const r = await fetch(srv.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(r.status, 401);
      const m = /^Bearer resource_metadata="([^"]+)"$/.exec(r.headers.get('www-authenticate') ?? '');
      assert.ok(m, `challenge on ${path}: ${r.headers.get('www-authenticate')}`);
      const prm = await (await fetch(m[1])).json();
      assert.equal(prm.resource, srv.url + path);
    }
  });

  test('unknown /.well-known/* paths are JSON 404s', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/demo/other', '/.well-known/oauth-protected-resource/a/b/mcp', '/.well-known/nothing-here', '/.well-known/oauth-protected-resource/demo/mcp/extra']) {
      const r = await fetch(srv.url + path, { redirect: 'manual' });
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/, path);
    }
  });

  test('CORS: preflight for allowed origins lists the MCP headers; responses expose WWW-Authenticate and friends; foreign origins get 403', async () => {
    const pre = await fetch(`${srv.url}/demo/mcp`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version, mcp-param-region' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), ALLOWED);
    const allowed = (pre.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const h of ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-session-id', 'last-event-id', 'mcp-param-region']) assert.ok(allowed.includes(h), h);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);

    const anon = await fetch(`${srv.url}/demo/mcp`, { method: 'POST', headers: { origin: ALLOWED } });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('access-control-allow-origin'), ALLOWED);
    const exposed = (anon.headers.get('access-control-expose-headers') ?? '').toLowerCase();
    for (const h of ['www-authenticate', 'mcp-session-id', 'ratelimit', 'ratelimit-policy', 'retry-after']) assert.ok(exposed.split(/,\s*/).includes(h), h);

    const foreign = await fetch(`${srv.url}/demo/mcp`, { method: 'OPTIONS', headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' } });
    assert.equal(foreign.status, 403);
    const prmPre = await fetch(`${srv.url}/.well-known/oauth-protected-resource/demo/mcp`, { method: 'OPTIONS', headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' } });
    assert.equal(prmPre.status, 204);
    assert.equal(prmPre.headers.get('access-control-allow-origin'), '*');
  });

  test('the shared /mcp endpoint serves the workspace carried in the token', async () => {
    const shared = await mintAccessToken(srv.services, { endpoint: 'shared', workspace: 'acme' });
    const r = await legacyCall(`${srv.url}/mcp`, shared.accessToken, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    assert.equal(r.status, 200);
    assert.match(r.body.result.instructions, /Acme Corp/);
    const list = await legacyCall(`${srv.url}/mcp/`, shared.accessToken, 'tools/call', { name: 'search_contacts', arguments: {} });
    assert.deepEqual(list.body.result.structuredContent.contacts, [], 'acme has no demo data');
  });

  test('every MCP response carries a request id and the JSON security headers', async () => {
    const headerSets = [
      (await fetch(`${srv.url}/demo/mcp`, { method: 'POST' })).headers,
      (await fetch(`${srv.url}/nope/mcp`, { method: 'POST' })).headers,
      (await fetch(`${srv.url}/.well-known/oauth-protected-resource/demo/mcp`)).headers,
      (await mcpRequest(`${srv.url}/demo/mcp`, { token, body: { jsonrpc: '2.0', id: 1, method: 'ping' } })).headers,
    ];
    for (const h of headerSets) {
      assert.match(h.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      assert.equal(h.get('x-content-type-options'), 'nosniff');
      assert.equal(h.get('referrer-policy'), 'no-referrer');
    }
    const mine = await mcpRequest(`${srv.url}/demo/mcp`, { token, body: { jsonrpc: '2.0', id: 1, method: 'ping' }, headers: { 'x-request-id': 'client-chosen-id-1' } });
    assert.equal(mine.headers.get('x-request-id'), 'client-chosen-id-1');
    assert.ok(srv.logs.some((l) => l.includes('"requestId":"client-chosen-id-1"') && l.includes('"path":"/demo/mcp"')), 'the request id is in the log');
  });
});

describe('MCP endpoints: shared endpoint off, per-workspace issuers', () => {
  test('no /mcp when the shared endpoint is disabled; metadata names the workspace issuer in workspace issuer mode', async () => {
    const srv = await startTestServer({ env: { TOLLGATE_SHARED_ENDPOINT: 'false', TOLLGATE_ISSUER_MODE: 'workspace' } });
    try {
      assert.equal((await fetch(`${srv.url}/mcp`, { method: 'POST' })).status, 404);
      assert.equal((await fetch(`${srv.url}/.well-known/oauth-protected-resource/mcp`)).status, 404);
      const prm = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource/demo/mcp`)).json();
      assert.deepEqual(prm.authorization_servers, [`${srv.url}/demo`]);
      const { accessToken } = await mintAccessToken(srv.services);
      const r = await legacyCall(`${srv.url}/demo/mcp`, accessToken, 'ping');
      assert.equal(r.status, 200);
    } finally {
      await srv.stop();
    }
  });
});
