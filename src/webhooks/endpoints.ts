// Registered receivers of outbound events: per deployment (every event) or per workspace (that workspace's), each
// with its own signing secret, shown once when the endpoint is added; and each endpoint's delivery log.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { UserFacingError } from '../util/errors.ts';
import { newId } from '../util/ids.ts';
import { EVENT_TYPES } from './outbox.ts';
import { newEndpointSecret } from './signature.ts';
import type { DeliveryStatus, WebhooksTables } from './tables.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';

export class WebhooksError extends UserFacingError {
  readonly code: 'invalid_url' | 'invalid_events' | 'not_found';
  constructor(code: WebhooksError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  workspaceId: string | null;
  events: readonly string[] | '*';
  description: string;
  createdAt: number;
}

export interface DeliveryLogEntry {
  id: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

/** Parses `*` or a comma-separated list of known event types. */
export function parseEventTypes(input: string | undefined): string {
  const value = (input ?? '*').trim();
  if (value === '*' || value === '') return '*';
  const types = [...new Set(value.split(',').map((t) => t.trim()).filter(Boolean))];
  const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length) throw new WebhooksError('invalid_events', `Unknown event type ${unknown.map((t) => `"${t.slice(0, 40)}"`).join(', ')}; known: ${EVENT_TYPES.join(', ')}`);
  return types.join(',');
}

export function validateEndpointUrl(url: string, allowHttp: boolean): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new WebhooksError('invalid_url', 'The endpoint must be an absolute https URL');
  }
  if (u.protocol !== 'https:' && !(allowHttp && u.protocol === 'http:')) throw new WebhooksError('invalid_url', 'The endpoint must use https');
  if (u.username || u.password) throw new WebhooksError('invalid_url', 'The endpoint URL must not carry credentials');
  if (u.hash) throw new WebhooksError('invalid_url', 'The endpoint URL must not have a fragment');
  if (u.href.length > 2048) throw new WebhooksError('invalid_url', 'The endpoint URL is too long');
  return u.href;
}

export function endpointsService(store: Store, box: SecretBox, options: { allowHttp: boolean }) {
  const db: Kysely<WebhooksTables> = store.typed<WebhooksTables>();
  const toEndpoint = (r: { id: string; url: string; workspace_id: string | null; events: string; description: string; created_at: number }): WebhookEndpoint => ({
    id: r.id,
    url: r.url,
    workspaceId: r.workspace_id,
    events: r.events === '*' ? '*' : r.events.split(','),
    description: r.description,
    createdAt: Number(r.created_at),
  });

  return {
    /** Adds an endpoint; the secret is returned this once (it is stored sealed). */
    async addEndpoint(input: { url: string; workspaceId?: string | null; events?: string; description?: string }, audit?: AuditContext): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
      const url = validateEndpointUrl(input.url, options.allowHttp);
      const events = parseEventTypes(input.events);
      const secret = newEndpointSecret();
      const row = { id: `we_${newId().replaceAll('-', '').slice(0, 20)}`, url, workspace_id: input.workspaceId ?? null, secret_sealed: box.seal(secret), events, description: (input.description ?? '').slice(0, 200), created_at: Date.now() };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('webhook_endpoints').values(row).execute();
        if (audit) await recordAudit(trx, { ...audit, action: 'webhook.added', target: { type: 'webhook_endpoint', id: row.id }, workspaceId: row.workspace_id, after: { url: row.url, events: row.events } });
      });
      return { endpoint: toEndpoint(row), secret };
    },

    async listEndpoints(filter: { workspaceId?: string | null } = {}): Promise<WebhookEndpoint[]> {
      let q = db.selectFrom('webhook_endpoints').select(['id', 'url', 'workspace_id', 'events', 'description', 'created_at']).orderBy('created_at').orderBy('id');
      if (filter.workspaceId === null) q = q.where('workspace_id', 'is', null);
      else if (filter.workspaceId) q = q.where('workspace_id', '=', filter.workspaceId);
      return (await q.execute()).map(toEndpoint);
    },

    async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
      const r = await db.selectFrom('webhook_endpoints').select(['id', 'url', 'workspace_id', 'events', 'description', 'created_at']).where('id', '=', id).executeTakeFirst();
      return r && toEndpoint(r);
    },

    /** Removes an endpoint and its pending deliveries. */
    async removeEndpoint(id: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const gone = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).returning(['url', 'workspace_id']).executeTakeFirst();
        if (gone && audit) await recordAudit(trx, { ...audit, action: 'webhook.removed', target: { type: 'webhook_endpoint', id }, workspaceId: gone.workspace_id, before: { url: gone.url } });
        return !!gone;
      });
    },

    /** The endpoint's deliveries, newest first. */
    async listDeliveries(endpointId: string, limit = 50): Promise<DeliveryLogEntry[]> {
      const rows = await db
        .selectFrom('webhook_deliveries')
        .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
        .select(['webhook_deliveries.id as id', 'webhook_events.id as eventId', 'webhook_events.type as type', 'status', 'attempts', 'next_attempt_at', 'last_status', 'last_error', 'delivered_at', 'webhook_deliveries.created_at as created_at'])
        .where('endpoint_id', '=', endpointId)
        .orderBy('webhook_deliveries.created_at', 'desc')
        .orderBy('webhook_deliveries.id', 'desc')
        .limit(Math.min(Math.max(1, limit), 200))
        .execute();
      return rows.map((r) => ({
        id: r.id, eventId: r.eventId, type: r.type, status: r.status, attempts: Number(r.attempts), nextAttemptAt: Number(r.next_attempt_at),
        lastStatus: r.last_status === null ? null : Number(r.last_status), lastError: r.last_error, deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at), createdAt: Number(r.created_at),
      }));
    },

    /** Sends a delivery again soon (same event id, so receivers still dedupe), whatever its state. */
    async redeliver(deliveryId: string, endpointId?: string, audit?: AuditContext): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        let q = trx.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: Date.now(), lease_until: 0 }).where('id', '=', deliveryId);
        if (endpointId) q = q.where('endpoint_id', '=', endpointId);
        const done = Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
        if (done && audit) await recordAudit(trx, { ...audit, action: 'webhook.redelivered', target: { type: 'webhook_delivery', id: deliveryId } });
        return done;
      });
    },
  };
}

export type EndpointsService = ReturnType<typeof endpointsService>;
