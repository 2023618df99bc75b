import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { countingStore, createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import { grantsService, type GrantsService } from './grants.ts';

forEachDialect('grants', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let grants: GrantsService;
  let newGrantId: () => Promise<string>;
  /** Every statement the grants service ran, by SQL text. */
  const statements: string[] = [];
  before(async () => {
    store = await createTestStore(dialect);
    // The service's database handle, counting what it executes.
    const counting = countingStore(store, (q) => statements.push(q.sql));
    // Read every time (SQLite's epoch cache has tests of its own: grant-epoch.test.ts).
    grants = grantsService(counting, { localCache: false });
    const config = loadConfig({ env: {} });
    const accounts = accountsModule(store, config);
    const user = await accounts.users.createUser({ email: 'u@example.com', password: 'long enough pw' });
    const ws = await accounts.workspaces.createWorkspace({ slug: 'acme', ownerUserId: user.id });
    newGrantId = async () => (await grants.createGrant({ clientId: 'c1', userId: user.id, workspaceId: ws.id, resource: 'http://x/acme/mcp', scopes: [] })).id;
  });
  after(async () => store.drop());

  test('the hot-path check reads once per call and records a newer refresh generation once, however many calls see it', async () => {
    const id = await newGrantId();
    statements.length = 0;
    const calls = 200;
    // Concurrent calls (all see the old generation before the first write lands), then sequential ones.
    assert.deepEqual(await Promise.all(Array.from({ length: calls / 2 }, () => grants.isGrantActive(id, 3))), Array(calls / 2).fill(true));
    for (let i = 0; i < calls / 2; i++) assert.equal(await grants.isGrantActive(id, 3), true);
    const reads = statements.filter((s) => /^select/i.test(s));
    const writes = statements.filter((s) => /^update/i.test(s));
    assert.equal(reads.length, calls, 'one read per call');
    assert.equal(writes.length, 1, `one write for the new generation, got ${writes.length}`);
    assert.equal((await grants.getGrant(id))!.confirmedGeneration, 3);
    // An older generation never lowers it, and costs no write.
    statements.length = 0;
    assert.equal(await grants.isGrantActive(id, 2), true);
    assert.equal(await grants.isGrantActive(id), true);
    assert.equal(statements.filter((s) => /^update/i.test(s)).length, 0);
    assert.equal((await grants.getGrant(id))!.confirmedGeneration, 3);
  });

  test('a confirmation whose write failed is written again by the next call that sees the generation', async () => {
    const id = await newGrantId();
    let failNext = true;
    const failing = grantsService(
      countingStore(store, (q) => {
        if (/^update/i.test(q.sql) && failNext) {
          failNext = false;
          throw new Error('connection lost');
        }
      }),
      { localCache: false },
    );
    assert.equal(await failing.isGrantActive(id, 4), true, 'a failed confirmation never fails the call');
    assert.equal((await grants.getGrant(id))!.confirmedGeneration, 0);
    assert.equal(await failing.isGrantActive(id, 4), true);
    assert.equal((await grants.getGrant(id))!.confirmedGeneration, 4);
  });

  test('a revoked grant is not active, whatever the generation, and records nothing', async () => {
    const id = await newGrantId();
    await grants.revokeGrant(id, 'test');
    assert.equal(await grants.isGrantActive(id, 5), false);
    assert.equal((await grants.getGrant(id))!.confirmedGeneration, 0);
    assert.equal(await grants.isGrantActive('no-such-grant', 1), false);
  });
});
