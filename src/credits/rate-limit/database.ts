// Counters in the shared database, so a limit holds across every process on it (the default on PostgreSQL,
// where the table is UNLOGGED). Calls arriving in the same event-loop turn are counted together: one upsert adds
// each key's number of calls atomically and returns the new count, from which each call gets its own exact
// position in the window. So a hot workspace costs one statement per turn, not one per call.
//
// Leases: when the caller names a key's limit and the window is far from it, the upsert also takes a block of
// counts ahead (a hundredth of the limit) for this process, and the next calls on that key are counted from the
// block in memory, with no statement at all, until it is used up or the window ends. The window's count in the
// database includes every block taken, so the processes together never admit more than the limit; a block left
// unused when the window fills (a process idle or stopped) can refuse up to a hundredth of the limit early per
// process, and `close` gives back what its blocks did not use. Near the limit (or without one: limits under 200
// a minute) every call is counted in the database, as before.
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
  /** Called with the number of keys of each counting statement (tests count the statements). */
  onStatement?: (keys: number) => void;
}

/** A block is this share of the limit. */
const LEASE_SHARE = 0.01;
/** Blocks are taken only while the window's count, the block included, stays under this share of the limit. */
const LEASE_CEILING = 0.9;

/** Keys with a lease remembered at most (as many as the memory backend keeps counters for). */
const MAX_LEASED_KEYS = 100_000;

/** This process's view of one key's window: counts `next`…`end` are its own to hand out. */
interface Lease {
  windowStart: number;
  next: number;
  /** The window's count in the database as of this process's last statement on the key. */
  end: number;
}

/** A limit's block size; 0 when a hundredth of it is under 2 (such a limit is counted call by call). */
function blockSize(limit: number | undefined): number {
  const block = limit === undefined ? 0 : Math.floor(limit * LEASE_SHARE);
  return block < 2 ? 0 : block;
}

/** The lease's window has ended by `t` (the upsert's own rule: a window_start at or before t − windowMs resets). */
const windowEnded = (l: Lease, windowMs: number, t: number): boolean => l.windowStart <= t - windowMs;

interface PendingHit {
  keys: readonly string[];
  limits: readonly (number | undefined)[];
  windowMs: number;
  /** Each key's count, filled from a lease or by the statement. */
  counts: (WindowCount | undefined)[];
  /** This call's position among the batch's calls for each key counted in the database (0-based). */
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
  const leases = new Map<string, Lease>();

  /** Counts one call from this process's block for the key, when it holds one in the current window. */
  function fromLease(key: string, windowMs: number, t: number): WindowCount | undefined {
    const l = leases.get(key);
    if (!l || l.next > l.end || windowEnded(l, windowMs, t)) return undefined;
    return { count: l.next++, resetMs: Math.max(0, l.windowStart + windowMs - t) };
  }

  /** Counts to take ahead for a key in this statement: a block while the window is far from its limit, else none. */
  function blockFor(key: string, need: number, limit: number | undefined, windowMs: number, t: number): number {
    const block = blockSize(limit);
    const l = leases.get(key);
    // The first statement of a window counts exactly: the count it returns is what the next decision reads.
    if (!block || !l || windowEnded(l, windowMs, t)) return 0;
    return l.end + need + block <= limit! * LEASE_CEILING ? block : 0;
  }

  function startSweeper(): void {
    if (sweeper) return;
    sweeper = setInterval(() => {
      const t = now();
      for (const [k, l] of leases) if (windowEnded(l, lastWindowMs, t)) leases.delete(k);
      db.deleteFrom('credits_rate_counters').where('window_start', '<', t - 2 * lastWindowMs).execute().catch(() => {});
    }, sweepIntervalMs);
    sweeper.unref();
  }

  async function countBatch(batch: PendingHit[]): Promise<void> {
    // Windows of different lengths never share a statement (in practice there is one window length).
    const byWindow = new Map<number, PendingHit[]>();
    for (const h of batch) (byWindow.get(h.windowMs) ?? byWindow.set(h.windowMs, []).get(h.windowMs)!).push(h);
    for (const [windowMs, all] of byWindow) {
      const t = now();
      // A block taken by the statement before this one serves calls that waited for it.
      const hits: PendingHit[] = [];
      for (const h of all) {
        h.keys.forEach((k, i) => (h.counts[i] ??= fromLease(k, windowMs, t)));
        if (h.counts.every((c) => c !== undefined)) h.resolve(h.counts as WindowCount[]);
        else hits.push(h);
      }
      if (!hits.length) continue;
      const increments = new Map<string, number>();
      const limits = new Map<string, number>();
      for (const h of hits) {
        h.positions = h.keys.map((k, i) => {
          if (h.counts[i] !== undefined) return -1;
          const limit = h.limits[i];
          if (limit !== undefined) limits.set(k, Math.min(limit, limits.get(k) ?? limit));
          const before = increments.get(k) ?? 0;
          increments.set(k, before + 1);
          return before;
        });
      }
      const blocks = new Map<string, number>();
      for (const [k, need] of increments) {
        const block = blockFor(k, need, limits.get(k), windowMs, t);
        if (block) {
          blocks.set(k, block);
          increments.set(k, need + block);
        }
      }
      try {
        const windows = await upsertCounts(increments, windowMs, t);
        for (const [k, w] of windows) {
          // Only keys whose limit allows blocks are remembered (a flood of grants under small limits costs nothing).
          if (!blockSize(limits.get(k))) continue;
          const block = blocks.get(k) ?? 0;
          leases.delete(k);
          // Bounded: the oldest key is forgotten (at worst its block's unused counts wait for the window's end).
          if (leases.size >= MAX_LEASED_KEYS) leases.delete(leases.keys().next().value as string);
          leases.set(k, { windowStart: w.windowStart, next: w.count - block + 1, end: w.count });
        }
        for (const h of hits) {
          h.resolve(
            h.keys.map((k, i): WindowCount => {
              const own = h.counts[i];
              if (own) return own;
              const w = windows.get(k)!;
              // The batch's calls occupy the `increment` places before the block, in arrival order.
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
      options.onStatement?.(n);
      const { rows } = await db.executeQuery(upsertOf(n)(values));
      for (const r of rows) out.set(r.key, { count: Number(r.count), windowStart: Number(r.window_start) });
      at += n;
    }
    return out;
  }

  return {
    name: 'database',
    hit(keys, windowMs, limits) {
      if (!keys.length) return Promise.resolve([]);
      lastWindowMs = windowMs;
      startSweeper();
      const t = now();
      const counts = keys.map((k) => (leases.size ? fromLease(k, windowMs, t) : undefined));
      if (counts.every((c) => c !== undefined)) return Promise.resolve(counts as WindowCount[]);
      return new Promise((resolve, reject) => {
        pending.add({ keys, limits: limits ?? [], windowMs, counts, positions: [], resolve, reject });
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
      // Give back what this process's blocks did not use, so that the window's other processes can have it.
      const t = now();
      for (const [key, l] of leases) {
        const unused = l.end - l.next + 1;
        if (unused <= 0 || windowEnded(l, lastWindowMs, t)) continue;
        await db
          .updateTable('credits_rate_counters')
          .set((eb) => ({ count: eb('count', '-', unused) }))
          .where('key', '=', key)
          .where('window_start', '=', l.windowStart)
          .execute()
          .catch(() => {});
      }
      leases.clear();
    },
  };
}
