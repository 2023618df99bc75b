// Issue: credits §6 and §7 — the payment webhook adds credits once per idempotency key; forgeries, replays and
// clock skew are refused, with clear JSON errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { signatureHeader } from '../src/credits/webhook-signature.ts';

const SECRET = 'whsec_4a1d8c2e9b7f';

forEachDialect('credits: payment webhook', (dialect) => {
  let server: TestServer;
  let workspaceId: string;
  before(async () => {
    server = await startTestServer({ dialect, env: { TOLLGATE_WEBHOOK_SECRET: SECRET, TOLLGATE_WEBHOOK_TOLERANCE_SECONDS: '300', TOLLGATE_INITIAL_CREDITS: '100' } });
    workspaceId = (await server.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id;
  });
  after(async () => server.stop());

  const deliver = (payload: unknown, options: { secret?: string; timestamp?: number; body?: string; signature?: string } = {}) => {
    const body = options.body ?? JSON.stringify(payload);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    return fetch(`${server.url}/api/webhooks/credits`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'tollgate-timestamp': timestamp, 'tollgate-signature': options.signature ?? signatureHeader(options.secret ?? SECRET, timestamp, body) },
      body,
    });
  };
  const balance = () => server.services.credits.getBalance(workspaceId);

  test('a signed purchase adds the credits as a purchase ledger row', async () => {
    const res = await deliver({ id: 'evt_001', workspace: 'demo', credits: 500, description: 'Order 1001' });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual({ ...body, ledger_id: 0, request_id: '' }, { status: 'applied', id: 'evt_001', workspace: 'demo', credits: 500, balance: 600, ledger_id: 0, request_id: '' });
    assert.equal(await balance(), 600);
    const [row] = (await server.services.credits.listLedger(workspaceId, { limit: 1 })).entries;
    assert.deepEqual([row.reason, row.amount, row.description], ['purchase', 500, 'Order 1001']);
  });

  test('a replay (same idempotency key) is a no-op, even ten at once', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver({ id: 'evt_002', workspace: 'demo', credits: 50 })));
    const statuses = await Promise.all(results.map(async (r) => [r.status, (await r.json()).status]));
    assert.equal(statuses.filter(([s, x]) => s === 200 && x === 'applied').length, 1);
    assert.equal(statuses.filter(([s, x]) => s === 200 && x === 'duplicate').length, 9);
    assert.equal(await balance(), 650);
    const again = await deliver({ id: 'evt_002', workspace: 'demo', credits: 50 });
    assert.equal((await again.json()).status, 'duplicate');
    assert.equal(await balance(), 650);
  });

  test('the same key with a different body is a conflict, not a second purchase', async () => {
    const res = await deliver({ id: 'evt_002', workspace: 'demo', credits: 5000 });
    assert.equal(res.status, 409);
    assert.equal((await res.json()).error, 'idempotency_conflict');
    assert.equal(await balance(), 650);
  });

  test('forgeries are refused with 401 and change nothing: wrong secret, altered body, bad signature', async () => {
    const good = JSON.stringify({ id: 'evt_003', workspace: 'demo', credits: 1 });
    const ts = Math.floor(Date.now() / 1000);
    const forged = [
      await deliver(null, { body: good, secret: 'guess' }),
      await deliver(null, { body: good.replace('"credits":1', '"credits":100000'), signature: signatureHeader(SECRET, ts, good), timestamp: ts }),
      await deliver(null, { body: good, signature: 'v1=' + '0'.repeat(64) }),
    ];
    for (const res of forged) {
      assert.equal(res.status, 401);
      const body = await res.json();
      assert.equal(body.error, 'invalid_signature');
      assert.ok(body.request_id);
    }
    const unsigned = await fetch(`${server.url}/api/webhooks/credits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: good });
    assert.equal(unsigned.status, 400);
    assert.match((await unsigned.json()).error_description, /Tollgate-Timestamp/);
    assert.equal(await balance(), 650);
  });

  test('clock skew beyond the tolerance is refused, even when correctly signed', async () => {
    const old = await deliver({ id: 'evt_004', workspace: 'demo', credits: 1 }, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    assert.equal(old.status, 401);
    assert.equal((await old.json()).error, 'timestamp_out_of_tolerance');
    const future = await deliver({ id: 'evt_004', workspace: 'demo', credits: 1 }, { timestamp: Math.floor(Date.now() / 1000) + 3600 });
    assert.equal(future.status, 401);
    assert.equal(await balance(), 650);
  });

  test('clear errors for bad payloads and unknown workspaces', async () => {
    const cases: [unknown, number, string][] = [
      [{ id: 'evt_5', workspace: 'demo', credits: -5 }, 400, 'invalid_request'],
      [{ id: 'evt_5', workspace: 'demo', credits: 1.5 }, 400, 'invalid_request'],
      [{ workspace: 'demo', credits: 5 }, 400, 'invalid_request'],
      [{ id: 'evt_5', workspace: 'nope', credits: 5 }, 422, 'unknown_workspace'],
      [[1, 2], 400, 'invalid_request'],
    ];
    for (const [payload, status, error] of cases) {
      const res = await deliver(payload);
      assert.equal(res.status, status, JSON.stringify(payload));
      assert.equal((await res.json()).error, error);
    }
    const notJson = await deliver(null, { body: '{oops' });
    assert.equal(notJson.status, 400);
    assert.equal(await balance(), 650);
    assert.equal(await server.services.credits.sumLedger(workspaceId), 650);
  });
});

test('without a webhook secret the endpoint is disabled (404) and says how to enable it', async () => {
  const server = await startTestServer({});
  try {
    const res = await fetch(`${server.url}/api/webhooks/credits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 404);
    assert.match((await res.json()).error_description, /TOLLGATE_WEBHOOK_SECRET/);
  } finally {
    await server.stop();
  }
});
