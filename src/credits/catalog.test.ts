// Prices and plans as data: configured plans are the defaults, rows override and add to them, metering reads a
// cached snapshot, and on PostgreSQL a change made by one process reaches another through LISTEN/NOTIFY well
// before the max age.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, createTestStore } from '../../test/helpers/databases.ts';
import { openStore, type Store } from '../store/store.ts';
import { pricingCatalog } from './catalog.ts';
import { parsePlans } from './plans.ts';
import type { CreditsTables } from './tables.ts';

const configPlans = parsePlans({ rateLimitPerMinute: 60, ratePlans: 'pro:600/100' });

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

forEachDialect('credits: pricing catalog', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let second: Store;
  before(async () => {
    store = await createTestStore(dialect);
    // A second connection pool on the same database: another process, as far as LISTEN/NOTIFY can tell.
    second = await openStore(store.url);
  });
  after(async () => {
    await second.close();
    await store.drop();
  });

  test('configured plans are the defaults; rows override and add to them; deleting a row reverts', async () => {
    const catalog = pricingCatalog(store, configPlans, { maxAgeMs: 60_000 });
    try {
      assert.deepEqual([...(await catalog.plans()).keys()], ['default', 'pro']);
      await catalog.upsertPlan({ name: 'pro', workspacePerMinute: 900, grantPerMinute: 90 });
      await catalog.upsertPlan({ name: 'gold', workspacePerMinute: 5000, grantPerMinute: 500 });
      const plans = await catalog.plans();
      assert.deepEqual(plans.get('pro'), { name: 'pro', workspacePerMinute: 900, grantPerMinute: 90, source: 'database' });
      assert.equal(plans.get('gold')?.source, 'database');
      assert.equal(await catalog.deletePlan('pro'), 'reverted');
      assert.deepEqual((await catalog.plans()).get('pro'), { name: 'pro', workspacePerMinute: 600, grantPerMinute: 100, source: 'config' });
      assert.equal(await catalog.deletePlan('gold'), 'deleted');
      await assert.rejects(catalog.deletePlan('default'), /comes from the configuration/);
      await assert.rejects(catalog.deletePlan('nothing'), /No plan named/);
      await assert.rejects(catalog.upsertPlan({ name: 'Bad', workspacePerMinute: 1, grantPerMinute: 1 }), /plan name/);
      await assert.rejects(catalog.upsertPlan({ name: 'zero', workspacePerMinute: 0, grantPerMinute: 1 }), /limits/);
    } finally {
      await catalog.close();
    }
  });

  test('a price override is what a call costs; clearing it restores the tool\'s own cost; bad prices are refused', async () => {
    const catalog = pricingCatalog(store, configPlans, { maxAgeMs: 60_000 });
    try {
      const tool = { name: 'search', cost: 3 };
      assert.equal(await catalog.costOf(tool), 3);
      await catalog.setPrice('search', 0);
      assert.equal(await catalog.costOf(tool), 0);
      assert.equal(await catalog.clearPrice('search'), true);
      assert.equal(await catalog.costOf(tool), 3);
      assert.equal(await catalog.clearPrice('search'), false);
      await assert.rejects(catalog.setPrice('search', -1), /price/);
      await assert.rejects(catalog.setPrice('search', 1.5), /price/);
      await assert.rejects(catalog.setPrice('bad name!', 1), /tool name/);
    } finally {
      await catalog.close();
    }
  });

  test('the cached answers are the snapshot\'s: none before it is read or after a change, the same as the awaited ones between', async () => {
    const catalog = pricingCatalog(store, configPlans, { maxAgeMs: 60_000 });
    try {
      const tool = { name: 'lookup', cost: 2 };
      assert.equal(catalog.cachedCostOf(tool), undefined);
      assert.equal(catalog.cachedPlans(), undefined);
      assert.equal(await catalog.costOf(tool), 2);
      // PostgreSQL: a snapshot is served from memory only once the LISTEN connection that refreshes it is up.
      if (dialect === 'postgres') assert.ok(await until(async () => catalog.live));
      assert.equal(await catalog.costOf(tool), 2);
      assert.equal(catalog.cachedCostOf(tool), 2);
      assert.deepEqual(catalog.cachedPlans(), await catalog.plans());
      await catalog.setPrice('lookup', 7);
      assert.equal(catalog.cachedCostOf(tool), undefined, 'a change drops the snapshot: the next call reads it');
      // (PostgreSQL: the catalog also hears its own change's NOTIFY, which may drop the snapshot once more.)
      assert.ok(await until(async () => (await catalog.costOf(tool)) === 7 && catalog.cachedCostOf(tool) === 7));
      await catalog.clearPrice('lookup');
    } finally {
      await catalog.close();
    }
  });

  test('the snapshot is cached: no database read per call', async () => {
    const catalog = pricingCatalog(store, configPlans, { maxAgeMs: 60_000 });
    const other = pricingCatalog(second, configPlans, { maxAgeMs: 60_000 });
    try {
      await catalog.costOf({ name: 'cached', cost: 1 });
      if (dialect === 'sqlite') {
        // Written behind the catalog's back (another process, on SQLite): unseen until the max age.
        await other.setPrice('cached', 50);
        assert.equal(await catalog.costOf({ name: 'cached', cost: 1 }), 1);
        catalog.invalidate();
        assert.equal(await catalog.costOf({ name: 'cached', cost: 1 }), 50);
      } else {
        // PostgreSQL: the other process's change is heard at once, far inside the one-minute max age.
        // Once the LISTEN connection is up the snapshot is trusted for the whole max age: only a NOTIFY refreshes it.
        assert.ok(await until(async () => catalog.live));
        await catalog.costOf({ name: 'cached', cost: 1 });
        await other.setPrice('cached', 50);
        assert.ok(await until(async () => (await catalog.costOf({ name: 'cached', cost: 1 })) === 50), 'the NOTIFY reached the other catalog');
      }
      await other.clearPrice('cached');
    } finally {
      await catalog.close();
      await other.close();
    }
  });

  test('a workspace change is announced to the other processes (PostgreSQL)', { skip: dialect === 'sqlite' && 'SQLite has no LISTEN' }, async () => {
    const catalog = pricingCatalog(store, configPlans, { maxAgeMs: 60_000 });
    const other = pricingCatalog(second, configPlans, { maxAgeMs: 60_000 });
    const heard: string[] = [];
    catalog.onWorkspaceChange((id) => heard.push(id));
    try {
      await catalog.plans();
      assert.ok(await until(async () => catalog.live));
      await second.typed<CreditsTables>().transaction().execute((trx) => other.announceWorkspaceIn(trx, 'ws-123'));
      assert.ok(await until(async () => heard.includes('ws-123')));
    } finally {
      await catalog.close();
      await other.close();
    }
  });
});
