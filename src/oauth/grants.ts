// A grant is one user's authorization of one client for one resource and workspace. Its access tokens carry its
// id; revoking it ends them in every process: on SQLite on the very next request (the check trusts what it found
// only while the grant epoch, read once per read snapshot, stays the same: grant-epoch.ts), on PostgreSQL within the
// time a NOTIFY takes to arrive (see grant-cache.ts), or the cache's max age at worst.
import { sql, type Kysely } from 'kysely';
import { prepareQuery } from '../store/prepared.ts';
import type { DialectName, Listening, Store } from '../store/store.ts';
import { newId } from '../util/ids.ts';
import { GRANTS_CHANNEL, grantCache } from './grant-cache.ts';
import { grantEpochCache } from './grant-epoch.ts';
import type { GrantsTable, OAuthTables } from './tables.ts';
import { enqueueEvent, enqueueEvents } from '../webhooks/index.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export interface Grant {
  id: string;
  clientId: string;
  userId: string;
  workspaceId: string;
  resource: string;
  scopes: string[];
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  revokedReason: string | null;
  /** The client sent no `resource`: its tokens also work at the shared endpoint (see resource.ts). */
  resourceImplicit: boolean;
  /** The newest refresh-token generation the client has proven it received (see refresh-tokens.ts). */
  confirmedGeneration: number;
}

export type GrantRow = Omit<GrantsTable, 'resource_implicit' | 'confirmed_generation'> & { resource_implicit: number; confirmed_generation?: number };

export const toGrant = (r: GrantRow): Grant => ({
  id: r.id,
  clientId: r.client_id,
  userId: r.user_id,
  workspaceId: r.workspace_id,
  resource: r.resource,
  scopes: r.scope ? r.scope.split(' ') : [],
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  revokedReason: r.revoked_reason,
  resourceImplicit: r.resource_implicit === 1,
  confirmedGeneration: Number(r.confirmed_generation ?? 0),
});

/** `last_used_at` is written at most this often per grant, so MCP calls don't each write it. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Revokes the live grants that match, in one statement; on PostgreSQL the same statement announces each on
 * GRANTS_CHANNEL (pg_notify is transactional: heard only once the revocation commits). Returns how many it revoked.
 */
export async function revokeGrants(trx: Kysely<OAuthTables>, dialect: DialectName, where: { id: string } | { clientId: string }, reason: string): Promise<number> {
  const [column, value] = 'id' in where ? ['id', where.id] : ['client_id', where.clientId];
  const at = Date.now();
  const why = reason.slice(0, 200);
  // The grants about to be revoked, for their `grant.revoked` events (written with the revocation, in its transaction).
  const live = await trx.selectFrom('oauth_grants').select(['id', 'workspace_id', 'client_id', 'user_id']).where(column as 'id', '=', value).where('revoked_at', 'is', null).execute();
  let revoked: number;
  if (dialect === 'postgres') {
    const { rows } = await sql<{ id: string }>`with r as (
        update oauth_grants set revoked_at = ${at}, revoked_reason = ${why} where ${sql.ref(column)} = ${value} and revoked_at is null returning id
      ) select pg_notify(${GRANTS_CHANNEL}, r.id), r.id from r`.execute(trx);
    revoked = rows.length;
  } else {
    const r = await trx.updateTable('oauth_grants').set({ revoked_at: at, revoked_reason: why }).where(column as 'id', '=', value).where('revoked_at', 'is', null).executeTakeFirst();
    revoked = Number(r.numUpdatedRows);
  }
  if (revoked) {
    await enqueueEvents(trx, live.map((g) => ({ type: 'grant.revoked' as const, workspaceId: g.workspace_id, data: { grant_id: g.id, workspace_id: g.workspace_id, client_id: g.client_id, user_id: g.user_id, reason: why } })));
  }
  return revoked;
}

export interface GrantsOptions {
  /** PostgreSQL: how long a grant found active is trusted without a read (0: read every time). */
  cacheMaxAgeMs?: number;
  /** SQLite: trust grants found active while the grant epoch stays the same (default true; false reads every time). */
  localCache?: boolean;
}

export function grantsService(store: Store, options: GrantsOptions = {}) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  // PostgreSQL: trusted while revocations are heard.
  const listened = store.listen && (options.cacheMaxAgeMs ?? 0) > 0 ? grantCache({ maxAgeMs: options.cacheMaxAgeMs! }) : undefined;
  // SQLite: exact, kept by the grant epoch (grant-epoch.ts).
  const local = store.snapshot && options.localCache !== false ? grantEpochCache(store.snapshot) : undefined;
  let listening: Listening | undefined;
  let closed = false;
  // Started by the first check, so that a CLI command that never verifies a token opens no extra connection.
  const hear = () => {
    if (listening || closed || !listened || !store.listen) return;
    listening = store.listen(GRANTS_CHANNEL, listened.heard, listened.setLive);
  };
  const touched = new Map<string, number>();
  // Compiled once: the check runs on every MCP request (the statement itself is then cached by the driver).
  const grantStanding = prepareQuery((slot) => db.selectFrom('oauth_grants').select(['revoked_at', 'confirmed_generation']).where('id', '=', slot(0) as string));
  // [generation, id]: only ever raises it, so concurrent confirmations in several processes cannot lower it.
  const raiseConfirmed = prepareQuery((slot) =>
    db
      .updateTable('oauth_grants')
      .set({ confirmed_generation: slot(0) as number })
      .where('id', '=', slot(1) as string)
      .where('confirmed_generation', '<', slot(0) as number),
  );
  // Generations this process has written or is writing (grant → generation), so that the calls that arrive while one
  // is being written, or that read the row before it landed, do not write it again: one write per rotation, not per
  // call. A written generation stays: the column only ever rises. A failed write is forgotten, to be tried again.
  const confirming = new Map<string, number>();

  async function confirmGeneration(id: string, generation: number): Promise<void> {
    if ((confirming.get(id) ?? -1) >= generation) return;
    if (confirming.size > 100_000) confirming.clear();
    confirming.set(id, generation);
    try {
      await db.executeQuery(raiseConfirmed([generation, id]));
    } catch {
      // Never fails the request: the worst case is one more accepted retry of the previous refresh token.
      if (confirming.get(id) === generation) confirming.delete(id);
    }
  }
  const grantById = prepareQuery((slot) => db.selectFrom('oauth_grants').selectAll().where('id', '=', slot(0) as string));

  return {
    async createGrant(
      input: { clientId: string; userId: string; workspaceId: string; resource: string; scopes: string[]; resourceImplicit?: boolean },
      trx: Kysely<OAuthTables> = db,
    ): Promise<Grant> {
      const row: GrantRow = {
        id: newId(),
        client_id: input.clientId,
        user_id: input.userId,
        workspace_id: input.workspaceId,
        resource: input.resource,
        scope: input.scopes.join(' '),
        created_at: Date.now(),
        last_used_at: null,
        revoked_at: null,
        revoked_reason: null,
        resource_implicit: input.resourceImplicit ? 1 : 0,
      };
      await trx.insertInto('oauth_grants').values(row).execute();
      await enqueueEvent(trx, { type: 'grant.created', workspaceId: row.workspace_id, data: { grant_id: row.id, workspace_id: row.workspace_id, client_id: row.client_id, user_id: row.user_id, scope: row.scope, resource: row.resource } });
      return toGrant(row);
    },

    /**
     * The standing grant of a grant type that needs no person's consent each time (client_credentials, ID-JAG): the
     * live grant of this client, user, workspace and resource with these scopes, created when there is none, so that
     * a client asking every hour does not add a grant every hour.
     */
    async standingGrant(input: { clientId: string; userId: string; workspaceId: string; resource: string; scopes: string[] }): Promise<Grant> {
      const scope = input.scopes.join(' ');
      const found = await db
        .selectFrom('oauth_grants')
        .selectAll()
        .where('client_id', '=', input.clientId)
        .where('user_id', '=', input.userId)
        .where('workspace_id', '=', input.workspaceId)
        .where('resource', '=', input.resource)
        .where('scope', '=', scope)
        .where('revoked_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (found) return toGrant(found);
      return this.createGrant(input);
    },

    /**
     * Inserts `count` live grants of one template in set-based SQL (no per-row round trips), with random UUID ids:
     * how the bench seeds a million grants in seconds. Returns how many were inserted.
     */
    async bulkCreateGrants(input: { count: number; clientId: string; userId: string; workspaceId: string; resource: string; scopes: string[] }): Promise<number> {
      const count = Math.max(0, Math.floor(input.count));
      if (!count) return 0;
      const at = Date.now();
      const scope = input.scopes.join(' ');
      const batch = 100_000;
      for (let done = 0; done < count; done += batch) {
        const n = Math.min(batch, count - done);
        const uuid =
          store.dialect === 'postgres'
            ? sql`gen_random_uuid()::text`
            : sql`lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;
        const series =
          store.dialect === 'postgres'
            ? sql`generate_series(1, ${n}) as g(x)`
            : sql`(with recursive g(x) as (select 1 union all select x + 1 from g where x < ${n}) select x from g) as g`;
        await db.transaction().execute((trx) =>
          sql`insert into oauth_grants (id, client_id, user_id, workspace_id, resource, scope, created_at, last_used_at, revoked_at, revoked_reason, resource_implicit)
            select ${uuid}, ${input.clientId}, ${input.userId}, ${input.workspaceId}, ${input.resource}, ${scope}, cast(${at} as bigint), null, null, null, 0 from ${series}`.execute(trx),
        );
      }
      return count;
    },

    async getGrant(id: string): Promise<Grant | undefined> {
      const { rows } = await db.executeQuery(grantById([id]));
      return rows.length ? toGrant(rows[0]) : undefined;
    },

    /**
     * The hot-path check behind every MCP request: does this grant still stand? `generation` is the refresh-token
     * generation the access token was minted with: the first time a newer one is seen, the grant records that its
     * client has received that refresh token (one write per rotation; the read is the one the check makes anyway).
     */
    async isGrantActive(id: string, generation = 0): Promise<boolean> {
      let ticket;
      const cache = listened ?? local?.current();
      if (cache) {
        hear();
        const known = cache.lookup(id);
        if (known !== undefined) {
          if (generation > known) {
            await confirmGeneration(id, generation);
            cache.raise(id, generation);
          }
          return true;
        }
        ticket = cache.ticket();
      }
      const { rows } = await db.executeQuery(grantStanding([id]));
      if (rows.length === 0 || rows[0].revoked_at !== null) return false;
      const confirmed = Number(rows[0].confirmed_generation);
      if (generation > confirmed) await confirmGeneration(id, generation);
      if (cache && ticket) cache.remember(id, Math.max(confirmed, generation), ticket);
      return true;
    },

    /** Stops hearing revocations (the process is shutting down). */
    async close(): Promise<void> {
      closed = true;
      await listening?.close();
      listening = undefined;
    },

    /** Records use, throttled per grant and process. Never blocks the caller on failure. */
    touchGrant(id: string): void {
      const now = Date.now();
      const last = touched.get(id);
      if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
      if (touched.size > 100_000) touched.clear();
      touched.set(id, now);
      db.updateTable('oauth_grants').set({ last_used_at: now }).where('id', '=', id).execute().catch(() => touched.delete(id));
    },

    /** Revokes a grant (idempotent); returns true when it was active. */
    async revokeGrant(id: string, reason: string, trx?: Kysely<OAuthTables>, audit?: AuditContext): Promise<boolean> {
      listened?.drop(id);
      const revoke = async (t: Kysely<OAuthTables>) => {
        const live = audit ? await t.selectFrom('oauth_grants').select(['workspace_id', 'client_id', 'user_id']).where('id', '=', id).executeTakeFirst() : undefined;
        const done = (await revokeGrants(t, store.dialect, { id }, reason)) > 0;
        if (done && audit) await recordAudit(t, { ...audit, action: 'grant.revoked', target: { type: 'grant', id }, workspaceId: live?.workspace_id, after: { client_id: live?.client_id, user_id: live?.user_id, reason } });
        return done;
      };
      if (trx) return revoke(trx);
      return audit ? db.transaction().execute(revoke) : revoke(db);
    },

    async listGrantsForWorkspace(workspaceId: string, options: { includeRevoked?: boolean } = {}): Promise<Grant[]> {
      let q = db.selectFrom('oauth_grants').selectAll().where('workspace_id', '=', workspaceId);
      if (!options.includeRevoked) q = q.where('revoked_at', 'is', null);
      return (await q.orderBy('created_at', 'desc').execute()).map(toGrant);
    },

    async listGrantsForUser(userId: string): Promise<Grant[]> {
      return (await db.selectFrom('oauth_grants').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('created_at', 'desc').execute()).map(toGrant);
    },
  };
}

export type GrantsService = ReturnType<typeof grantsService>;
