// Issue 19 §2 and §6 — API keys: hashed, scoped (read/write; every workspace or one), expiring, revocable; a key for
// workspace A is refused on workspace B; OAuth access tokens are refused by the API and API keys by MCP endpoints;
// bad input is a problem answer, never a 500; prices and suspension set through the API reach metering.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool } from './helpers/mcp-http.ts';

let server: TestServer;
let admin: string;
let demoId: string;
const keys = () => server.services.api.keys;

before(async () => {
  server = await startTestServer({ env: { TOLLGATE_INITIAL_CREDITS: '1000' } });
  admin = (await keys().createKey({ name: 'backend', access: 'write' })).secret;
  await server.services.createWorkspace({ slug: 'beta-co' });
  demoId = (await server.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id;
});
after(async () => server.stop());

const api = (path: string, token: string | undefined, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${server.url}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
  });

async function problem(res: Response, status: number, code: string) {
  const text = await res.text();
  assert.equal(res.status, status, text.slice(0, 300));
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const body = JSON.parse(text);
  assert.equal(body.code, code, text);
  assert.equal(body.status, status);
  assert.ok(body.request_id && body.title && body.detail && body.type);
  return body;
}

test('a key is stored only as a hash and shown once', async () => {
  const { key, secret } = await keys().createKey({ name: 'hash check', access: 'read' });
  assert.match(secret, /^tgk_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
  const rows = await server.services.store.db.selectFrom('api_keys').selectAll().where('id', '=', key.id).execute();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(secret.slice(21)), 'the secret part is not stored');
  assert.ok(!(await keys().listKeys()).some((k) => JSON.stringify(k).includes(secret.slice(21))));
});

test('no key, a malformed key, an unknown key: 401 with a Bearer challenge', async () => {
  const none = await api('/workspaces', undefined);
  await problem(none, 401, 'unauthorized');
  assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="tollgate-api"$/);
  for (const token of ['tgk_short', `tgk_${'A'.repeat(16)}_${'b'.repeat(43)}`, admin.slice(0, -1) + (admin.endsWith('a') ? 'b' : 'a')]) {
    const res = await api('/workspaces', token);
    await problem(res, 401, 'invalid_token');
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  }
  await problem(await fetch(`${server.url}/api/v1/workspaces`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'invalid_token');
  // RFC 6750 §2.3: never from the query string.
  await problem(await fetch(`${server.url}/api/v1/workspaces?access_token=${admin}`), 401, 'unauthorized');
});

test('an OAuth access token is refused by the API, and an API key by MCP endpoints', async () => {
  const { accessToken } = await mintAccessToken(server.services);
  const body = await problem(await api('/workspaces', accessToken), 401, 'invalid_token');
  assert.match(body.detail, /OAuth access tokens are not accepted/);
  const mcp = await callTool(`${server.url}/demo/mcp`, admin, 'check_credit_balance');
  assert.equal(mcp.status, 401);
  assert.match(mcp.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  const shared = await callTool(`${server.url}/mcp`, admin, 'check_credit_balance');
  assert.equal(shared.status, 401);
});

test('revoked and expired keys stop working at once', async () => {
  const { key, secret } = await keys().createKey({ name: 'short-lived', access: 'read' });
  assert.equal((await api('/workspaces', secret)).status, 200);
  assert.equal(await keys().revokeKey(key.id), true);
  assert.match((await problem(await api('/workspaces', secret), 401, 'invalid_token')).detail, /revoked/);
  const other = await keys().createKey({ name: 'expiring', access: 'read', expiresAt: Date.now() + 3_600_000 });
  await server.services.store.db.updateTable('api_keys').set({ expires_at: Date.now() - 1 }).where('id', '=', other.key.id).execute();
  assert.match((await problem(await api('/workspaces', other.secret), 401, 'invalid_token')).detail, /expired/);
});

test('a key for workspace A is refused on workspace B, whether B exists or not, and lists only A', async () => {
  const { secret } = await keys().createKey({ name: 'demo only', access: 'write', workspaceId: demoId });
  assert.equal((await api('/workspaces/demo/credits', secret)).status, 200);
  for (const path of ['/workspaces/beta-co', '/workspaces/beta-co/credits', '/workspaces/beta-co/members', '/workspaces/beta-co/usage.csv', '/workspaces/no-such-ws/credits']) {
    await problem(await api(path, secret), 403, 'forbidden_workspace');
  }
  await problem(await api('/workspaces/beta-co/members', secret, { method: 'POST', body: { email: 'x@beta.example', role: 'owner' } }), 403, 'forbidden_workspace');
  const list = await (await api('/workspaces', secret)).json();
  assert.deepEqual(list.data.map((w: { slug: string }) => w.slug), ['demo']);
  const byExternal = await (await api('/workspaces?external_id=nothing-here', secret)).json();
  assert.deepEqual(byExternal.data, []);
  // Deployment-wide operations need a key for every workspace; a workspace key cannot grant itself credits.
  await problem(await api('/workspaces/demo/credits/grants', secret, { method: 'POST', body: { amount: 5 }, headers: { 'idempotency-key': '"self"' } }), 403, 'insufficient_scope');
  await problem(await api('/prices/search_contacts', secret, { method: 'PUT', body: { cost: 0 } }), 403, 'insufficient_scope');
  await problem(await api('/workspaces', secret, { method: 'POST', body: { slug: 'mine-now' } }), 403, 'insufficient_scope');
});

test('a read key reads and cannot write', async () => {
  const { secret } = await keys().createKey({ name: 'reader', access: 'read' });
  assert.equal((await api('/workspaces/demo/credits/ledger', secret)).status, 200);
  await problem(await api('/workspaces/demo/suspend', secret, { method: 'POST' }), 403, 'insufficient_scope');
  await problem(await api('/plans/x', secret, { method: 'DELETE' }), 403, 'insufficient_scope');
});

test('bad input is answered with problem details, never a 500', async () => {
  const bodies: [string, string | undefined][] = [
    ['not json', 'application/json'],
    ['{"slug":', 'application/json'],
    ['[]', 'application/json'],
    ['null', 'application/json'],
    ['"demo"', 'application/json'],
    ['{"slug": {"$gt": ""}}', 'application/json'],
    ['{"slug": "a".repeat(5000)}', 'application/json'],
    ['{"slug":"ok-slug","name":123}', 'application/json'],
    ['slug=evil', 'application/x-www-form-urlencoded'],
    ['{"slug":"ok-slug"}', 'text/plain'],
    ['{"slug":"ok-slug"}', undefined],
    [JSON.stringify({ slug: 'x'.repeat(100) }), 'application/json'],
    [JSON.stringify({ slug: 'ok-slug', external_id: 'has space' }), 'application/json'],
    [JSON.stringify({ slug: 'ok-slug', external_id: '' }), 'application/json'],
  ];
  for (const [body, type] of bodies) {
    const res = await fetch(`${server.url}/api/v1/workspaces`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, ...(type ? { 'content-type': type } : {}) }, body });
    assert.ok(res.status === 400 || res.status === 415, `${body.slice(0, 40)} (${type}): ${res.status}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
  }
  const creditBodies = [{ amount: 0 }, { amount: 1.5 }, { amount: '10' }, { amount: 1e300 }, { amount: 10, reason: 'tool_call' }, { amount: 10, description: 'x'.repeat(501) }, {}];
  for (const [i, body] of creditBodies.entries()) {
    const res = await api('/workspaces/demo/credits/grants', admin, { method: 'POST', body, headers: { 'idempotency-key': `"bad-${i}"` } });
    const p = await problem(res, 400, 'invalid_request');
    assert.ok(Array.isArray(p.errors) && p.errors[0].pointer.startsWith('/body'), JSON.stringify(p));
  }
  for (const header of ['', '"unterminated', 'has space', `"${'k'.repeat(300)}"`]) {
    await problem(await api('/workspaces/demo/credits/grants', admin, { method: 'POST', body: { amount: 1 }, headers: { 'idempotency-key': header } }), 400, 'invalid_request');
  }
  const queries = ['limit=abc', 'limit=100000', 'limit=1&limit=2', 'cursor=%00', 'cursor=!!!', 'unknown=1', 'cursor=' + 'a'.repeat(300)];
  for (const q of queries) await problem(await api(`/workspaces?${q}`, admin), 400, 'invalid_request');
  await problem(await api('/workspaces/demo/members/%00', admin, { method: 'DELETE' }), 400, 'invalid_request');
  await problem(await api('/workspaces/demo/grants/not-a-grant', admin, { method: 'DELETE' }), 404, 'not_found');
  await problem(await api('/workspaces/demo/clients/unknown', admin), 404, 'not_found');
  await problem(await api('/users/nobody/grants', admin), 404, 'not_found');
  await problem(await api('/plans/default', admin, { method: 'DELETE' }), 400, 'invalid_request');
  await problem(await api('/workspaces/demo/plan', admin, { method: 'PUT', body: { plan: 'platinum' } }), 404, 'not_found');
  await problem(await api('/workspaces/demo/clients', admin, { method: 'POST', body: { client_name: 'evil', redirect_uris: ['javascript:alert(1)'] } }), 400, 'invalid_request');
  await problem(await api('/workspaces/demo/clients', admin, { method: 'POST', body: { client_name: 'mixed', redirect_uris: ['https://ok.example/cb', 'http://evil.example/cb'] } }), 400, 'invalid_request');
  assert.ok(!server.logs.some((l) => l.includes('"level":50')), 'no unhandled error was logged');
});

test('neither API keys nor client secrets reach the log', async () => {
  const created = await (await api('/workspaces/demo/clients', admin, { method: 'POST', body: { client_name: 'log check', redirect_uris: ['https://ok.example/cb'] } })).json();
  assert.ok(created.client_secret);
  const all = server.logs.join('\n');
  assert.ok(!all.includes(admin.slice(21)), 'API key');
  assert.ok(!all.includes(created.client_secret), 'client secret');
});

test('a price set through the API is what a tool call costs; a suspended workspace cannot call tools', async () => {
  const { accessToken } = await mintAccessToken(server.services, { workspace: 'beta-co' });
  const balance = async () => (await (await api('/workspaces/beta-co/credits', admin)).json()).balance;
  assert.equal((await api('/prices/search_contacts', admin, { method: 'PUT', body: { cost: 25 } })).status, 200);
  const before = await balance();
  const ok = await callTool(`${server.url}/beta-co/mcp`, accessToken, 'search_contacts', { query: 'a' });
  assert.equal(ok.status, 200);
  assert.notEqual(ok.body.result.isError, true, ok.text);
  assert.equal(await balance(), before - 25);

  assert.equal((await api('/workspaces/beta-co/suspend', admin, { method: 'POST' })).status, 200);
  // Suspension revoked the grant: its token is refused; a new grant's calls are refused inside MCP.
  assert.equal((await callTool(`${server.url}/beta-co/mcp`, accessToken, 'search_contacts', { query: 'a' })).status, 401);
  const fresh = await mintAccessToken(server.services, { workspace: 'beta-co' });
  const refused = await callTool(`${server.url}/beta-co/mcp`, fresh.accessToken, 'search_contacts', { query: 'a' });
  assert.equal(refused.status, 200);
  assert.equal(refused.body.result.isError, true);
  assert.match(refused.body.result.content[0].text, /suspended/);
  assert.equal(await balance(), before - 25, 'nothing charged while suspended');
  assert.equal((await api('/workspaces/beta-co/resume', admin, { method: 'POST' })).status, 200);
  const again = await callTool(`${server.url}/beta-co/mcp`, fresh.accessToken, 'search_contacts', { query: 'a' });
  assert.notEqual(again.body.result.isError, true, again.text);
  await api('/prices/search_contacts', admin, { method: 'DELETE' });
});
