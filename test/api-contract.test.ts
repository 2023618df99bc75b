// Issue 19 §1 and §6 — the management API run against its own OpenAPI document: every documented operation is
// called, every answer (success and problem) is validated against the document's schema with ajv, and routes the
// document does not describe are refused with problem details.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';

type Doc = { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }>; parameters: { name: string; in: string; required: boolean }[] }>>; components: { schemas: Record<string, unknown> } };

let server: TestServer;
let doc: Doc;
let ajv: Ajv2020;
let key: string;
const called = new Set<string>();

before(async () => {
  server = await startTestServer({ env: { TOLLGATE_INITIAL_CREDITS: '100', TOLLGATE_RATE_PLANS: 'pro:600' } });
  key = (await server.services.api.keys.createKey({ name: 'contract test', access: 'write' })).secret;
  doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
  ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)) && /T/.test(s));
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addFormat('email', /@/);
  ajv.addSchema({ $id: 'doc', components: doc.components });
});
after(async () => server.stop());

/** Finds the documented operation for a concrete request, or undefined. */
function operationFor(method: string, path: string) {
  for (const [template, methods] of Object.entries(doc.paths)) {
    const re = new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{[a-z_]+\}/g, '[^/]+') + '$');
    if (re.test(path) && methods[method]) return methods[method];
  }
  return undefined;
}

const schemaFor = (s: unknown) => JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"doc#/components/'));

/** Calls the API and validates the answer against the document: the operation's own schema or Problem. */
async function call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; expect?: number } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const op = operationFor(method, path.split('?')[0]);
  if (process.env.API_TEST_TRACE) console.error('call', method, path);
  assert.ok(op, `${method.toUpperCase()} ${path} is documented`);
  const res = await fetch(`${server.url}/api/v1${path}`, {
    method: method.toUpperCase(),
    headers: { authorization: `Bearer ${key}`, ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const status = String(res.status);
  const documented = op.responses[status] ?? op.responses.default;
  assert.ok(documented, `${op.operationId}: status ${status} is documented`);
  const [mediaType, content] = Object.entries(documented.content ?? {})[0];
  assert.equal(res.headers.get('content-type')?.split(';')[0], mediaType, `${op.operationId}: media type`);
  const text = await res.text();
  const body: any = mediaType.endsWith('json') ? JSON.parse(text) : text;
  const validate = ajv.compile(schemaFor(content.schema));
  assert.ok(validate(body), `${op.operationId} ${status}: ${JSON.stringify(validate.errors)} in ${text.slice(0, 300)}`);
  if (options.expect !== undefined) assert.equal(res.status, options.expect, `${op.operationId}: ${text.slice(0, 300)}`);
  called.add(op.operationId);
  return { status: res.status, body, headers: res.headers };
}

test('the document is OpenAPI 3.1 and every operation has an id, a success schema and problem answers', () => {
  assert.equal((doc as unknown as { openapi: string }).openapi, '3.1.0');
  for (const methods of Object.values(doc.paths)) {
    for (const op of Object.values(methods)) {
      assert.match(op.operationId, /^[a-z][A-Za-z]+$/);
      assert.ok(Object.keys(op.responses).some((s) => /^2/.test(s)), op.operationId);
      assert.ok(op.responses['401'] && op.responses['400'], `${op.operationId} documents its problems`);
    }
  }
});

test('every documented operation, called in a provisioning order, answers as documented', async () => {
  const ws = await call('post', '/workspaces', { body: { slug: 'acme-corp', name: 'Acme', external_id: 'cus_123' }, expect: 201 });
  assert.equal(ws.body.external_id, 'cus_123');
  assert.equal(ws.body.balance, 100);
  await call('get', '/workspaces?limit=1', { expect: 200 });
  const found = await call('get', '/workspaces?external_id=cus_123', { expect: 200 });
  assert.deepEqual(found.body.data.map((w: { slug: string }) => w.slug), ['acme-corp']);
  await call('get', '/workspaces/acme-corp', { expect: 200 });
  const renamed = await call('patch', '/workspaces/acme-corp', { body: { name: 'Acme Corp' }, expect: 200 });
  assert.equal(renamed.body.name, 'Acme Corp');

  const owner = await call('post', '/workspaces/acme-corp/members', { body: { email: 'ceo@acme.example', role: 'owner', name: 'Ada' }, expect: 200 });
  const second = await call('post', '/workspaces/acme-corp/members', { body: { email: 'dev@acme.example', role: 'member' }, expect: 200 });
  await call('get', '/workspaces/acme-corp/members?limit=1', { expect: 200 });
  const promoted = await call('patch', `/workspaces/acme-corp/members/${second.body.user_id}`, { body: { role: 'admin' }, expect: 200 });
  assert.equal(promoted.body.role, 'admin');
  await call('delete', `/workspaces/acme-corp/members/${second.body.user_id}`, { expect: 200 });
  const invited = await call('post', '/workspaces/acme-corp/invitations', { body: { email: 'cfo@acme.example', role: 'owner' }, expect: 201 });
  assert.deepEqual([invited.body.role, invited.body.state, invited.body.mailed], ['owner', 'pending', false]);
  const open = await call('get', '/workspaces/acme-corp/invitations?limit=5', { expect: 200 });
  assert.deepEqual(open.body.data.map((i: { id: string }) => i.id), [invited.body.id]);
  await call('delete', `/workspaces/acme-corp/invitations/${invited.body.id}`, { expect: 200 });

  const granted = await call('post', '/workspaces/acme-corp/credits/grants', { body: { amount: 500, reason: 'purchase', description: 'order 1' }, headers: { 'idempotency-key': '"order-1"' }, expect: 201 });
  assert.equal(granted.body.balance, 600);
  const deducted = await call('post', '/workspaces/acme-corp/credits/deductions', { body: { amount: 50 }, headers: { 'idempotency-key': '"adj-1"' }, expect: 201 });
  assert.equal(deducted.body.balance, 550);
  const balance = await call('get', '/workspaces/acme-corp/credits', { expect: 200 });
  assert.equal(balance.body.balance, 550);
  const ledger = await call('get', '/workspaces/acme-corp/credits/ledger?reason=purchase&limit=5', { expect: 200 });
  assert.deepEqual(ledger.body.data.map((e: { amount: number }) => e.amount), [500]);

  await call('put', '/plans/gold', { body: { workspace_per_minute: 1000, grant_per_minute: 100 }, expect: 200 });
  const plans = await call('get', '/plans', { expect: 200 });
  assert.deepEqual(plans.body.data.map((p: { name: string }) => p.name), ['default', 'gold', 'pro']);
  await call('put', '/workspaces/acme-corp/plan', { body: { plan: 'gold' }, expect: 200 });
  await call('put', '/prices/search_contacts', { body: { cost: 7 }, expect: 200 });
  const prices = await call('get', '/prices?limit=200', { expect: 200 });
  assert.equal(prices.body.data.find((p: { tool: string }) => p.tool === 'search_contacts')?.cost, 7);
  await call('delete', '/prices/search_contacts', { expect: 200 });

  const client = await call('post', '/workspaces/acme-corp/clients', { body: { client_name: 'Acme backend', redirect_uris: ['https://acme.example/callback'] }, expect: 201 });
  assert.ok(client.body.client_secret, 'the secret is shown once, on creation');
  const listed = await call('get', '/workspaces/acme-corp/clients', { expect: 200 });
  assert.ok(listed.body.data.every((c: Record<string, unknown>) => !('client_secret' in c)));
  const got = await call('get', `/workspaces/acme-corp/clients/${client.body.client_id}`, { expect: 200 });
  assert.equal(got.body.client_secret, undefined);
  const rotated = await call('post', `/workspaces/acme-corp/clients/${client.body.client_id}/secret`, { expect: 200 });
  assert.notEqual(rotated.body.client_secret, client.body.client_secret);

  const minted = await mintAccessToken(server.services, { workspace: 'acme-corp', email: 'ceo@acme.example', clientId: client.body.client_id });
  const grants = await call('get', '/workspaces/acme-corp/grants', { expect: 200 });
  assert.deepEqual(grants.body.data.map((g: { id: string }) => g.id), [minted.grantId]);
  const mine = await call('get', `/users/${owner.body.user_id}/grants`, { expect: 200 });
  assert.deepEqual(mine.body.data.map((g: { id: string }) => g.id), [minted.grantId]);
  const revoked = await call('delete', `/workspaces/acme-corp/grants/${minted.grantId}`, { expect: 200 });
  assert.ok(revoked.body.revoked_at);

  const usage = await call('get', '/workspaces/acme-corp/usage?days=7', { expect: 200 });
  assert.equal(usage.body.by_day.length, 7);
  const csv = await call('get', '/workspaces/acme-corp/usage.csv?days=2', { expect: 200 });
  assert.match(csv.body, /^dimension,key,calls,credits,errors\r\nday,\d{4}-\d{2}-\d{2},0,0,0\r\n/);

  const trail = await call('get', '/audit?workspace=acme-corp&action=member.&limit=2', { expect: 200 });
  assert.equal(trail.body.data.length, 2);
  assert.ok(trail.body.next_cursor);
  const trailCsv = await call('get', '/audit.csv?workspace=acme-corp&action=credits.', { expect: 200 });
  assert.match(trailCsv.body, /^id,at,actor_type,actor_id,actor_label,action,target_type,target_id,workspace_id,workspace,before,after,ip,user_agent,request_id\r\n/);

  await call('delete', `/workspaces/acme-corp/clients/${client.body.client_id}`, { expect: 200 });
  await call('delete', '/plans/gold', { expect: 200 });
  const suspended = await call('post', '/workspaces/acme-corp/suspend', { expect: 200 });
  assert.equal(suspended.body.suspended, true);
  const resumed = await call('post', '/workspaces/acme-corp/resume', { expect: 200 });
  assert.equal(resumed.body.suspended, false);
  await call('delete', '/workspaces/acme-corp', { expect: 200 });
  await call('get', '/workspaces/acme-corp', { expect: 404 });

  const documented = Object.values(doc.paths).flatMap((m) => Object.values(m).map((o) => o.operationId));
  assert.deepEqual(documented.filter((id) => !called.has(id)), [], 'every documented operation was called');
});

test('problem answers are documented and valid too: bad input, conflicts, missing idempotency key', async () => {
  await call('post', '/workspaces', { body: { slug: 'Not A Slug' }, expect: 400 });
  await call('post', '/workspaces', { body: { slug: 'demo' }, expect: 409 });
  await call('post', '/workspaces', { body: { slug: 'ok-slug', extra: 1 }, expect: 400 });
  await call('post', '/workspaces/demo/credits/grants', { body: { amount: 1 }, expect: 400 });
  await call('post', '/workspaces/demo/credits/grants', { body: { amount: -5 }, headers: { 'idempotency-key': '"k"' }, expect: 400 });
  await call('post', '/workspaces/demo/credits/deductions', { body: { amount: 1_000_000 }, headers: { 'idempotency-key': '"too-much"' }, expect: 409 });
  await call('get', '/workspaces?limit=0', { expect: 400 });
  await call('get', '/workspaces/demo/credits/ledger?reason=stolen', { expect: 400 });
  await call('get', '/workspaces/demo/usage?from=2026-02-30', { expect: 400 });
  await call('get', '/workspaces/nope-nope', { expect: 404 });
});

test('routes the document does not describe are refused: 404 and 405 problem details, never a 500', async () => {
  const probes: [string, string, number][] = [
    ['GET', '/api/v1/', 404],
    ['GET', '/api/v1/admin', 404],
    ['GET', '/api/v1/workspaces/demo/secrets', 404],
    ['GET', '/api/v1/workspaces/..%2F..%2Fetc%2Fpasswd', 400],
    ['PUT', '/api/v1/workspaces', 405],
    ['DELETE', '/api/v1/plans', 405],
    ['POST', '/api/v1/workspaces/demo', 405],
    ['POST', '/api/v1/openapi.json', 405],
    ['GET', '/api/v1/workspaces/%E0%A4%A/members', 400],
  ];
  for (const [method, path, status] of probes) {
    const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    assert.equal(res.status, status, `${method} ${path}: ${text.slice(0, 200)}`);
    assert.equal(res.headers.get('content-type'), 'application/problem+json', `${method} ${path}`);
    const validate = ajv.compile({ $ref: 'doc#/components/schemas/Problem' });
    assert.ok(validate(JSON.parse(text)), `${method} ${path}`);
    if (status === 405) assert.ok(res.headers.get('allow'));
  }
});

test('the reference page is rendered from the document, on the server, with no external resource', async () => {
  const res = await fetch(`${server.url}/api/v1/docs`);
  assert.equal(res.status, 200);
  const html = await res.text();
  for (const methods of Object.values(doc.paths)) for (const op of Object.values(methods)) assert.ok(html.includes(`id="op-${op.operationId}"`), op.operationId);
  assert.ok(!/(src|href)="https?:/.test(html), 'no CDN or other origin');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
});
