// The durable outbox: an event is written in the same transaction as the change it announces, with one delivery
// row per endpoint that wants it. If the transaction rolls back, no event; once it commits, the delivery worker
// sends it at least once, whatever happens to this process.
import type { Kysely, Transaction } from 'kysely';
import { newId, randomToken } from '../util/ids.ts';
import type { WebhooksTables } from './tables.ts';

export const EVENT_TYPES = [
  'credits.low',
  'credits.exhausted',
  'credits.granted',
  'grant.created',
  'grant.revoked',
  'workspace.created',
  'client.created',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface OutboundEvent {
  readonly type: EventType;
  /** The workspace the event is about (its endpoints and the deployment's receive it); null: deployment-wide only. */
  readonly workspaceId: string | null;
  /** Event data: ids, slugs, amounts; never a secret. */
  readonly data: Record<string, unknown>;
}

export const newEventId = (): string => `evt_${randomToken(18)}`;

/** Any Kysely transaction of any module: the outbox tables are reached only through this function. */
export type AnyTransaction = Transaction<any> | Kysely<any>;

/**
 * Writes the events and their deliveries inside the caller's transaction. Returns the event ids (none when no
 * endpoint wants any of them: nothing is written then).
 */
export async function enqueueEvents(trx: AnyTransaction, events: readonly OutboundEvent[]): Promise<string[]> {
  if (!events.length) return [];
  const db = trx as unknown as Kysely<WebhooksTables>;
  const workspaceIds = [...new Set(events.map((e) => e.workspaceId).filter((w): w is string => !!w))];
  let q = db.selectFrom('webhook_endpoints').select(['id', 'workspace_id', 'events']);
  q = workspaceIds.length ? q.where((eb) => eb.or([eb('workspace_id', 'is', null), eb('workspace_id', 'in', workspaceIds)])) : q.where('workspace_id', 'is', null);
  const endpoints = await q.execute();
  if (!endpoints.length) return [];
  const at = Date.now();
  const ids: string[] = [];
  for (const event of events) {
    const wanted = endpoints.filter((ep) => (ep.workspace_id === null || ep.workspace_id === event.workspaceId) && (ep.events === '*' || ep.events.split(',').includes(event.type)));
    if (!wanted.length) continue;
    const id = newEventId();
    ids.push(id);
    const payload = JSON.stringify({ type: event.type, timestamp: new Date(at).toISOString(), data: event.data });
    await db.insertInto('webhook_events').values({ id, type: event.type, workspace_id: event.workspaceId, payload, created_at: at }).execute();
    await db
      .insertInto('webhook_deliveries')
      .values(wanted.map((ep) => ({ id: newId(), event_id: id, endpoint_id: ep.id, status: 'pending' as const, attempts: 0, next_attempt_at: at, lease_until: 0, last_status: null, last_error: null, delivered_at: null, created_at: at })))
      .execute();
  }
  return ids;
}

export const enqueueEvent = (trx: AnyTransaction, event: OutboundEvent): Promise<string[]> => enqueueEvents(trx, [event]);
