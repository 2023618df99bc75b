import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { usedJtisService, type UsedJtis } from './used-jtis.ts';

forEachDialect('used jtis', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let jtis: UsedJtis;
  before(async () => {
    store = await createTestStore(dialect);
    jtis = usedJtisService(store);
  });
  after(async () => store.drop());

  test('a jti is claimed once per namespace, even by concurrent claims', async () => {
    const exp = Date.now() + 60_000;
    assert.equal(await jtis.claim('client:a', 'j1', exp), true);
    assert.equal(await jtis.claim('client:a', 'j1', exp), false);
    assert.equal(await jtis.claim('client:b', 'j1', exp), true, 'another client may use the same jti');
    const results = await Promise.all(Array.from({ length: 5 }, () => jtis.claim('client:a', 'j2', exp)));
    assert.equal(results.filter(Boolean).length, 1);
  });

  test('expired jtis are forgotten; live ones kept', async () => {
    assert.equal(await jtis.claim('client:c', 'old', Date.now() - 1), true);
    assert.equal(await jtis.claim('client:c', 'live', Date.now() + 60_000), true);
    await jtis.deleteOld();
    assert.equal(await jtis.claim('client:c', 'old', Date.now() + 60_000), true);
    assert.equal(await jtis.claim('client:c', 'live', Date.now() + 60_000), false);
  });
});
