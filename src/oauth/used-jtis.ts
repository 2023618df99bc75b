// One-time JWTs: a client assertion (RFC 7523 §3 item 7) or an identity assertion (ID-JAG §4.3) carries a `jti` that
// may be used once. The first use claims it in the database, so a replay is refused in every process.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { sha256Hex } from '../util/ids.ts';
import type { OAuthTables } from './tables.ts';

export function usedJtisService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  return {
    /**
     * Records the `jti` as used within `namespace` (whose JWTs it is unique among: a client, an identity provider)
     * until `expiresAt` (ms). True on its first use; false when it was already used (a replay).
     */
    async claim(namespace: string, jti: string, expiresAt: number): Promise<boolean> {
      const r = await db
        .insertInto('oauth_used_jtis')
        .values({ key_hash: sha256Hex(`${namespace}\n${jti}`), expires_at: expiresAt })
        .onConflict((oc) => oc.column('key_hash').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    /** Forgets the `jti`s of JWTs that have expired (they are refused for their `exp` anyway). */
    async deleteOld(): Promise<void> {
      await db.deleteFrom('oauth_used_jtis').where('expires_at', '<', Date.now()).execute();
    },
  };
}

export type UsedJtis = ReturnType<typeof usedJtisService>;
