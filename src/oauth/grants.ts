// A grant is one user's authorization of one client for one resource and workspace. Its access tokens carry its
// id; revoking it ends them on the very next request, in every process (the check reads the database).
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { newId } from '../util/ids.ts';
import type { GrantsTable, OAuthTables } from './tables.ts';

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
}

const toGrant = (r: GrantsTable): Grant => ({
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
});

/** `last_used_at` is written at most this often per grant, so MCP calls don't each write it. */
const TOUCH_INTERVAL_MS = 60_000;

export function grantsService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  const touched = new Map<string, number>();

  return {
    async createGrant(input: { clientId: string; userId: string; workspaceId: string; resource: string; scopes: string[] }, trx: Kysely<OAuthTables> = db): Promise<Grant> {
      const row: GrantsTable = {
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
      };
      await trx.insertInto('oauth_grants').values(row).execute();
      return toGrant(row);
    },

    async getGrant(id: string): Promise<Grant | undefined> {
      const r = await db.selectFrom('oauth_grants').selectAll().where('id', '=', id).executeTakeFirst();
      return r && toGrant(r);
    },

    /** The hot-path check behind every MCP request: does this grant still stand? */
    async isGrantActive(id: string): Promise<boolean> {
      const r = await db.selectFrom('oauth_grants').select('revoked_at').where('id', '=', id).executeTakeFirst();
      return r !== undefined && r.revoked_at === null;
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
    async revokeGrant(id: string, reason: string, trx: Kysely<OAuthTables> = db): Promise<boolean> {
      const r = await trx.updateTable('oauth_grants').set({ revoked_at: Date.now(), revoked_reason: reason.slice(0, 200) }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
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
