// One suite, every rate-limit backend: memory, database (SQLite and PostgreSQL), Redis.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, PG_URL } from '../../../test/helpers/databases.ts';
import { deleteRedisKeys, REDIS_URL, testKeyPrefix, warnRedisSkip } from '../../../test/helpers/redis.ts';
import { describeUnless } from '../../../test/helpers/skip.ts';
import type { Store } from '../../store/store.ts';
import type { RateLimitBackend } from './backend.ts';
import { memoryBackend } from './memory.ts';
import { databaseBackend } from './database.ts';
import { redisBackend } from './redis.ts';
import { createRateLimiter } from './limiter.ts';

warnRedisSkip();

interface Harness {
  backend: RateLimitBackend;
  /** Moves the backend's clock forward (the Redis harness really waits). */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}

const cases: { name: string; skip?: string; make(): Promise<Harness> }[] = [
  {
    name: 'memory',
    async make() {
      let t = 1_700_000_000_000;
      return { backend: memoryBackend({ now: () => t }), advance: async (ms) => void (t += ms), cleanup: async () => {} };
    },
  },
  ...(['sqlite', 'postgres'] as const).map((dialect) => ({
    name: `database [${dialect}]`,
    skip: dialect === 'postgres' && !PG_URL ? 'TOLLGATE_TEST_PG_URL not set' : undefined,
    async make(): Promise<Harness> {
      const store: Store & { drop(): Promise<void> } = await createTestStore(dialect);
      let t = 1_700_000_000_000;
      const backend = databaseBackend(store, { now: () => t });
      return {
        backend,
        advance: async (ms) => void (t += ms),
        cleanup: async () => {
          await backend.close();
          await store.drop();
        },
      };
    },
  })),
  {
    name: 'redis',
    skip: REDIS_URL ? undefined : 'TOLLGATE_TEST_REDIS_URL not set',
    async make() {
      const prefix = testKeyPrefix();
      const backend = redisBackend(REDIS_URL!, { keyPrefix: prefix });
      return {
        backend,
        advance: (ms) => new Promise((r) => setTimeout(r, ms + 50)),
        async cleanup() {
          await backend.close();
          await deleteRedisKeys(REDIS_URL!, prefix);
        },
      };
    },
  },
];

for (const c of cases) {
  describeUnless(`rate-limit backend: ${c.name}`, c.skip, () => {
    let h: Harness;
    // Redis windows are real time: short ones keep the suite fast.
    const W = c.name === 'redis' ? 400 : 60_000;
    before(async () => {
      h = await c.make();
    });
    after(async () => h.cleanup());

    test('counts calls per key within a window, and reports the time to reset', async () => {
      const first = await h.backend.hit(['a', 'b'], W);
      assert.deepEqual(first.map((x) => x.count), [1, 1]);
      assert.ok(first.every((x) => x.resetMs > 0 && x.resetMs <= W));
      const second = await h.backend.hit(['a'], W);
      assert.equal(second[0].count, 2);
      const peeked = await h.backend.peek(['a', 'b', 'never'], W);
      assert.deepEqual(peeked.map((x) => x.count), [2, 1, 0]);
      assert.equal(peeked[2].resetMs, W);
      // peek does not count
      assert.equal((await h.backend.peek(['a'], W))[0].count, 2);
    });

    test('concurrent calls on one key each get a distinct count (atomic increments)', async () => {
      const results = await Promise.all(Array.from({ length: 200 }, () => h.backend.hit(['hot'], W)));
      assert.deepEqual(results.map((r) => r[0].count).sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 1));
    });

    test('a new window starts after the old one ends', async () => {
      await h.backend.hit(['w'], W);
      await h.backend.hit(['w'], W);
      await h.advance(W);
      assert.equal((await h.backend.peek(['w'], W))[0].count, 0);
      assert.equal((await h.backend.hit(['w'], W))[0].count, 1);
    });

    test('the limiter allows exactly the plan\'s quota per window, workspace and grant apart', async () => {
      const limiter = createRateLimiter(h.backend);
      const plan = { name: 'tiny', workspacePerMinute: 5, grantPerMinute: 3 };
      const ws = `ws-${c.name}-${Math.random()}`;
      const a = await Promise.all(Array.from({ length: 5 }, () => limiter.checkRateLimit(plan, ws, 'grant-a')));
      assert.equal(a.filter((d) => d.allowed).length, 3, 'the grant limit binds first');
      const refused = a.find((d) => !d.allowed)!;
      assert.ok(!refused.allowed && refused.state.policy === 'grant' && refused.state.remaining === 0 && refused.retryAfterSeconds >= 1);
      const b = await Promise.all(Array.from({ length: 5 }, () => limiter.checkRateLimit(plan, ws, 'grant-b')));
      // 5 workspace calls were already counted (3 allowed, 2 refused), so the workspace quota is spent.
      assert.equal(b.filter((d) => d.allowed).length, 0);
      assert.equal(b[0].state.policy, 'workspace');
    });
  });
}
