// The database backend's leases (blocks of counts taken ahead), on SQLite and PostgreSQL: a hot key far from its
// limit costs a statement per block, not per turn; two processes on one database never admit more than the limit
// together; a window's end ends a block; `close` gives back what a block did not use.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, PG_URL } from '../../../test/helpers/databases.ts';
import { describeUnless } from '../../../test/helpers/skip.ts';
import type { Store } from '../../store/store.ts';
import { databaseBackend } from './database.ts';
import { createRateLimiter } from './limiter.ts';

const W = 60_000;
/** Calls in `turns` turns of `perTurn` concurrent calls each. */
async function inTurns<T>(turns: number, perTurn: number, call: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < turns; i++) out.push(...(await Promise.all(Array.from({ length: perTurn }, call))));
  return out;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describeUnless(`rate-limit leases [${dialect}]`, dialect === 'postgres' && !PG_URL ? 'TOLLGATE_TEST_PG_URL not set' : undefined, () => {
    let store: Store & { drop(): Promise<void> };
    let t = 1_700_000_000_000;
    const now = () => t;
    before(async () => {
      store = await createTestStore(dialect);
    });
    after(async () => store.drop());

    test('a hot key far from its limit is counted from blocks: every call its own count, a statement per block', async () => {
      let statements = 0;
      const backend = databaseBackend(store, { now, onStatement: () => statements++ });
      const counts = await inTurns(40, 50, async () => (await backend.hit(['hot'], W, [100_000]))[0].count);
      assert.deepEqual([...counts].sort((a, b) => a - b), Array.from({ length: 2000 }, (_, i) => i + 1), 'counts 1…2,000, each once');
      // Blocks of 1,000 (a hundredth of the limit): the first turn counts exactly, then about one statement per block.
      assert.ok(statements <= 5, `${statements} statements for 2,000 calls in 40 turns`);
      await backend.close();
      assert.equal((await backend.peek(['hot'], W))[0].count, 2000, 'close gave back the unused part of the last block');
    });

    test('below 200 a minute, or near the limit, every turn is counted in the database', async () => {
      let statements = 0;
      const backend = databaseBackend(store, { now, onStatement: () => statements++ });
      await inTurns(20, 1, () => backend.hit(['small'], W, [150]));
      assert.equal(statements, 20, 'a limit of 150 has no blocks (a hundredth is 1)');
      statements = 0;
      // A limit of 1,000 (blocks of 10): blocks while the window stays under 900, then one statement per call.
      const first = await inTurns(910, 1, async () => (await backend.hit(['near'], W, [1000]))[0].count);
      assert.deepEqual(first, Array.from({ length: 910 }, (_, i) => i + 1));
      // One exact first count, 81 statements of a call and a block (to 892), then exact counts: 100, not 910.
      assert.ok(statements <= 100, `${statements} statements for the first 910 calls`);
      statements = 0;
      const last = await inTurns(90, 1, async () => (await backend.hit(['near'], W, [1000]))[0].count);
      assert.deepEqual(last, Array.from({ length: 90 }, (_, i) => i + 911));
      assert.equal(statements, 90, 'near the limit every call is counted in the database');
      await backend.close();
    });

    test('two processes on one database, racing: never more than the limit admitted, at most a block each short of it', async () => {
      const a = createRateLimiter(databaseBackend(store, { now }));
      const b = createRateLimiter(databaseBackend(store, { now }));
      const plan = { name: 'p', workspacePerMinute: 2000, grantPerMinute: 100_000 };
      const ws = `ws-race-${dialect}`;
      const decisions = await inTurns(30, 100, () => (Math.random() < 0.5 ? a : b).checkRateLimit(plan, ws, 'g'));
      const allowed = decisions.filter((d) => d.allowed).length;
      assert.ok(allowed <= 2000, `${allowed} admitted against a limit of 2,000`);
      assert.ok(allowed >= 2000 - 2 * 20, `${allowed} admitted: no more than a block (20) per process short`);
      const refused = decisions.find((d) => !d.allowed)!;
      assert.ok(!refused.allowed && refused.state.policy === 'workspace' && refused.retryAfterSeconds >= 1);
      await a.close();
      await b.close();
    });

    test('a block ends with its window: the next call opens a new window at 1', async () => {
      const backend = databaseBackend(store, { now });
      await inTurns(3, 10, () => backend.hit(['w'], W, [100_000]));
      t += W;
      assert.equal((await backend.hit(['w'], W, [100_000]))[0].count, 1);
      await backend.close();
    });
  });
}
