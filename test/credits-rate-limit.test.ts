// Issue: credits §4 and §7 — a rate limit holds across two processes: counters in the shared database (PostgreSQL,
// and a SQLite file), and in Redis. Two worker processes fire 100 calls each at once against a workspace limit
// of 50 per minute: exactly 50 are allowed in total.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, PG_URL, type TestDatabase } from './helpers/databases.ts';
import { startWorkers } from './helpers/credits-workers.ts';
import { describeUnless } from './helpers/skip.ts';
import { deleteRedisKeys, REDIS_URL, testKeyPrefix, warnRedisSkip } from './helpers/redis.ts';
import { openStore } from '../src/store/store.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { allMigrations } from '../src/migrations.ts';
import { accountsModule } from '../src/accounts/index.ts';
import { creditsModule } from '../src/credits/index.ts';
import { loadConfig } from '../src/config/config.ts';
import type { DialectName } from '../src/store/store.ts';

warnRedisSkip();
const config = loadConfig({ env: { TOLLGATE_INITIAL_CREDITS: '0' } });

const cases: { name: string; dialect: DialectName; backend: 'database' | 'redis'; skip?: string }[] = [
  { name: 'database backend on PostgreSQL', dialect: 'postgres', backend: 'database', skip: PG_URL ? undefined : 'TOLLGATE_TEST_PG_URL not set' },
  { name: 'database backend on a shared SQLite file', dialect: 'sqlite', backend: 'database' },
  { name: 'Redis backend', dialect: 'sqlite', backend: 'redis', skip: REDIS_URL ? undefined : 'TOLLGATE_TEST_REDIS_URL not set' },
];

for (const c of cases) {
  describeUnless(`credits: a rate limit holds across two processes (${c.name})`, c.skip, () => {
    let tdb: TestDatabase;
    const prefix = testKeyPrefix();
    before(async () => {
      tdb = await createTestDatabase(c.dialect);
    });
    after(async () => {
      await tdb.drop();
      if (c.backend === 'redis') await deleteRedisKeys(REDIS_URL!, prefix);
    });

    test('two processes, 100 calls each, limit 50 per minute per workspace: exactly 50 allowed', { timeout: 60_000 }, async () => {
      const store = await openStore(tdb.url);
      await migrateToLatest(store, allMigrations);
      const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: 'limited' });
      const credits = creditsModule(store, config);
      await credits.grantCredits({ workspaceId: ws.id, amount: 1000, reason: 'grant' });
      await credits.close();
      await store.close();

      const workers = await startWorkers(2, (i) => ({
        URL: tdb.url, WORKSPACE_ID: ws.id, MODE: 'burst', CALLS: '100', LIMIT: '50', TAG: `p${i}`,
        BACKEND: c.backend, ...(c.backend === 'redis' ? { REDIS_URL: REDIS_URL!, KEY_PREFIX: prefix } : {}),
      }));
      const tallies = (await Promise.all(workers.map((w) => w.exited))).map((out) => JSON.parse(out.trim().split('\n').at(-1)!));
      const allowed = tallies.reduce((s, t) => s + t.ok, 0);
      const limited = tallies.reduce((s, t) => s + t.rateLimited, 0);
      assert.deepEqual({ allowed, limited, errors: tallies.reduce((s, t) => s + t.errors, 0) }, { allowed: 50, limited: 150, errors: 0 });
    });
  });
}
