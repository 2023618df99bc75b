// Windowed counters in the database, so the limits hold across processes: sign-in failures per account and per
// IP, registrations per IP. A lost counter only loosens a limit for one window.
//
// Sliding windows, approximated from two fixed ones: a count is the current window's hits plus the previous window's,
// weighted by how much of it still lies within the last `windowSeconds`. (Plain fixed windows would let twice the
// limit through around a window's edge, and forget everything at the edge.)
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { OAuthTables } from './tables.ts';

export function throttleService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  const windowStart = (windowSeconds: number, now = Date.now()) => Math.floor(now / (windowSeconds * 1000)) * windowSeconds * 1000;

  return {
    /** Counts one hit in the current window and returns the window's total. */
    async hit(key: string, windowSeconds: number): Promise<number> {
      const now = Date.now();
      await db
        .insertInto('oauth_throttle')
        .values({ key: key.slice(0, 300), window_start: windowStart(windowSeconds, now), hits: 1 })
        .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ hits: sql`oauth_throttle.hits + 1` }))
        .execute();
      return this.count(key, windowSeconds, now);
    },

    /** Hits in the last `windowSeconds` (the sliding-window estimate, see the top of this file). */
    async count(key: string, windowSeconds: number, now = Date.now()): Promise<number> {
      const windowMs = windowSeconds * 1000;
      const current = windowStart(windowSeconds, now);
      const rows = await db.selectFrom('oauth_throttle').select(['window_start', 'hits']).where('key', '=', key.slice(0, 300)).where('window_start', 'in', [current, current - windowMs]).execute();
      const hitsIn = (start: number) => Number(rows.find((r) => Number(r.window_start) === start)?.hits ?? 0);
      return hitsIn(current) + hitsIn(current - windowMs) * (1 - (now - current) / windowMs);
    },

    async clear(key: string): Promise<void> {
      await db.deleteFrom('oauth_throttle').where('key', '=', key.slice(0, 300)).execute();
    },

    /** Seconds until the current window ends (for Retry-After). */
    retryAfter(windowSeconds: number): number {
      return Math.max(1, Math.ceil((windowStart(windowSeconds) + windowSeconds * 1000 - Date.now()) / 1000));
    },

    async deleteOld(olderThanMs: number): Promise<void> {
      await db.deleteFrom('oauth_throttle').where('window_start', '<', Date.now() - olderThanMs).execute();
    },
  };
}

export type Throttle = ReturnType<typeof throttleService>;
