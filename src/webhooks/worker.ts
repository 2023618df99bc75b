// The delivery worker: claims due deliveries with a lease, posts each signed event, and records the outcome.
// Safe with several processes: a claim is one atomic statement (PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers
// never take the same row; SQLite: one writer at a time), and a row whose holder died is taken again once its lease
// ends. Delivery is at least once: a process killed after the POST but before recording it sends it again, and
// receivers dedupe by `webhook-id`.
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import type { SecretBox } from '../util/crypto-box.ts';
import { eventHeaders } from './signature.ts';
import type { WebhookDeliveriesTable, WebhooksTables } from './tables.ts';

export interface WorkerSettings {
  readonly pollMs: number;
  readonly leaseSeconds: number;
  readonly maxAttempts: number;
  readonly retryBaseSeconds: number;
  readonly batchSize?: number;
}

/** Posts one delivery; resolves with the HTTP status or throws (network, SSRF guard, timeout). */
export type PostEvent = (url: string, body: string, headers: Record<string, string>) => Promise<{ status: number }>;

/** Exponential backoff: base·2^(attempt−1), at most 6 hours, with up to 10 % jitter so retries do not bunch up. */
export function retryDelayMs(attempt: number, baseSeconds: number, random = Math.random): number {
  const plain = Math.min(baseSeconds * 2 ** Math.max(0, attempt - 1), 6 * 3600) * 1000;
  return Math.round(plain * (1 + random() * 0.1));
}

export function deliveryWorker(store: Store, box: SecretBox, post: PostEvent, settings: WorkerSettings, logger?: Logger) {
  const db: Kysely<WebhooksTables> = store.typed<WebhooksTables>();
  const batchSize = settings.batchSize ?? 20;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  async function claim(): Promise<WebhookDeliveriesTable[]> {
    const now = Date.now();
    const lease = now + settings.leaseSeconds * 1000;
    if (store.dialect === 'postgres') {
      const { rows } = await sql<WebhookDeliveriesTable>`
        update webhook_deliveries set lease_until = ${lease}, attempts = attempts + 1
        where id in (
          select id from webhook_deliveries
          where status = 'pending' and next_attempt_at <= ${now} and lease_until < ${now}
          order by next_attempt_at limit ${batchSize}
          for update skip locked)
        returning *`.execute(db);
      return rows;
    }
    // SQLite: one statement, and one writer at a time, so the claim is atomic.
    return db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ lease_until: lease, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', (eb) =>
        eb.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').where('next_attempt_at', '<=', now).where('lease_until', '<', now).orderBy('next_attempt_at').limit(batchSize),
      )
      .returningAll()
      .execute();
  }

  async function deliverOne(row: WebhookDeliveriesTable): Promise<void> {
    const [endpoint, event] = await Promise.all([
      db.selectFrom('webhook_endpoints').selectAll().where('id', '=', row.endpoint_id).executeTakeFirst(),
      db.selectFrom('webhook_events').selectAll().where('id', '=', row.event_id).executeTakeFirst(),
    ]);
    if (!endpoint || !event) return; // removed meanwhile (the row went with it)
    const attempts = Number(row.attempts);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const headers = eventHeaders(box.open(endpoint.secret_sealed), event.id, Math.floor(Date.now() / 1000), event.payload);
      status = (await post(endpoint.url, event.payload, headers)).status;
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (err) {
      error = String((err as Error)?.message ?? 'delivery failed').slice(0, 500);
    }
    const now = Date.now();
    if (!error) {
      await db.updateTable('webhook_deliveries').set({ status: 'delivered', delivered_at: now, last_status: status, last_error: null, lease_until: 0 }).where('id', '=', row.id).execute();
      return;
    }
    const giveUp = attempts >= settings.maxAttempts;
    await db
      .updateTable('webhook_deliveries')
      .set({ status: giveUp ? 'failed' : 'pending', next_attempt_at: giveUp ? now : now + retryDelayMs(attempts, settings.retryBaseSeconds), last_status: status, last_error: error, lease_until: 0 })
      .where('id', '=', row.id)
      .execute();
    logger?.warn({ deliveryId: row.id, eventId: event.id, endpointId: endpoint.id, attempts, error, gaveUp: giveUp }, 'webhook delivery failed');
  }

  /** One pass: claims what is due and delivers it. Returns how many deliveries were attempted. */
  async function runOnce(): Promise<number> {
    const rows = await claim();
    await Promise.all(rows.map((r) => deliverOne(r).catch((err: unknown) => logger?.error({ deliveryId: r.id, err: { message: (err as Error)?.message } }, 'webhook delivery bookkeeping failed'))));
    return rows.length;
  }

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce().catch((err: unknown) => {
        logger?.error({ err: { message: (err as Error)?.message } }, 'webhook worker pass failed');
        return 0;
      });
      // A full batch means more may be waiting: go again at once.
      void running.then((n) => schedule(n >= batchSize ? 0 : settings.pollMs));
    }, delay);
    timer.unref?.();
  }

  return {
    runOnce,
    start(): void {
      stopped = false;
      schedule(0);
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export type DeliveryWorker = ReturnType<typeof deliveryWorker>;
