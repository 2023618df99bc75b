// Idempotent writes (draft-ietf-httpapi-idempotency-key-header): the first request with a key claims it and stores
// its answer in the same transaction as the change, so a retry — even one that runs at the same time — finds the
// claim and gets the stored answer instead of a second change. The same key with another request is refused (422).
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { ApiProblem } from './problem.ts';
import type { ApiTables } from './tables.ts';

/** How long a key is remembered (the draft suggests at least 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const CLEANUP_INTERVAL_MS = 10 * 60_000;
/** The header's value: an sf-string (RFC 8941), as the draft defines it; a bare token is accepted too. */
const KEY_RE = /^"?([\x21\x23-\x5b\x5d-\x7e]{1,255})"?$/;

export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = KEY_RE.exec(header.trim());
  if (!m || (header.trim().startsWith('"') !== header.trim().endsWith('"'))) throw new ApiProblem('invalid_request', 'Idempotency-Key must be a quoted string of 1–255 printable ASCII characters');
  return m[1];
}

export function fingerprintOf(operationId: string, params: Record<string, string>, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([operationId, params, body ?? null])).digest('hex');
}

export interface StoredAnswer {
  status: number;
  body: unknown;
  replayed: boolean;
}

export function idempotencyStore(store: Store) {
  const db: Kysely<ApiTables> = store.typed<ApiTables>();
  let lastCleanup = 0;

  async function cleanup(): Promise<void> {
    if (Date.now() - lastCleanup < CLEANUP_INTERVAL_MS) return;
    lastCleanup = Date.now();
    await db.deleteFrom('api_idempotency_keys').where('created_at', '<', Date.now() - IDEMPOTENCY_TTL_MS).execute().catch(() => {});
  }

  return {
    /**
     * Runs `write` once per (API key, idempotency key): in one transaction with the claim and the stored answer.
     * `write` receives the transaction (a credits change joins it).
     */
    async run(input: { apiKeyId: string; key: string; fingerprint: string }, write: (trx: Kysely<unknown>) => Promise<{ status: number; body: unknown }>): Promise<StoredAnswer> {
      await cleanup();
      return db.transaction().execute(async (trx) => {
        const at = Date.now();
        // PostgreSQL: a concurrent claim of the same key waits here until the first commits (or rolls back).
        const claimed = await trx
          .insertInto('api_idempotency_keys')
          .values({ api_key_id: input.apiKeyId, idempotency_key: input.key, fingerprint: input.fingerprint, status: 0, response: '', created_at: at })
          .onConflict((oc) => oc.columns(['api_key_id', 'idempotency_key']).doNothing())
          .returning('status')
          .executeTakeFirst();
        if (!claimed) {
          const prior = await trx.selectFrom('api_idempotency_keys').selectAll().where('api_key_id', '=', input.apiKeyId).where('idempotency_key', '=', input.key).executeTakeFirstOrThrow();
          // Draft §2.7: the same key with a different payload is 422; one still being processed is 409.
          if (prior.fingerprint !== input.fingerprint) throw new ApiProblem('idempotency_key_reused', 'This Idempotency-Key was already used with a different request; use a new key for a new request');
          if (Number(prior.status) === 0) throw new ApiProblem('idempotency_in_progress', 'A request with this Idempotency-Key is still being processed; retry later');
          return { status: Number(prior.status), body: JSON.parse(prior.response), replayed: true };
        }
        const answer = await write(trx as unknown as Kysely<unknown>);
        await trx
          .updateTable('api_idempotency_keys')
          .set({ status: answer.status, response: JSON.stringify(answer.body) })
          .where('api_key_id', '=', input.apiKeyId)
          .where('idempotency_key', '=', input.key)
          .execute();
        return { ...answer, replayed: false };
      });
    },
  };
}

export type IdempotencyStore = ReturnType<typeof idempotencyStore>;
