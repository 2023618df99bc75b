// Requirement (issue "One HTTP core"): every endpoint of the endpoint table (the MCP endpoints and their metadata,
// the token endpoint) is written once and served by two thin adapters — node:http (`tollgate serve`'s hot path) and
// Hono (an app embedded elsewhere). One case table of requests and expected answers runs through both: each case
// must give its expected status and headers, and the two answers must be the same but for what varies by nature
// (request ids, tokens, dates, the rate-limit headroom each call uses up).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Hono } from 'hono';
import type { AppEnv } from '../src/http/env.ts';
import { startTestServer, ADMIN_EMAIL, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { MODERN, modernMeta } from './helpers/mcp-http.ts';
import { workspaceResourceUrl } from '../src/oauth/resource.ts';

const VARYING = new Set(['x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'ratelimit']);
const FORM = 'application/x-www-form-urlencoded';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

interface Setup {
  srv: TestServer;
  app: Hono<AppEnv>;
  publicClient: string;
  confidential: { id: string; secret: string };
  accessToken: string;
  contactId: string;
  /** A fresh refresh token of the public client's grant (each is single-use). */
  refreshToken(): Promise<string>;
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  let app!: Hono<AppEnv>;
  // The node:http adapter serves the fetches below; `app.request` goes through the Hono adapter.
  const srv = await startTestServer({ adapter: 'node', env: { TOLLGATE_REFRESH_GRACE_SECONDS: '30', TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000', TOLLGATE_BODY_LIMIT_BYTES: '4096', ...env }, configureApp: (a) => (app = a) });
  const { oauth, accounts } = srv.services;
  const meta = { redirectUris: ['http://127.0.0.1/callback'], applicationType: 'native' as const, grantTypes: ['authorization_code', 'refresh_token'], scope: null, extra: {} };
  const { client } = await oauth.clients.createClient({ ...meta, clientName: 'Adapter public', tokenEndpointAuthMethod: 'none' }, 'dynamic');
  const conf = await oauth.clients.createClient({ ...meta, clientName: 'Adapter confidential', tokenEndpointAuthMethod: 'client_secret_basic' }, 'static');
  const user = (await accounts.users.findUserByEmail(ADMIN_EMAIL))!;
  const ws = await accounts.workspaces.requireWorkspace('demo');
  const grant = await oauth.grants.createGrant({ clientId: client.clientId, userId: user.id, workspaceId: ws.id, resource: workspaceResourceUrl(srv.config.publicUrl, 'demo'), scopes: ['mcp:read', 'mcp:write'] });
  const { crmStore } = await import('../src/crm/store.ts');
  const contactId = (await crmStore(srv.services.store).searchContacts(ws.id, { limit: 1, offset: 0 })).contacts[0].id;
  return {
    srv,
    app,
    publicClient: client.clientId,
    confidential: { id: conf.client.clientId, secret: conf.clientSecret! },
    accessToken: (await mintAccessToken(srv.services)).accessToken,
    contactId,
    refreshToken: () => oauth.refreshTokens.issueRefreshToken(grant.id),
  };
}

type Normalized = { status: number; headers: Record<string, string>; body: unknown; requestId: string | null };

async function normalize(r: Response): Promise<Normalized> {
  const headers: [string, string][] = [];
  r.headers.forEach((v, k) => (VARYING.has(k) ? undefined : headers.push([k, v])));
  const text = await r.text();
  let body: unknown;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    // Token values and request ids differ by nature; their presence and everything else must not.
    for (const k of ['access_token', 'refresh_token', 'request_id']) if (typeof json[k] === 'string') json[k] = '…';
    body = json;
  } catch {
    body = text.replace(/"request_id":"[^"]+"/, '"request_id":"…"');
  }
  return { status: r.status, headers: Object.fromEntries(headers.sort()), body, requestId: r.headers.get('x-request-id') };
}

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | (() => Promise<string>);
  /** The expected answer: status, and headers that must be there with these values. */
  status: number;
  expectHeaders?: Record<string, string | RegExp>;
}

/** The same request through the node:http adapter and through the Hono adapter, checked against the case. */
async function runCase(s: Setup, c: Case): Promise<void> {
  const body = async () => (c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : c.body());
  const init = async () => ({ method: c.method ?? 'POST', headers: c.headers, body: await body() });
  const node = await normalize(await fetch(s.srv.url + c.path, await init()));
  const hono = await normalize(await s.app.request(s.srv.url + c.path, await init()));
  for (const [via, r] of [['node', node], ['hono', hono]] as const) {
    assert.equal(r.status, c.status, `${c.name} (${via}): ${JSON.stringify(r.body)}`);
    assert.ok(r.requestId, `${c.name} (${via}): a request id`);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', `${c.name} (${via}): security headers`);
    for (const [k, v] of Object.entries(c.expectHeaders ?? {})) {
      const got = r.headers[k.toLowerCase()];
      assert.ok(typeof v === 'string' ? got === v : v.test(got ?? ''), `${c.name} (${via}): ${k} is ${got}`);
    }
  }
  assert.deepEqual({ ...node, requestId: 0 }, { ...hono, requestId: 0 }, `${c.name}: the same answer on both adapters`);
}

const call = (method: string, params?: Record<string, unknown>, id: number | null = 1) => JSON.stringify({ jsonrpc: '2.0', ...(id === null ? {} : { id }), method, ...(params && { params }) });
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const CHALLENGE = /^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/demo\/mcp"/;

describe('the endpoint table on both HTTP adapters, root issuer', () => {
  let s: Setup;
  before(async () => (s = await setUp()));
  after(async () => s.srv.stop());

  test('MCP endpoints and their metadata: one case table, the same answers', async () => {
    const auth = { ...JSON_HEADERS, authorization: `Bearer ${s.accessToken}` };
    const legacy = { ...auth, 'mcp-protocol-version': '2025-06-18' };
    const cases: Case[] = [
      { name: 'tools/call get_contact', path: '/demo/mcp', headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: s.contactId } }), status: 200, expectHeaders: { 'content-type': 'application/json' } },
      { name: 'tools/call, unknown contact (a tool error)', path: '/demo/mcp', headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: 'ct_nonexistent00' } }), status: 200 },
      { name: 'tools/call, invalid arguments', path: '/demo/mcp/', headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: 7 } }), status: 200 },
      { name: 'tools/list', path: '/demo/mcp', headers: legacy, body: call('tools/list'), status: 200 },
      { name: 'initialize', path: '/demo/mcp', headers: auth, body: call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }), status: 200 },
      { name: '2026-07-28 tools/call', path: '/demo/mcp', headers: { ...auth, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_contact' }, body: call('tools/call', { name: 'get_contact', arguments: { id: s.contactId }, _meta: modernMeta }), status: 200 },
      { name: 'a notification', path: '/demo/mcp', headers: legacy, body: call('notifications/initialized', undefined, null), status: 202 },
      { name: 'an unknown method', path: '/demo/mcp', headers: legacy, body: call('nope/nothing'), status: 200 },
      { name: 'malformed JSON', path: '/demo/mcp', headers: legacy, body: '{"jsonrpc":', status: 400 },
      { name: 'a JSON body with a byte-order mark', path: '/demo/mcp', headers: legacy, body: `\uFEFF${call('tools/list')}`, status: 200 },
      { name: 'an SSE-only client', path: '/demo/mcp', headers: { ...legacy, accept: 'text/event-stream' }, body: call('tools/list'), status: 200, expectHeaders: { 'content-type': 'text/event-stream' } },
      { name: 'the wrong content type', path: '/demo/mcp', headers: { ...legacy, 'content-type': 'text/plain' }, body: call('tools/list'), status: 415 },
      { name: 'a body over the limit', path: '/demo/mcp', headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: 'x'.repeat(5000) } }), status: 413 },
      { name: 'no token', path: '/demo/mcp', headers: JSON_HEADERS, body: call('tools/list'), status: 401, expectHeaders: { 'www-authenticate': CHALLENGE } },
      { name: 'no token, GET', method: 'GET', path: '/demo/mcp', status: 401, expectHeaders: { 'www-authenticate': CHALLENGE } },
      { name: 'no token, DELETE', method: 'DELETE', path: '/demo/mcp', status: 401, expectHeaders: { 'www-authenticate': CHALLENGE } },
      { name: 'GET with a token', method: 'GET', path: '/demo/mcp', headers: { authorization: `Bearer ${s.accessToken}` }, status: 405, expectHeaders: { allow: 'POST, OPTIONS' } },
      { name: 'a bad token', path: '/demo/mcp', headers: { ...JSON_HEADERS, authorization: 'Bearer not.a.jwt' }, body: call('tools/list'), status: 401, expectHeaders: { 'www-authenticate': /error="invalid_token"/ } },
      { name: 'two Authorization headers', path: '/demo/mcp', headers: { ...JSON_HEADERS, authorization: `Bearer ${s.accessToken}, Bearer ${s.accessToken}` }, body: call('tools/list'), status: 401 },
      { name: 'a token in the query string', path: '/demo/mcp?access_token=x', headers: legacy, body: call('tools/list'), status: 400 },
      { name: 'an unknown workspace', path: '/nope/mcp', headers: legacy, body: call('tools/list'), status: 404 },
      { name: 'a percent-encoded path (Hono decodes it)', path: '/%64emo/mcp', headers: legacy, body: call('tools/list'), status: 200 },
      { name: 'a forbidden origin', path: '/demo/mcp', headers: { ...legacy, origin: 'https://evil.example' }, body: call('tools/list'), status: 403 },
      { name: 'a CORS preflight', method: 'OPTIONS', path: '/demo/mcp', headers: { origin: s.srv.config.publicUrl, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, mcp-protocol-version' }, status: 204, expectHeaders: { 'access-control-allow-origin': s.srv.config.publicUrl } },
      { name: 'the shared endpoint, with a token for another endpoint', path: '/mcp', headers: legacy, body: call('tools/list'), status: 401 },
      { name: 'protected-resource metadata', method: 'GET', path: '/.well-known/oauth-protected-resource/demo/mcp', status: 200, expectHeaders: { 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=300' } },
      { name: 'protected-resource metadata, trailing slash', method: 'GET', path: '/.well-known/oauth-protected-resource/demo/mcp/', status: 200 },
      { name: 'protected-resource metadata, inserted after the workspace', method: 'GET', path: '/demo/.well-known/oauth-protected-resource', status: 200 },
      { name: 'protected-resource metadata, unknown workspace', method: 'GET', path: '/.well-known/oauth-protected-resource/nope/mcp', status: 404 },
      { name: 'protected-resource metadata, POST is not served', path: '/.well-known/oauth-protected-resource/demo/mcp', headers: JSON_HEADERS, body: '{}', status: 404 },
    ];
    for (const c of cases) await runCase(s, c);
  });

  test('the token endpoint: one case table, the same answers', async () => {
    const refresh = (extra: Record<string, string> = {}) => async () => form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken(), ...extra });
    const post = (name: string, body: Case['body'], status: number, headers: Record<string, string> = {}, more: Partial<Case> = {}): Case => ({ name, path: '/token', headers: { 'content-type': FORM, ...headers }, body, status, expectHeaders: { 'cache-control': 'no-store', 'access-control-allow-origin': '*' }, ...more });
    const cases: Case[] = [
      post('a refresh', refresh(), 200),
      post('a refresh that narrows the scope', refresh({ scope: 'mcp:read' }), 200),
      post('a refresh that widens the scope', refresh({ scope: 'mcp:read openid' }), 400),
      post('a refresh from a browser origin', refresh(), 200, { origin: 'https://app.example' }),
      post('a refresh with a byte-order mark', async () => `\uFEFF${await refresh()()}`, 200),
      post('an unknown refresh token', form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: 'nope' }), 400),
      post('no refresh token', form({ grant_type: 'refresh_token', client_id: s.publicClient }), 400),
      post('an unknown client', form({ grant_type: 'refresh_token', client_id: 'nobody', refresh_token: 'x' }), 401),
      post('no client at all', form({ grant_type: 'refresh_token', refresh_token: 'x' }), 401),
      post('a public client sending a secret', form({ grant_type: 'refresh_token', client_id: s.publicClient, client_secret: 's', refresh_token: 'x' }), 401),
      post('a confidential client with a wrong secret (Basic)', form({ grant_type: 'refresh_token', refresh_token: 'x' }), 401, { authorization: basic(s.confidential.id, 'wrong') }),
      post('a confidential client, right secret, unknown token', form({ grant_type: 'refresh_token', refresh_token: 'x' }), 400, { authorization: basic(s.confidential.id, s.confidential.secret) }),
      post('a malformed Basic header', form({ grant_type: 'refresh_token', refresh_token: 'x' }), 401, { authorization: 'Basic !!!' }),
      post('no grant type', form({ client_id: s.publicClient }), 400),
      post('an unsupported grant type', form({ grant_type: 'password', client_id: s.publicClient }), 400),
      post('a parameter sent twice', `grant_type=refresh_token&client_id=${s.publicClient}&client_id=${s.publicClient}`, 400),
      post('JSON instead of a form', JSON.stringify({ grant_type: 'refresh_token' }), 400, { 'content-type': 'application/json' }),
      post('a code that does not exist', form({ grant_type: 'authorization_code', client_id: s.publicClient, code: 'nope', code_verifier: 'v'.repeat(43) }), 400),
      post('a body over the limit', form({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(5000) }), 413, {}, { expectHeaders: { 'access-control-allow-origin': '*' } }),
      { name: 'a CORS preflight', method: 'OPTIONS', path: '/token', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' }, status: 204, expectHeaders: { 'access-control-allow-origin': '*' } },
      { name: 'GET is not served', method: 'GET', path: '/token', status: 404, expectHeaders: { 'access-control-allow-origin': '*' } },
      { name: 'a workspace token endpoint (root issuer mode)', path: '/demo/token', headers: { 'content-type': FORM }, body: refresh(), status: 404 },
      { name: 'a trailing slash', path: '/token/', headers: { 'content-type': FORM }, body: form({ grant_type: 'refresh_token', refresh_token: 'x' }), status: 404 },
    ];
    for (const c of cases) await runCase(s, c);
  });

  test('a refresh presented again within the grace window gets the same successor on either adapter', async () => {
    const token = await s.refreshToken();
    const body = form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: token });
    const first = await fetch(`${s.srv.url}/token`, { method: 'POST', headers: { 'content-type': FORM }, body });
    const again = await s.app.request(`${s.srv.url}/token`, { method: 'POST', headers: { 'content-type': FORM }, body });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(((await first.json()) as { refresh_token: string }).refresh_token, ((await again.json()) as { refresh_token: string }).refresh_token);
  });

  test('one request line per request, a sane client request id echoed, no token in the log', async () => {
    for (const [i, path, headers, body] of [
      [1, '/token', { 'content-type': FORM }, form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken() })],
      [2, '/demo/mcp', { ...JSON_HEADERS, authorization: `Bearer ${s.accessToken}` }, call('tools/list')],
    ] as const) {
      const id = `client-adapter-req-${i}`;
      const r = await fetch(`${s.srv.url}${path}`, { method: 'POST', headers: { ...headers, 'x-request-id': id }, body });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-request-id'), id);
      const lines = s.srv.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === id && l.msg === 'request');
      assert.deepEqual(lines.map((l) => [l.method, l.path, l.status]), [['POST', path, 200]]);
    }
    assert.ok(!s.srv.logs.some((l) => l.includes('refresh_token=') || l.includes('"refresh_token"') || l.includes(s.accessToken)), 'no token in the logs');
  });

  test('a chunked body is served by both adapters', async () => {
    for (const via of ['node', 'hono'] as const) {
      const chunkedBody = new TextEncoder().encode(form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken() }));
      const init = { method: 'POST', headers: { 'content-type': FORM }, body: new ReadableStream({ start: (c) => (c.enqueue(chunkedBody), c.close()) }), duplex: 'half' } as RequestInit;
      const r = via === 'node' ? await fetch(`${s.srv.url}/token`, init) : await s.app.request(`${s.srv.url}/token`, init);
      assert.equal(r.status, 200, via);
    }
  });

  test('the comparison is real: the node:http adapter serves the table, Hono everything else', async () => {
    // Header names keep the casing they are written with: the node:http adapter writes `Content-Type`, Hono lower-case.
    const rawNames = (method: string, path: string) =>
      new Promise<string[]>((resolve, reject) => {
        const req = request(`${s.srv.url}${path}`, { method, headers: { 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.rawHeaders.filter((_, i) => i % 2 === 0)));
        });
        req.on('error', reject);
        req.end(method === 'POST' ? '{}' : undefined);
      });
    assert.ok((await rawNames('POST', '/demo/mcp')).includes('Content-Type'));
    assert.ok((await rawNames('GET', '/demo/mcp')).includes('Content-Type'));
    assert.ok((await rawNames('POST', '/token')).includes('Content-Type'));
    assert.ok((await rawNames('GET', '/healthz')).includes('content-type'));
  });
});

describe('the endpoint table on both HTTP adapters, per-workspace issuers', () => {
  let s: Setup;
  before(async () => (s = await setUp({ TOLLGATE_ISSUER_MODE: 'workspace' })));
  after(async () => s.srv.stop());

  test('a workspace issuer\'s token endpoint, an unknown workspace\'s and the root one answer alike on both adapters', async () => {
    const refresh = async () => form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken() });
    const post = (name: string, path: string, status: number): Case => ({ name, path, headers: { 'content-type': FORM }, body: refresh, status, expectHeaders: { 'access-control-allow-origin': '*' } });
    await runCase(s, post('a refresh at the workspace issuer', '/demo/token', 200));
    await runCase(s, post('a refresh at the root issuer (another authorization server)', '/token', 400));
    await runCase(s, post('an unknown workspace', '/nowhere/token', 404));
  });
});
