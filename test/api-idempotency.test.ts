// Issue 19 §1 and §6 — credit writes through the management API are idempotent with an Idempotency-Key header
// (draft-ietf-httpapi-idempotency-key-header): concurrent retries credit once, the same key with another body is
// 422, and the stored answer is replayed. On both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

forEachDialect('api: idempotent credit writes', (dialect) => {
  let server: TestServer;
  let key: string;
  let wsId: string;
  before(async () => {
    server = await startTestServer({ dialect, env: { TOLLGATE_INITIAL_CREDITS: '100' } });
    key = (await server.services.api.keys.createKey({ name: 'billing', access: 'write' })).secret;
    wsId = (await server.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id;
  });
  after(async () => server.stop());

  const post = (path: string, body: unknown, idempotencyKey: string) =>
    fetch(`${server.url}/api/v1/workspaces/demo/credits/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
    });
  const ledgerRows = async () => (await server.services.credits.listLedger(wsId, { limit: 500 })).entries;

  test('ten concurrent retries of one grant credit once, and all get the same answer', async () => {
    const before = await server.services.credits.getBalance(wsId);
    const results = await Promise.all(Array.from({ length: 10 }, () => post('grants', { amount: 250, reason: 'purchase', description: 'invoice 77' }, '"inv-77"')));
    const bodies = await Promise.all(results.map(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), body: await r.json() })));
    assert.deepEqual(bodies.map((b) => b.status), Array(10).fill(201), JSON.stringify(bodies.filter((b) => b.status !== 201)));
    assert.equal(bodies.filter((b) => b.replayed === 'true').length, 9);
    assert.equal(new Set(bodies.map((b) => b.body.entry.id)).size, 1, 'one ledger entry');
    assert.equal(await server.services.credits.getBalance(wsId), before + 250);
    assert.equal((await ledgerRows()).filter((e) => e.description === 'invoice 77').length, 1);
    assert.equal(await server.services.credits.sumLedger(wsId), await server.services.credits.getBalance(wsId));
  });

  test('a later retry replays the stored answer; the same key with another body is 422 and changes nothing', async () => {
    const first = await (await post('grants', { amount: 250, reason: 'purchase', description: 'invoice 77' }, '"inv-77"')).json();
    const balance = await server.services.credits.getBalance(wsId);
    assert.equal(first.balance, balance);
    const other = await post('grants', { amount: 9999, reason: 'purchase', description: 'invoice 77' }, '"inv-77"');
    assert.equal(other.status, 422);
    assert.equal(other.headers.get('content-type'), 'application/problem+json');
    assert.equal((await other.json()).code, 'idempotency_key_reused');
    // The key belongs to one operation: reusing it for a deduction is another request too.
    assert.equal((await post('deductions', { amount: 250, description: 'invoice 77' }, '"inv-77"')).status, 422);
    assert.equal(await server.services.credits.getBalance(wsId), balance);
  });

  test('different keys at once each apply; concurrent deductions never take the balance below zero', async () => {
    const start = await server.services.credits.getBalance(wsId);
    const grants = await Promise.all(Array.from({ length: 8 }, (_, i) => post('grants', { amount: 10 }, `"batch-${i}"`)));
    assert.deepEqual(grants.map((r) => r.status), Array(8).fill(201));
    const total = start + 80;
    assert.equal(await server.services.credits.getBalance(wsId), total);
    const half = Math.floor(total / 2) + 1;
    const deductions = await Promise.all([post('deductions', { amount: half }, '"d-1"'), post('deductions', { amount: half }, '"d-2"')]);
    assert.deepEqual(deductions.map((r) => r.status).sort(), [201, 409]);
    assert.equal(await server.services.credits.getBalance(wsId), total - half);
    // The refused one stored nothing: once there is enough, the same key applies.
    await post('grants', { amount: half }, '"top-up"');
    const failedKey = deductions[0].status === 409 ? '"d-1"' : '"d-2"';
    assert.equal((await post('deductions', { amount: half }, failedKey)).status, 201);
    assert.equal(await server.services.credits.sumLedger(wsId), await server.services.credits.getBalance(wsId));
  });
});
