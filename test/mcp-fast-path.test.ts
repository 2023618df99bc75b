// Requirement (issue 8 §3, MCP endpoints): under `tollgate serve` a POST to an MCP endpoint is answered straight from
// node:http; the answer — status, body, headers — is the one the Hono route gives (the app embedded elsewhere), for
// successes and refusals alike. Request ids, and the rate-limit headroom that each call uses up, naturally differ.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Hono } from 'hono';
import type { AppEnv } from '../src/http/env.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { MODERN, modernMeta } from './helpers/mcp-http.ts';

let srv: TestServer;
let app: Hono<AppEnv>;
let token: string;
let contactId: string;
before(async () => {
  srv = await startTestServer({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' }, configureApp: (a) => (app = a) });
  token = (await mintAccessToken(srv.services)).accessToken;
  const ws = await srv.services.accounts.workspaces.requireWorkspace('demo');
  const { crmStore } = await import('../src/crm/store.ts');
  contactId = (await crmStore(srv.services.store).searchContacts(ws.id, { limit: 1, offset: 0 })).contacts[0].id;
});
after(async () => srv.stop());

const VARYING = new Set(['x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'ratelimit']);

async function both(path: string, init: { headers?: Record<string, string>; body?: string }) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...init.headers };
  const viaNode = await fetch(srv.url + path, { method: 'POST', headers, body: init.body ?? '' });
  const viaHono = await app.request(srv.url + path, { method: 'POST', headers, body: init.body ?? '' });
  const normalize = async (r: Response) => {
    const headers: [string, string][] = [];
    r.headers.forEach((v, k) => (VARYING.has(k) ? undefined : headers.push([k, v])));
    return {
      status: r.status,
      body: (await r.text()).replace(/"request_id":"[^"]+"/, '"request_id":"…"'),
      headers: Object.fromEntries(headers.sort()),
      requestId: r.headers.get('x-request-id'),
    };
  };
  return { node: await normalize(viaNode), hono: await normalize(viaHono) };
}

const call = (method: string, params?: Record<string, unknown>, id: number | null = 1) => JSON.stringify({ jsonrpc: '2.0', ...(id === null ? {} : { id }), method, ...(params && { params }) });

test('the node:http fast path and the Hono route give the same answers', async () => {
  const auth = { authorization: `Bearer ${token}` };
  const legacy = { ...auth, 'mcp-protocol-version': '2025-06-18' };
  const cases: [string, string, { headers?: Record<string, string>; body?: string }][] = [
    ['tools/call get_contact', '/demo/mcp', { headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: contactId } }) }],
    ['tools/call, unknown contact (a tool error, refunded)', '/demo/mcp', { headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: 'ct_nonexistent00' } }) }],
    ['tools/call, invalid arguments', '/demo/mcp/', { headers: legacy, body: call('tools/call', { name: 'get_contact', arguments: { id: 7 } }) }],
    ['tools/list', '/demo/mcp', { headers: legacy, body: call('tools/list') }],
    ['initialize', '/demo/mcp', { headers: auth, body: call('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }) }],
    ['2026-07-28 tools/call', '/demo/mcp', { headers: { ...auth, 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'get_contact' }, body: call('tools/call', { name: 'get_contact', arguments: { id: contactId }, _meta: modernMeta }) }],
    ['a notification', '/demo/mcp', { headers: legacy, body: call('notifications/initialized', undefined, null) }],
    ['an unknown method', '/demo/mcp', { headers: legacy, body: call('nope/nothing') }],
    ['malformed JSON', '/demo/mcp', { headers: legacy, body: '{"jsonrpc":' }],
    ['an SSE-only client', '/demo/mcp', { headers: { ...legacy, accept: 'text/event-stream' }, body: call('tools/list') }],
    ['the wrong content type', '/demo/mcp', { headers: { ...legacy, 'content-type': 'text/plain' }, body: call('tools/list') }],
    ['no token', '/demo/mcp', { body: call('tools/list') }],
    ['a bad token', '/demo/mcp', { headers: { authorization: 'Bearer not.a.jwt' }, body: call('tools/list') }],
    ['two Authorization headers', '/demo/mcp', { headers: { authorization: `Bearer ${token}, Bearer ${token}` }, body: call('tools/list') }],
    ['a token in the query string', '/demo/mcp?access_token=x', { headers: legacy, body: call('tools/list') }],
    ['a token for another workspace', '/nope/mcp', { headers: legacy, body: call('tools/list') }],
    ['a forbidden origin', '/demo/mcp', { headers: { ...legacy, origin: 'https://evil.example' }, body: call('tools/list') }],
    ['the shared endpoint', '/mcp', { headers: legacy, body: call('tools/list') }],
  ];
  for (const [name, path, init] of cases) {
    const { node, hono } = await both(path, init);
    assert.ok(node.requestId && hono.requestId, `${name}: a request id on both`);
    assert.deepEqual({ ...node, requestId: 0 }, { ...hono, requestId: 0 }, name);
  }
});

test('a client\'s own sane request id is echoed by the fast path', async () => {
  const r = await fetch(`${srv.url}/demo/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'client-req-12345' }, body: call('tools/list') });
  assert.equal(r.headers.get('x-request-id'), 'client-req-12345');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.ok(srv.logs.some((l) => l.includes('"requestId":"client-req-12345"') && l.includes('"msg":"request"') && l.includes('"path":"/demo/mcp"')));
});

test('the comparison above is real: POSTs to the endpoint are served by the fast path, other methods by Hono', async () => {
  // Header names keep the casing they are written with: the fast path writes `Content-Type`, Hono's Headers lower-case.
  const rawNames = (method: string) =>
    new Promise<string[]>((resolve, reject) => {
      const req = request(`${srv.url}/demo/mcp`, { method, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.rawHeaders.filter((_, i) => i % 2 === 0)));
      });
      req.on('error', reject);
      req.end(method === 'POST' ? '{}' : undefined);
    });
  assert.ok((await rawNames('POST')).includes('Content-Type'));
  assert.ok((await rawNames('GET')).includes('content-type'));
});
