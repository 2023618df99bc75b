// The per-client connection log: registration, authorize, token, first MCP call, and errors with their request ids,
// so a user can see why a client failed to connect (shown on the dashboard).
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { OAuthTables } from './tables.ts';

export type ClientEventKind =
  | 'registered'
  | 'authorize'
  | 'authorize_error'
  | 'consent_approved'
  | 'consent_denied'
  | 'token'
  | 'token_error'
  | 'refresh'
  | 'refresh_replay'
  | 'revoked'
  | 'mcp_first_call'
  | 'mcp_error';

export interface ClientEvent {
  id: number;
  clientId: string;
  workspaceId: string | null;
  kind: ClientEventKind;
  requestId: string | null;
  detail: string;
  createdAt: number;
}

/** Events kept per client; older ones are pruned as new ones arrive. */
const KEEP_PER_CLIENT = 200;

export function clientEventsService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  let writes = 0;
  return {
    /** Appends an event; never throws (the log must not break the flow it describes). */
    async record(event: { clientId: string; workspaceId?: string | null; kind: ClientEventKind; requestId?: string | null; detail?: string }): Promise<void> {
      try {
        await db
          .insertInto('oauth_client_events')
          .values({
            client_id: event.clientId.slice(0, 2048),
            workspace_id: event.workspaceId ?? null,
            kind: event.kind,
            request_id: event.requestId ?? null,
            detail: (event.detail ?? '').slice(0, 500),
            created_at: Date.now(),
          })
          .execute();
        if (++writes % 50 === 0) await this.prune(event.clientId);
      } catch {
        // swallowed on purpose: see above
      }
    },

    async list(clientId: string, limit = 50): Promise<ClientEvent[]> {
      const rows = await db.selectFrom('oauth_client_events').selectAll().where('client_id', '=', clientId).orderBy('id', 'desc').limit(Math.min(limit, KEEP_PER_CLIENT)).execute();
      return rows.map((r) => ({ id: r.id, clientId: r.client_id, workspaceId: r.workspace_id, kind: r.kind as ClientEventKind, requestId: r.request_id, detail: r.detail, createdAt: r.created_at }));
    },

    async prune(clientId: string): Promise<void> {
      const cutoff = await db.selectFrom('oauth_client_events').select('id').where('client_id', '=', clientId).orderBy('id', 'desc').offset(KEEP_PER_CLIENT).limit(1).executeTakeFirst();
      if (cutoff) await db.deleteFrom('oauth_client_events').where('client_id', '=', clientId).where('id', '<=', cutoff.id).execute();
    },
  };
}

export type ClientEvents = ReturnType<typeof clientEventsService>;
