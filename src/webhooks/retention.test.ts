import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { loadConfig } from '../config/config.ts';
import { webhooksModule } from './index.ts';
import type { DeliveryStatus, WebhooksTables } from './tables.ts';

const DAY = 86_400_000;

forEachDialect('webhook history retention', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => {
    store = await createTestStore(dialect);
  });
  after(async () => store.drop());

  test('finished deliveries past the retention go, with the events left without any; pending ones and recent ones stay', async () => {
    const db = store.typed<WebhooksTables>();
    const now = Date.UTC(2026, 11, 1);
    await db.insertInto('webhook_endpoints').values({ id: 'ep1', url: 'https://hooks.example/x', workspace_id: null, secret_sealed: 'x', events: '*', description: '', created_at: 0 }).execute();
    const rows: [string, DeliveryStatus, number][] = [
      ['old-delivered', 'delivered', now - 31 * DAY],
      ['old-failed', 'failed', now - 40 * DAY],
      ['old-pending', 'pending', now - 90 * DAY],
      ['new-delivered', 'delivered', now - 29 * DAY],
    ];
    for (const [id, status, at] of rows) {
      await db.insertInto('webhook_events').values({ id: `ev-${id}`, type: 'test', workspace_id: null, payload: '{}', created_at: at }).execute();
      await db.insertInto('webhook_deliveries').values({ id, event_id: `ev-${id}`, endpoint_id: 'ep1', status, attempts: 1, next_attempt_at: at, lease_until: 0, last_status: null, last_error: null, delivered_at: null, created_at: at }).execute();
    }
    // An old event with no delivery at all (no endpoint wanted it) goes too.
    await db.insertInto('webhook_events').values({ id: 'ev-orphan', type: 'test', workspace_id: null, payload: '{}', created_at: now - 60 * DAY }).execute();
    const webhooks = webhooksModule(store, loadConfig({ env: { TOLLGATE_OUTBOUND_WEBHOOK_RETENTION_DAYS: '30' } }), 'secret'.repeat(8), async () => ({ status: 200 }));
    assert.deepEqual(await webhooks.prune(now), { deliveries: 2, events: 3 });
    const deliveries = (await db.selectFrom('webhook_deliveries').select('id').orderBy('id').execute()).map((r) => r.id);
    const events = (await db.selectFrom('webhook_events').select('id').orderBy('id').execute()).map((r) => r.id);
    assert.deepEqual(deliveries, ['new-delivered', 'old-pending']);
    assert.deepEqual(events, ['ev-new-delivered', 'ev-old-pending']);
    assert.deepEqual(await webhooks.prune(now), { deliveries: 0, events: 0 });
  });
});
