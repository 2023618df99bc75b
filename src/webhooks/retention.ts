// Retention for the outbox: deliveries that are finished (delivered, or failed for good) are deleted once older than
// the retention period, and with them the events no delivery refers to any more. Pending deliveries are never
// deleted, whatever their age: they are still owed to their endpoint.
import type { Kysely } from 'kysely';
import type { WebhooksTables } from './tables.ts';

export async function pruneWebhookHistory(db: Kysely<WebhooksTables>, before: number): Promise<{ deliveries: number; events: number }> {
  const d = await db.deleteFrom('webhook_deliveries').where('status', 'in', ['delivered', 'failed']).where('created_at', '<', before).executeTakeFirst();
  const e = await db
    .deleteFrom('webhook_events')
    .where('created_at', '<', before)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries').select('id').whereRef('webhook_deliveries.event_id', '=', 'webhook_events.id'))))
    .executeTakeFirst();
  return { deliveries: Number(d.numDeletedRows), events: Number(e.numDeletedRows) };
}
