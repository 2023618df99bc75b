import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { auditModule, recordAudit, redact, REDACTED } from './index.ts';

test('redaction by key, nested, whatever the caller passes', () => {
  assert.deepEqual(redact({ name: 'x', client_secret: 's', nested: { password: 'p', refreshToken: 't', ok: 1 }, list: [{ secret_hash: 'h' }], Authorization: 'Bearer x' }), {
    name: 'x', client_secret: REDACTED, nested: { password: REDACTED, refreshToken: REDACTED, ok: 1 }, list: [{ secret_hash: REDACTED }], Authorization: REDACTED,
  });
});

forEachDialect('audit log', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => {
    store = await createTestStore(dialect);
  });
  after(async () => store.drop());

  test('a record commits with its change and rolls back with it; filters and paging', async () => {
    const audit = auditModule(store);
    const actor = { type: 'user' as const, id: 'u1', label: 'ada@example.com' };
    await store.db.transaction().execute(async (trx) => {
      await recordAudit(trx, { actor, ip: '203.0.113.9', userAgent: 'UA', requestId: 'r1', action: 'member.role_changed', target: { type: 'user', id: 'u2' }, workspaceId: 'w1', before: { role: 'member' }, after: { role: 'admin', password: 'nope' } });
    });
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await recordAudit(trx, { actor, action: 'member.removed', target: { type: 'user', id: 'u2' }, workspaceId: 'w1' });
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    for (let i = 0; i < 3; i++) await audit.record({ actor: { type: 'anonymous' }, action: 'signin.failed', target: { type: 'email', id: `x${i}@example.com` } });
    const all = await audit.list();
    assert.deepEqual(all.records.map((r) => r.action), ['signin.failed', 'signin.failed', 'signin.failed', 'member.role_changed']);
    const change = all.records[3];
    assert.deepEqual([change.before, change.after, change.ip, change.userAgent, change.requestId, change.actor.label], [{ role: 'member' }, { role: 'admin', password: REDACTED }, '203.0.113.9', 'UA', 'r1', 'ada@example.com']);
    assert.equal((await audit.list({ workspaceId: 'w1' })).records.length, 1);
    assert.equal((await audit.list({ action: 'member.' })).records.length, 1);
    assert.equal((await audit.list({ actor: 'ada@example.com' })).records.length, 1);
    const page1 = await audit.list({ limit: 2 });
    assert.equal(page1.records.length, 2);
    const page2 = await audit.list({ limit: 2, beforeId: page1.nextBeforeId! });
    assert.deepEqual(page2.records.map((r) => r.action), ['signin.failed', 'member.role_changed']);
    assert.equal(page2.nextBeforeId, null);
  });

  test('prune deletes only the entries older than the cut-off', async () => {
    const audit = auditModule(store);
    await audit.record({ actor: { type: 'system', id: null, label: null }, action: 'retention.test', target: { type: 'none', id: 'x' } });
    await store.db.updateTable('audit_log').set({ at: 1_000 }).where('action', '=', 'retention.test').execute();
    const before = (await audit.list({ limit: 100 })).records.map((r) => r.action);
    assert.equal(await audit.prune(10_000), 1);
    const left = (await audit.list({ limit: 100 })).records.map((r) => r.action);
    assert.deepEqual(left, before.filter((a) => a !== 'retention.test'));
    assert.ok(left.length > 0, 'the recent entries are kept');
  });
});
