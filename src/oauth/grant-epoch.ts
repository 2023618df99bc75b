// SQLite: the grants this process found active, trusted without a read for as long as nothing could have revoked one.
// Every revocation or removal of a live grant raises `oauth_grant_epoch` in the same statement (a trigger: whoever
// writes, this process, the CLI or another process, and cascades too; migration 0112). The epoch is read once per
// read snapshot — the connection's `stamp` tells when what it sees may have changed — and when it moved, everything
// remembered is forgotten. So a check answers exactly what a read of the grant in the same snapshot would: a
// revocation is seen by the next request, as before, without a read per request.
import { CompiledQuery } from 'kysely';
import type { SnapshotReads } from '../store/store.ts';
import { FORGET_ALL, grantCache, type GrantCache } from './grant-cache.ts';

const EPOCH = CompiledQuery.raw('select epoch from oauth_grant_epoch where id = 1');

export function grantEpochCache(snapshot: SnapshotReads, options: { maxEntries?: number } = {}) {
  const cache = grantCache({ maxAgeMs: Number.POSITIVE_INFINITY, maxEntries: options.maxEntries });
  cache.setLive(true);
  let checkedAt = Number.NaN;
  let known: number | undefined;
  return {
    /** The cache, when it can be trusted now; undefined when the epoch cannot be read at once (read the grant). */
    current(): GrantCache | undefined {
      if (snapshot.stamp === checkedAt) return cache;
      const rows = snapshot.read<{ epoch: number | bigint }>(EPOCH);
      // No row (someone removed it): nothing raises the epoch any more, so nothing is trusted.
      if (!rows?.length) return undefined;
      const epoch = Number(rows[0].epoch);
      if (epoch !== known) {
        cache.heard(FORGET_ALL);
        known = epoch;
      }
      // After the read: it may have begun the snapshot it was read in.
      checkedAt = snapshot.stamp;
      return cache;
    },
    get size(): number {
      return cache.size;
    },
  };
}
