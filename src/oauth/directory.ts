// Read and manage clients and grants by name, for the dashboard and the CLI.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { CimdService } from './cimd.ts';
import { clientFromDocument } from './cimd.ts';
import type { ClientsService, OAuthClient } from './clients.ts';
import type { Grant, GrantsService } from './grants.ts';
import type { OAuthTables } from './tables.ts';

export interface WorkspaceGrant extends Grant {
  clientName: string;
  clientKind: OAuthClient['kind'] | 'deleted';
}

export function directoryService(store: Store, deps: { clients: ClientsService; grants: GrantsService; cimd: CimdService }) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();

  /** A client's display name without fetching anything: registered clients, cached documents, else the URL host. */
  async function describeClient(clientId: string): Promise<{ name: string; kind: WorkspaceGrant['clientKind'] }> {
    const registered = await deps.clients.getClient(clientId);
    if (registered) return { name: registered.name, kind: registered.kind };
    const doc = await db.selectFrom('oauth_cimd_documents').selectAll().where('url', '=', clientId).executeTakeFirst();
    if (doc) {
      try {
        return { name: clientFromDocument(clientId, JSON.parse(doc.document), doc.fetched_at).name, kind: 'cimd' };
      } catch {
        // fall through: a stored document that no longer validates still names its host
      }
    }
    try {
      const u = new URL(clientId);
      return { name: u.host, kind: 'cimd' };
    } catch {
      return { name: 'Deleted client', kind: 'deleted' };
    }
  }

  return {
    describeClient,
    listClients: deps.clients.listClients,
    getClient: deps.clients.getClient,
    deleteClient: deps.clients.deleteClient,
    rotateClientSecret: deps.clients.rotateSecret,

    /** A workspace's grants (connected apps), newest first, with each client's name. */
    async listWorkspaceGrants(workspaceId: string, options: { includeRevoked?: boolean } = {}): Promise<WorkspaceGrant[]> {
      const grants = await deps.grants.listGrantsForWorkspace(workspaceId, options);
      const names = new Map<string, { name: string; kind: WorkspaceGrant['clientKind'] }>();
      for (const g of grants) if (!names.has(g.clientId)) names.set(g.clientId, await describeClient(g.clientId));
      return grants.map((g) => ({ ...g, clientName: names.get(g.clientId)!.name, clientKind: names.get(g.clientId)!.kind }));
    },
  };
}
