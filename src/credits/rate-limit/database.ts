// Counters in the shared database, so a limit holds across every process on it (the default on PostgreSQL,
// where the table is UNLOGGED). Calls arriving in the same event-loop turn are counted together: one upsert adds
// each key's number of calls atomically and returns the new count, from which each call gets its own exact
// position in the window. So a hot workspace costs one statement per turn, not one per call.
import type { Kysely } from 'kysely';
import type { Store } from '../../store/store.ts';
import { batchPerTurn } from '../../util/batch-per-turn.ts';
import { powerOfTwoChunks, prepareQuery, type PreparedQuery } from '../../store/prepared.ts';
import type { CreditsTables } from '../tables.ts';
import type { RateLimitBackend, WindowCount } from './backend.ts';

export interface DatabaseBackendOptions {
  now?: () => number;
  /** How often expired counters are deleted. */
  sweepIntervalMs?: number;
}

interface PendingHit {
  keys: readonly string[];
  windowMs: number;
  /** This call's position among the batch's calls for each key (0-based), filled when the batch is taken. */
  positions: number[];
  resolve: (counts: WindowCount[]) => void;
  reject: (err: unknown) => void;
}

export function databaseBackend(store: Store, options: DatabaseBackendOptions = {}): RateLimitBackend {
  const db: Kysely<CreditsTables> = store.typed<CreditsTables>();
  const now = options.now ?? Date.now;
  const sweepIntervalMs = options.sweepIntervalMs ?? 300_000;
  let lastWindowMs = 60_000;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  const pending = batchPerTurn(countBatch);

  function startSweeper(): void {
    if (sweeper) return;
    sweeper = setInterval(() => {
      db.deleteFrom('credits_rate_counters').where('window_start', '<', now() - 2 * lastWindowMs).execute().catch(() => {});
    }, sweepIntervalMs);
    sweeper.unref();
  }

  async function countBatch(batch: PendingHit[]): Promise<void> {
    // Windows of different lengths never share a statement (in practice there is one window length).
    const byWindow = new Map<number, PendingHit[]>();
    for (const h of batch) (byWindow.get(h.windowMs) ?? byWindow.set(h.windowMs, []).get(h.windowMs)!).push(h);
    for (const [windowMs, hits] of byWindow) {
      const increments = new Map<string, number>();
      for (const h of hits) {
        h.positions = h.keys.map((k) => {
          const before = increments.get(k) ?? 0;
          increments.set(k, before + 1);
          return before;
        });
      }
      try {
        const t = now();
        const windows = await upsertCounts(increments, windowMs, t);
        for (const h of hits) {
          h.resolve(
            h.keys.map((k, i): WindowCount => {
              const w = windows.get(k)!;
              // The batch's calls occupy the last `increment` places of the window, in arrival order.
              return { count: w.count - increments.get(k)! + 1 + h.positions[i], resetMs: Math.max(0, w.windowStart + windowMs - t) };
            }),
          );
        }
      } catch (err) {
        for (const h of hits) h.reject(err);
      }
    }
  }

  // The upsert of `n` keys, compiled once per count (a turn's batch is built and compiled on every turn otherwise,
  // which cost more than the rest of the counting).
  const upserts = new Map<number, PreparedQuery<{ key: string; window_start: number; count: number }>>();
  const upsertOf = (n: number) => {
    let q = upserts.get(n);
    if (!q) {
      q = prepareQuery((slot) =>
        db
          .insertInto('credits_rate_counters')
          .values(Array.from({ length: n }, (_, r) => ({ key: slot(3 * r) as string, window_start: slot(3 * r + 1) as number, count: slot(3 * r + 2) as number })))
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({
              // Both right-hand sides read the row as it was before this statement.
              count: eb
                .case()
                .when('credits_rate_counters.window_start', '<=', slot(3 * n) as number)
                .then(eb.ref('excluded.count'))
                .else(eb('credits_rate_counters.count', '+', eb.ref('excluded.count')))
                .end(),
              window_start: eb.case().when('credits_rate_counters.window_start', '<=', slot(3 * n + 1) as number).then(eb.ref('excluded.window_start')).else(eb.ref('credits_rate_counters.window_start')).end(),
            })),
          )
          .returning(['key', 'window_start', 'count']),
      );
      upserts.set(n, q);
    }
    return q;
  };

  async function upsertCounts(increments: Map<string, number>, windowMs: number, t: number): Promise<Map<string, { count: number; windowStart: number }>> {
    const expired = t - windowMs;
    // Sorted keys: concurrent statements lock the same rows in the same order, so they never deadlock.
    const sorted = [...increments.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const out = new Map<string, { count: number; windowStart: number }>();
    let at = 0;
    for (const n of powerOfTwoChunks(sorted.length)) {
      const values: unknown[] = [];
      for (let i = at; i < at + n; i++) values.push(sorted[i][0], t, sorted[i][1]);
      values.push(expired, expired);
      const { rows } = await db.executeQuery(upsertOf(n)(values));
      for (const r of rows) out.set(r.key, { count: Number(r.count), windowStart: Number(r.window_start) });
      at += n;
    }
    return out;
  }

  return {
    name: 'database',
    hit(keys, windowMs) {
      if (!keys.length) return Promise.resolve([]);
      lastWindowMs = windowMs;
      startSweeper();
      return new Promise((resolve, reject) => {
        pending.add({ keys, windowMs, positions: [], resolve, reject });
      });
    },
    async peek(keys, windowMs) {
      if (!keys.length) return [];
      const t = now();
      const rows = await db.selectFrom('credits_rate_counters').selectAll().where('key', 'in', [...keys]).execute();
      const byKey = new Map(rows.map((r) => [r.key, r]));
      return keys.map((key): WindowCount => {
        const r = byKey.get(key);
        return r && Number(r.window_start) + windowMs > t ? { count: Number(r.count), resetMs: Number(r.window_start) + windowMs - t } : { count: 0, resetMs: windowMs };
      });
    },
    async close() {
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      while (pending.busy) await new Promise((r) => setTimeout(r, 1));
    },
  };
}
