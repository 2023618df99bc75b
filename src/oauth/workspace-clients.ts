// Which workspace owns an OAuth client created on its dashboard: that workspace's owners and admins manage it, and it
// may be granted that workspace only (authorization-policy.ts). A client deleted elsewhere (the CLI) simply drops out
// of the list. The table keeps its first name, `web_workspace_clients`, so existing databases keep working.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { OAuthTables } from './tables.ts';
import type { AuditContext } from '../audit/index.ts';
import type { ClientMetadata } from './client-metadata.ts';
import type { ClientsService } from './clients.ts';

interface WorkspaceClientsTables {
  web_workspace_clients: { client_id: string; workspace_id: string; created_by: string | null; created_at: number };
}

export function workspaceClientsService(store: Store, clients: Pick<ClientsService, 'createClient'>) {
  const db: Kysely<WorkspaceClientsTables> = store.typed<WorkspaceClientsTables>();
  async function record(clientId: string, workspaceId: string, userId: string, trx?: Kysely<OAuthTables>): Promise<void> {
    await (trx ? (trx as unknown as Kysely<WorkspaceClientsTables>) : db).insertInto('web_workspace_clients').values({ client_id: clientId, workspace_id: workspaceId, created_by: userId, created_at: Date.now() }).execute();
  }
  return {
    record,

    /**
     * A static client owned by `workspaceId` (its dashboard, the management API): the client, its binding to the
     * workspace, its client.created event and audit record commit in one transaction, so that a crash or a failed
     * binding never leaves a client no workspace can see or manage.
     */
    create(metadata: ClientMetadata, workspaceId: string, createdBy: string, audit?: AuditContext): ReturnType<ClientsService['createClient']> {
      return store.typed<OAuthTables>().transaction().execute(async (trx) => {
        const created = await clients.createClient(metadata, 'static', trx, audit, { workspaceId });
        await record(created.client.clientId, workspaceId, createdBy, trx);
        return created;
      });
    },

    /** The client ids a workspace owns, newest first. */
    async list(workspaceId: string): Promise<string[]> {
      const rows = await db.selectFrom('web_workspace_clients').select('client_id').where('workspace_id', '=', workspaceId).orderBy('created_at', 'desc').execute();
      return rows.map((r) => r.client_id);
    },

    /** The workspace id that owns a client, if any. */
    async ownerOf(clientId: string): Promise<string | undefined> {
      if (!clientId || clientId.length > 255) return undefined;
      const r = await db.selectFrom('web_workspace_clients').select('workspace_id').where('client_id', '=', clientId).executeTakeFirst();
      return r?.workspace_id;
    },

    /** The workspace a client is bound to and the user who bound it (a machine client acts with that user's membership). */
    async bindingOf(clientId: string): Promise<{ workspaceId: string; createdBy: string | null } | undefined> {
      if (!clientId || clientId.length > 255) return undefined;
      const r = await db.selectFrom('web_workspace_clients').select(['workspace_id', 'created_by']).where('client_id', '=', clientId).executeTakeFirst();
      return r && { workspaceId: r.workspace_id, createdBy: r.created_by };
    },

    /** The owning workspace id of each of these clients that has one, in one query. */
    async ownersOf(clientIds: readonly string[]): Promise<Map<string, string>> {
      if (!clientIds.length) return new Map();
      const rows = await db.selectFrom('web_workspace_clients').select(['client_id', 'workspace_id']).where('client_id', 'in', clientIds).execute();
      return new Map(rows.map((r) => [r.client_id, r.workspace_id]));
    },

    async forget(clientId: string): Promise<void> {
      await db.deleteFrom('web_workspace_clients').where('client_id', '=', clientId).execute();
    },
  };
}

export type WorkspaceClients = ReturnType<typeof workspaceClientsService>;
