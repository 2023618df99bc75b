// The per-client connection log: registration, authorize, token, first MCP call, and errors with their request ids,
// so a user can see why a client failed to connect (shown on the dashboard).
import type { Kysely } from 'kysely';
import { prepareQuery } from '../store/prepared.ts';
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

export interface ClientEventInput {
  clientId: string;
  workspaceId?: string | null;
  kind: ClientEventKind;
  requestId?: string | null;
  detail?: string;
}

/** Events kept per client; older ones are pruned as new ones arrive. */
const KEEP_PER_CLIENT = 200;

export function clientEventsService(store: Store) {
  const db: Kysely<OAuthTables> = store.typed<OAuthTables>();
  let writes = 0;
  // Compiled once: token requests record an event each.
  const insertEvent = prepareQuery((slot) =>
    db.insertInto('oauth_client_events').values({
      client_id: slot(0) as string, workspace_id: slot(1) as string | null, kind: slot(2) as string, request_id: slot(3) as string | null, detail: slot(4) as string, created_at: slot(5) as number,
    }),
  );

  async function prune(clientId: string, trx: Kysely<OAuthTables> = db): Promise<void> {
    const cutoff = await trx.selectFrom('oauth_client_events').select('id').where('client_id', '=', clientId).orderBy('id', 'desc').offset(KEEP_PER_CLIENT).limit(1).executeTakeFirst();
    if (cutoff) await trx.deleteFrom('oauth_client_events').where('client_id', '=', clientId).where('id', '<=', cutoff.id).execute();
  }

  /**
   * Appends an event, in `trx` when given (so that it commits with what it describes). Unlike `record` it throws, so
   * that a transaction can be rolled back; callers that pass a transaction decide what a failure means.
   */
  async function append(event: ClientEventInput, trx: Kysely<OAuthTables> = db): Promise<void> {
    await trx.executeQuery(insertEvent([event.clientId.slice(0, 2048), event.workspaceId ?? null, event.kind, event.requestId ?? null, (event.detail ?? '').slice(0, 500), Date.now()]));
    if (++writes % 50 === 0) await prune(event.clientId, trx);
  }

  return {
    /** Appends an event; never throws (the log must not break the flow it describes). */
    async record(event: ClientEventInput): Promise<void> {
      try {
        await append(event);
      } catch {
        // swallowed on purpose: see above
      }
    },

    append,

    async list(clientId: string, limit = 50): Promise<ClientEvent[]> {
      const rows = await db.selectFrom('oauth_client_events').selectAll().where('client_id', '=', clientId).orderBy('id', 'desc').limit(Math.min(limit, KEEP_PER_CLIENT)).execute();
      return rows.map((r) => ({ id: r.id, clientId: r.client_id, workspaceId: r.workspace_id, kind: r.kind as ClientEventKind, requestId: r.request_id, detail: r.detail, createdAt: r.created_at }));
    },

    prune,
  };
}

export type ClientEvents = ReturnType<typeof clientEventsService>;
