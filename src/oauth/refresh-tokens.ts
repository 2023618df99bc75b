// Refresh tokens: opaque, stored as SHA-256 hashes, single use and rotated. A token's successor is derived from it
// with a server-side HMAC key, so the same old token presented again within the grace window (a retry, or ten
// concurrent refreshes) gets the very same successor without the successor ever being stored in the clear.
//
// A rotation commits before its answer is sent: if the process dies in between, the client never sees the successor
// and retries with the token it has, however long the restart took. So a rotated token is a replay only once its
// successor has been used — presented here, or an access token minted with it presented at a resource (the grant's
// `confirmed_generation`). Until then a retry after the grace window gets a fresh successor, and the unused one is
// superseded: presenting it later is a replay.
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
  /**
   * `rotated`: the first use; `grace`: presented again within the grace window, the same successor; `reissued`:
   * presented again later while its successor was never used, a fresh successor. `generation` is the successor's.
   */
  | { kind: 'rotated' | 'grace' | 'reissued'; successor: string; generation: number }
  /** Presented again once its successor was used (or presented after being superseded): the grant must end. */
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
/** Another request changed the token's successor first: look again. */
class LostReissue extends Error {}

export function refreshTokensService(store: Store, secret: string, options: { refreshTokenTtlSeconds: number; refreshGraceSeconds: number }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  // Derived once, and held as a KeyObject: handing createHmac raw key bytes builds a key object on every call.
  const successorKey = createSecretKey(Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'tollgate:refresh-successor', 32)));
  // The n-th reissue's successor differs from the first (tokens are base64url: the newline cannot occur in them).
  const successorOf = (token: string, reissues = 0): string =>
    createHmac('sha256', successorKey).update(reissues === 0 ? token : `${token}\n${reissues}`).digest('base64url');
  const row = (hash: string, grantId: string, now: number, generation: number): RefreshTokensTable => ({
    token_hash: hash,
    grant_id: grantId,
    created_at: now,
    expires_at: now + options.refreshTokenTtlSeconds * 1000,
    rotated_at: null,
    successor_hash: null,
    generation,
    reissues: 0,
  });

  // Compiled once (src/store/prepared.ts).
  const byHash = prepareQuery((slot) => db.selectFrom('oauth_refresh_tokens').selectAll().where('token_hash', '=', slot(0) as string));
  const withGrant = prepareQuery((slot) =>
    db
      .selectFrom('oauth_refresh_tokens as t')
      .innerJoin('oauth_grants as g', 'g.id', 't.grant_id')
      .select([
        't.token_hash', 't.grant_id', 't.created_at as token_created_at', 't.expires_at', 't.rotated_at', 't.successor_hash', 't.generation', 't.reissues',
        'g.id', 'g.client_id', 'g.user_id', 'g.workspace_id', 'g.resource', 'g.scope', 'g.created_at', 'g.last_used_at', 'g.revoked_at', 'g.revoked_reason', 'g.resource_implicit', 'g.confirmed_generation',
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
      .returning(['grant_id', 'generation']),
  );
  const insertToken = prepareQuery((slot) =>
    db.insertInto('oauth_refresh_tokens').values({
      token_hash: slot(0) as string, grant_id: slot(1) as string, created_at: slot(2) as number, expires_at: slot(3) as number, rotated_at: slot(4) as null, successor_hash: slot(5) as null,
      generation: slot(6) as number, reissues: slot(7) as number,
    }),
  );
  const insertValues = (r: RefreshTokensTable) => [r.token_hash, r.grant_id, r.created_at, r.expires_at, r.rotated_at, r.successor_hash, r.generation, r.reissues];
  // A rotated token, its successor's use, and how far the grant's client has confirmed the chain.
  const rotationState = prepareQuery((slot) =>
    db
      .selectFrom('oauth_refresh_tokens as t')
      .innerJoin('oauth_grants as g', 'g.id', 't.grant_id')
      .leftJoin('oauth_refresh_tokens as s', 's.token_hash', 't.successor_hash')
      .select(['t.grant_id', 't.rotated_at', 't.successor_hash', 't.generation', 't.reissues', 's.token_hash as successor_found', 's.rotated_at as successor_rotated_at', 'g.confirmed_generation'])
      .where('t.token_hash', '=', slot(0) as string),
  );
  // [now, successorHash] — the unused successor is superseded: its row stays, so that presenting it is a replay.
  const supersede = prepareQuery((slot) =>
    db
      .updateTable('oauth_refresh_tokens')
      .set({ rotated_at: slot(0) as number, successor_hash: null })
      .where('token_hash', '=', slot(1) as string)
      .where('rotated_at', 'is', null)
      .returning('token_hash'),
  );
  // [now, nextHash, reissues, hash, previousSuccessorHash]
  const markReissued = prepareQuery((slot) =>
    db
      .updateTable('oauth_refresh_tokens')
      .set({ rotated_at: slot(0) as number, successor_hash: slot(1) as string, reissues: slot(2) as number })
      .where('token_hash', '=', slot(3) as string)
      .where('successor_hash', '=', slot(4) as string)
      .returning('token_hash'),
  );

  // On SQLite (one connection: commits are serialized anyway) rotations that arrive together share one transaction
  // and one disk sync, each in a savepoint of its own (src/store/group-transaction.ts); a commit cost about twice the
  // rotation's statements. On PostgreSQL each rotation has its own transaction, on a connection of its own.
  const grouped = store.dialect === 'sqlite' ? groupTransactions(db) : undefined;
  const inTransaction = <T,>(work: (trx: Kysely<OAuthTables>) => Promise<T>): Promise<T> => (grouped ? grouped.run(work) : db.transaction().execute(work));

  /** The rotation itself: the successor's generation when this caller won it. */
  function rotate(hash: string, successorHash: string, now: number, also: RotationOptions['alsoOnRotation']): Promise<number | undefined> {
    return inTransaction(async (trx) => {
      const { rows } = await trx.executeQuery(markRotated([now, successorHash, hash]));
      if (rows.length !== 1) return undefined;
      const generation = Number(rows[0].generation) + 1;
      await trx.executeQuery(insertToken(insertValues(row(successorHash, rows[0].grant_id, now, generation))));
      if (also) {
        try {
          await also(trx);
        } catch (err) {
          throw new AlsoOnRotationFailed('alsoOnRotation failed', { cause: err });
        }
      }
      return generation;
    });
  }

  /** Replaces a successor that was never used with a fresh one; throws LostReissue if the chain moved meanwhile. */
  function reissue(hash: string, grantId: string, previous: string, next: string, reissues: number, generation: number, now: number): Promise<void> {
    return inTransaction(async (trx) => {
      if ((await trx.executeQuery(supersede([now, previous]))).rows.length !== 1) throw new LostReissue();
      if ((await trx.executeQuery(markReissued([now, next, reissues, hash, previous]))).rows.length !== 1) throw new LostReissue();
      await trx.executeQuery(insertToken(insertValues(row(next, grantId, now, generation))));
    });
  }

  /** The outcome for a token that was rotated already (this caller did not win its rotation). */
  async function rotatedBefore(token: string, hash: string, now: number): Promise<RotationResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await db.executeQuery(rotationState([hash]));
      const current = rows[0];
      if (current?.rotated_at == null || current.successor_hash === null) return { kind: 'replay' };
      const generation = Number(current.generation) + 1;
      const reissues = Number(current.reissues);
      const successor = successorOf(token, reissues);
      // The grace window: the same successor, so a retried or concurrent refresh keeps one chain.
      if (now - Number(current.rotated_at) <= options.refreshGraceSeconds * 1000 && current.successor_hash === sha256Hex(successor)) {
        return { kind: 'grace', successor, generation };
      }
      // RFC 9700 §4.14.2: reuse of a rotated token is theft once the client has shown it holds the successor.
      const successorUsed = current.successor_found === null || current.successor_rotated_at !== null || Number(current.confirmed_generation) >= generation;
      if (successorUsed) return { kind: 'replay' };
      // The successor never reached the client (a crash between the rotation's commit and its answer): a fresh one.
      const next = successorOf(token, reissues + 1);
      try {
        await reissue(hash, current.grant_id, current.successor_hash, sha256Hex(next), reissues + 1, generation, now);
        return { kind: 'reissued', successor: next, generation };
      } catch (err) {
        if (!(err instanceof LostReissue)) throw err;
      }
    }
    return { kind: 'replay' };
  }

  return {
    /** A new refresh token for a grant (first issue, at code redemption). */
    async issueRefreshToken(grantId: string, trx: Kysely<OAuthTables> = db): Promise<string> {
      const token = randomToken(32);
      await trx.executeQuery(insertToken(insertValues(row(sha256Hex(token), grantId, Date.now(), 0))));
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
        token: {
          token_hash: r.token_hash, grant_id: r.grant_id, created_at: r.token_created_at, expires_at: r.expires_at, rotated_at: r.rotated_at, successor_hash: r.successor_hash,
          generation: Number(r.generation), reissues: Number(r.reissues),
        },
        grant: toGrant(r as unknown as GrantRow),
      };
    },

    /**
     * Rotates a (found, unexpired) token. Exactly one caller wins the rotation; the others, and retries within the
     * grace window, receive the same successor; a retry after it, while the successor is unused, a fresh one.
     * Anything else is a replay.
     */
    async rotateRefreshToken(token: string, rotation: RotationOptions = {}): Promise<RotationResult> {
      const hash = sha256Hex(token);
      const successor = successorOf(token);
      const successorHash = sha256Hex(successor);
      const now = Date.now();
      let generation: number | undefined;
      try {
        generation = await rotate(hash, successorHash, now, rotation.alsoOnRotation);
      } catch (err) {
        if (!(err instanceof AlsoOnRotationFailed)) throw err;
        // The rotation was rolled back with it: make it again, alone.
        generation = await rotate(hash, successorHash, now, undefined);
      }
      if (generation !== undefined) return { kind: 'rotated', successor, generation };
      return rotatedBefore(token, hash, now);
    },

    async deleteOld(): Promise<void> {
      await db.deleteFrom('oauth_refresh_tokens').where('expires_at', '<', Date.now() - KEEP_EXPIRED_MS).execute();
    },
  };
}

export type RefreshTokens = ReturnType<typeof refreshTokensService>;
