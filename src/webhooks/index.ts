// The outbound webhooks module's public face: other modules write events with `enqueueEvent(trx, …)` inside their
// own transactions (the outbox tables are reached only through it); the composition root runs the delivery worker.
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../util/crypto-box.ts';
import type { Logger } from '../util/logger.ts';
import { endpointsService } from './endpoints.ts';
import { deliveryWorker, type PostEvent } from './worker.ts';
import { pruneWebhookHistory } from './retention.ts';
import type { WebhooksTables } from './tables.ts';

export { enqueueEvent, enqueueEvents, EVENT_TYPES, type EventType, type OutboundEvent, type AnyTransaction } from './outbox.ts';
export { WebhooksError, type WebhookEndpoint, type DeliveryLogEntry } from './endpoints.ts';
export { verifyEvent, signEvent } from './signature.ts';
export type { PostEvent } from './worker.ts';

export type WebhooksConfig = Pick<
  Config,
  'outboundWebhookAllowHttp' | 'outboundWebhookPollMs' | 'outboundWebhookLeaseSeconds' | 'outboundWebhookMaxAttempts' | 'outboundWebhookRetryBaseSeconds' | 'outboundWebhookRetentionDays'
>;

export function webhooksModule(store: Store, config: WebhooksConfig, secret: string, post: PostEvent, logger?: Logger) {
  const box = new SecretBox(secret, 'webhook-endpoints');
  const endpoints = endpointsService(store, box, { allowHttp: config.outboundWebhookAllowHttp });
  const worker = deliveryWorker(store, box, post, {
    pollMs: config.outboundWebhookPollMs,
    leaseSeconds: config.outboundWebhookLeaseSeconds,
    maxAttempts: config.outboundWebhookMaxAttempts,
    retryBaseSeconds: config.outboundWebhookRetryBaseSeconds,
  }, logger);
  const db = store.typed<WebhooksTables>();
  return {
    endpoints,
    worker,
    /** Deletes finished deliveries (and events left without any) older than the retention period. */
    prune: (now = Date.now()) => pruneWebhookHistory(db, now - config.outboundWebhookRetentionDays * 86_400_000),
  };
}

export type Webhooks = ReturnType<typeof webhooksModule>;
