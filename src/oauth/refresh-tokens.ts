// Refresh tokens: opaque, stored as SHA-256 hashes, single use and rotated. A token's successor is derived from it
// with a server-side HMAC key, so the same old token presented again within the grace window (a retry, or ten
// concurrent refreshes) gets the very same successor without the successor ever being stored in the clear.
import { createHmac, hkdfSync } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { randomToken, sha256Hex } from '../util/ids.ts';
import type { OAuthTables, RefreshTokensTable } from './tables.ts';

export type RotationResult =
  | { kind: 'rotated' | 'grace'; successor: string }
  /** Presented again after the grace window (or after a successor other than its own): the grant must end. */
  | { kind: 'replay' };

/** Rotated tokens are kept this long past expiry so that a late replay is still recognised. */
const KEEP_EXPIRED_MS = 7 * 86_400_000;

export function refreshTokensService(store: Store, secret: string, options: { refreshTokenTtlSeconds: number; refreshGraceSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  const successorKey = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'tollgate:refresh-successor', 32));
  const successorOf = (token: string): string => createHmac('sha256', successorKey).update(token).digest('base64url');
  const row = (hash: string, grantId: string, now: number): RefreshTokensTable => ({
    token_hash: hash,
    grant_id: grantId,
    created_at: now,
    expires_at: now + options.refreshTokenTtlSeconds * 1000,
    rotated_at: null,
    successor_hash: null,
  });

  return {
    /** A new refresh token for a grant (first issue, at code redemption). */
    async issueRefreshToken(grantId: string, trx: Kysely<OAuthTables> = db): Promise<string> {
      const token = randomToken(32);
      await trx.insertInto('oauth_refresh_tokens').values(row(sha256Hex(token), grantId, Date.now())).execute();
      return token;
    },

    async findRefreshToken(token: string): Promise<RefreshTokensTable | undefined> {
      if (!token || token.length > 512) return undefined;
      return db.selectFrom('oauth_refresh_tokens').selectAll().where('token_hash', '=', sha256Hex(token)).executeTakeFirst();
    },

    /**
     * Rotates a (found, unexpired) token. Exactly one caller wins the rotation; the others, and retries within the
     * grace window, receive the same successor. Anything later is a replay.
     */
    async rotateRefreshToken(token: string): Promise<RotationResult> {
      const hash = sha256Hex(token);
      const successor = successorOf(token);
      const successorHash = sha256Hex(successor);
      const now = Date.now();
      const won = await db.transaction().execute(async (trx) => {
        const r = await trx.updateTable('oauth_refresh_tokens').set({ rotated_at: now, successor_hash: successorHash }).where('token_hash', '=', hash).where('rotated_at', 'is', null).executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        const current = await trx.selectFrom('oauth_refresh_tokens').select('grant_id').where('token_hash', '=', hash).executeTakeFirstOrThrow();
        await trx.insertInto('oauth_refresh_tokens').values(row(successorHash, current.grant_id, now)).execute();
        return true;
      });
      if (won) return { kind: 'rotated', successor };
      const current = await db.selectFrom('oauth_refresh_tokens').select(['rotated_at', 'successor_hash']).where('token_hash', '=', hash).executeTakeFirst();
      // The grace window: the same successor, so a retried or concurrent refresh keeps one chain.
      if (current?.rotated_at != null && now - current.rotated_at <= options.refreshGraceSeconds * 1000 && current.successor_hash === successorHash) {
        return { kind: 'grace', successor };
      }
      return { kind: 'replay' };
    },

    async deleteOld(): Promise<void> {
      await db.deleteFrom('oauth_refresh_tokens').where('expires_at', '<', Date.now() - KEEP_EXPIRED_MS).execute();
    },
  };
}

export type RefreshTokens = ReturnType<typeof refreshTokensService>;
