// Throttle counters: sliding windows estimated from two fixed ones, on both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import type { OAuthTables } from './tables.ts';
import { throttleService } from './throttle.ts';

forEachDialect('throttle counters', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => (store = await createTestStore(dialect)));
  after(async () => store.drop());

  test('hits count in the current window, and the previous window\'s fade out as it slides away', async () => {
    const throttle = throttleService(store);
    const key = `k-${dialect}-${Date.now()}`;
    assert.equal(await throttle.hit(key, 3600), 1);
    assert.equal(await throttle.hit(key, 3600), 2);
    assert.equal(await throttle.count(`${key}-other`, 3600), 0);

    // Four hits in the previous window, read a quarter of the way into the current one: 3 of them still count.
    const windowMs = 3_600_000;
    const current = Math.floor(Date.now() / windowMs) * windowMs;
    await store.typed<OAuthTables>().insertInto('oauth_throttle').values({ key: `${key}-edge`, window_start: current - windowMs, hits: 4 }).execute();
    assert.equal(await throttle.count(`${key}-edge`, 3600, current + windowMs / 4), 3);
    assert.equal(await throttle.count(`${key}-edge`, 3600, current), 4, 'at the edge the previous window still counts whole');
    assert.equal(await throttle.count(`${key}-edge`, 3600, current + windowMs), 0, 'a window later it is gone');

    await throttle.clear(key);
    assert.equal(await throttle.count(key, 3600), 0);
  });
});
