// Fixed-window counters in the database, so the limits hold across processes: sign-in failures per account and per
// IP, registrations per IP. A lost counter only loosens a limit for one window.
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { OAuthTables } from './tables.ts';

export function throttleService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  const windowStart = (windowSeconds: number, now = Date.now()) => Math.floor(now / (windowSeconds * 1000)) * windowSeconds * 1000;

  return {
    /** Counts one hit in the current window and returns the window's total. */
    async hit(key: string, windowSeconds: number): Promise<number> {
      const start = windowStart(windowSeconds);
      await db
        .insertInto('oauth_throttle')
        .values({ key: key.slice(0, 300), window_start: start, hits: 1 })
        .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet({ hits: sql`oauth_throttle.hits + 1` }))
        .execute();
      return this.count(key, windowSeconds);
    },

    async count(key: string, windowSeconds: number): Promise<number> {
      const row = await db.selectFrom('oauth_throttle').select('hits').where('key', '=', key.slice(0, 300)).where('window_start', '=', windowStart(windowSeconds)).executeTakeFirst();
      return row?.hits ?? 0;
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
