// Refresh tokens: opaque, stored as SHA-256 hashes, single use and rotated. A token's successor is derived from it
// with a server-side HMAC key, so the same old token presented again within the grace window (a retry, or ten
// concurrent refreshes) gets the very same successor without the successor ever being stored in the clear.
//
// Refresh is on a hot path (every client refreshes hourly, many at once after a restart): its statements are
// compiled once (parameters filled in per call), the token and its grant are read in one statement, and a rotation
// commits in one transaction with whatever the caller records about it (on SQLite, shared with the other rotations
// that arrived with it: one disk sync for all of them).
import { createHmac, createSecretKey, hkdfSync } from 'node:crypto';
import type { Kysely } from 'kysely';
import { groupTransactions } from '../store/group-transaction.ts';
import { prepareQuery } from '../store/prepared.ts';
import type { Store } from '../store/store.ts';
import { randomToken, sha256Hex } from '../util/ids.ts';
import { toGrant, type Grant, type GrantRow } from './grants.ts';
import type { OAuthTables, RefreshTokensTable } from './tables.ts';

export type RotationResult =
  | { kind: 'rotated' | 'grace'; successor: string }
  /** Presented again after the grace window (or after a successor other than its own): the grant must end. */
  | { kind: 'replay' };

export interface RotationOptions {
  /**
   * Runs inside the rotation's transaction when this caller wins the rotation (e.g. the connection-log line), so
   * that it commits with the rotation. Should it fail, the rotation is made again without it: what it records must
   * never break the refresh it describes.
   */
  alsoOnRotation?: (trx: Kysely<OAuthTables>) => Promise<void>;
}

/** Rotated tokens are kept this long past expiry so that a late replay is still recognised. */
const KEEP_EXPIRED_MS = 7 * 86_400_000;

class AlsoOnRotationFailed extends Error {}

export function refreshTokensService(store: Store, secret: string, options: { refreshTokenTtlSeconds: number; refreshGraceSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  // Derived once, and held as a KeyObject: handing createHmac raw key bytes builds a key object on every call.
  const successorKey = createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'tollgate:refresh-successor', 32)));
  const successorOf = (token: string): string => createHmac('sha256', successorKey).update(token).digest('base64url');
  const row = (hash: string, grantId: string, now: number): RefreshTokensTable => ({
    token_hash: hash,
    grant_id: grantId,
    created_at: now,
    expires_at: now + options.refreshTokenTtlSeconds * 1000,
    rotated_at: null,
    successor_hash: null,
  });

  // Compiled once (src/store/prepared.ts).
  const byHash = prepareQuery((slot) => db.selectFrom('oauth_refresh_tokens').selectAll().where('token_hash', '=', slot(0) as string));
  const withGrant = prepareQuery((slot) =>
    db
      .selectFrom('oauth_refresh_tokens as t')
      .innerJoin('oauth_grants as g', 'g.id', 't.grant_id')
      .select([
        't.token_hash', 't.grant_id', 't.created_at as token_created_at', 't.expires_at', 't.rotated_at', 't.successor_hash',
        'g.id', 'g.client_id', 'g.user_id', 'g.workspace_id', 'g.resource', 'g.scope', 'g.created_at', 'g.last_used_at', 'g.revoked_at', 'g.revoked_reason', 'g.resource_implicit',
      ])
      .where('t.token_hash', '=', slot(0) as string),
  );
  // [now, successorHash, hash]
  const markRotated = prepareQuery((slot) =>
    db
      .updateTable('oauth_refresh_tokens')
      .set({ rotated_at: slot(0) as number, successor_hash: slot(1) as string })
      .where('token_hash', '=', slot(2) as string)
      .where('rotated_at', 'is', null)
      .returning('grant_id'),
  );
  const insertToken = prepareQuery((slot) =>
    db.insertInto('oauth_refresh_tokens').values({
      token_hash: slot(0) as string, grant_id: slot(1) as string, created_at: slot(2) as number, expires_at: slot(3) as number, rotated_at: slot(4) as null, successor_hash: slot(5) as null,
    }),
  );
  const insertValues = (r: RefreshTokensTable) => [r.token_hash, r.grant_id, r.created_at, r.expires_at, r.rotated_at, r.successor_hash];
  const rotationState = prepareQuery((slot) => db.selectFrom('oauth_refresh_tokens').select(['rotated_at', 'successor_hash']).where('token_hash', '=', slot(0) as string));

  // On SQLite (one connection: commits are serialized anyway) rotations that arrive together share one transaction
  // and one disk sync, each in a savepoint of its own (src/store/group-transaction.ts); a commit cost about twice the
  // rotation's statements. On PostgreSQL each rotation has its own transaction, on a connection of its own.
  const grouped = store.dialect === 'sqlite' ? groupTransactions(db) : undefined;
  const inTransaction = <T,>(work: (trx: Kysely<OAuthTables>) => Promise<T>): Promise<T> => (grouped ? grouped.run(work) : db.transaction().execute(work));

  /** The rotation itself: true when this caller won it. */
  function rotate(hash: string, successorHash: string, now: number, also: RotationOptions['alsoOnRotation']): Promise<boolean> {
    return inTransaction(async (trx) => {
      const { rows } = await trx.executeQuery(markRotated([now, successorHash, hash]));
      if (rows.length !== 1) return false;
      await trx.executeQuery(insertToken(insertValues(row(successorHash, rows[0].grant_id, now))));
      if (also) {
        try {
          await also(trx);
        } catch (err) {
          throw new AlsoOnRotationFailed('alsoOnRotation failed', { cause: err });
        }
      }
      return true;
    });
  }

  return {
    /** A new refresh token for a grant (first issue, at code redemption). */
    async issueRefreshToken(grantId: string, trx: Kysely<OAuthTables> = db): Promise<string> {
      const token = randomToken(32);
      await trx.executeQuery(insertToken(insertValues(row(sha256Hex(token), grantId, Date.now()))));
      return token;
    },

    async findRefreshToken(token: string): Promise<RefreshTokensTable | undefined> {
      if (!token || token.length > 512) return undefined;
      const { rows } = await db.executeQuery(byHash([sha256Hex(token)]));
      return rows[0];
    },

    /** The token and the grant it belongs to, in one read; undefined when either is missing. */
    async findRefreshTokenWithGrant(token: string): Promise<{ token: RefreshTokensTable; grant: Grant } | undefined> {
      if (!token || token.length > 512) return undefined;
      const { rows } = await db.executeQuery(withGrant([sha256Hex(token)]));
      if (!rows.length) return undefined;
      const r = rows[0];
      return {
        token: { token_hash: r.token_hash, grant_id: r.grant_id, created_at: r.token_created_at, expires_at: r.expires_at, rotated_at: r.rotated_at, successor_hash: r.successor_hash },
        grant: toGrant(r as unknown as GrantRow),
      };
    },

    /**
     * Rotates a (found, unexpired) token. Exactly one caller wins the rotation; the others, and retries within the
     * grace window, receive the same successor. Anything later is a replay.
     */
    async rotateRefreshToken(token: string, rotation: RotationOptions = {}): Promise<RotationResult> {
      const hash = sha256Hex(token);
      const successor = successorOf(token);
      const successorHash = sha256Hex(successor);
      const now = Date.now();
      let won: boolean;
      try {
        won = await rotate(hash, successorHash, now, rotation.alsoOnRotation);
      } catch (err) {
        if (!(err instanceof AlsoOnRotationFailed)) throw err;
        // The rotation was rolled back with it: make it again, alone.
        won = await rotate(hash, successorHash, now, undefined);
      }
      if (won) return { kind: 'rotated', successor };
      const { rows } = await db.executeQuery(rotationState([hash]));
      const current = rows[0];
      // The grace window: the same successor, so a retried or concurrent refresh keeps one chain.
      if (current?.rotated_at != null && now - Number(current.rotated_at) <= options.refreshGraceSeconds * 1000 && current.successor_hash === successorHash) {
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
