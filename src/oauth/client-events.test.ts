import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { clientEventsService } from './client-events.ts';
import type { Store } from '../store/store.ts';

forEachDialect('client events', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => {
    store = await createTestStore(dialect);
  });
  after(async () => store.drop());

  test('events are listed newest first per client, pruned beyond the cap, and a failing write never throws', async () => {
    const events = clientEventsService(store);
    await events.record({ clientId: 'a', kind: 'registered', requestId: 'r1', detail: 'DCR' });
    await events.record({ clientId: 'a', kind: 'token_error', requestId: 'r2', detail: 'invalid_grant: code replayed' });
    await events.record({ clientId: 'b', kind: 'registered' });
    const a = await events.list('a');
    assert.deepEqual(a.map((e) => [e.kind, e.requestId]), [['token_error', 'r2'], ['registered', 'r1']]);
    for (let i = 0; i < 210; i++) await events.record({ clientId: 'c', kind: 'mcp_error', detail: String(i) });
    await events.prune('c');
    const c = await events.list('c', 1000);
    assert.equal(c.length, 200);
    assert.equal(c[0].detail, '209');
    await store.close();
    await events.record({ clientId: 'a', kind: 'registered' }); // closed store: swallowed
  });
});
