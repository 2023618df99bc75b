// The plan resolver's per-process cache of a workspace's standing: a burst on a cold entry makes one read, and a
// `forget` during a read keeps that read's (possibly older) answer out of the cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, createTestStore } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { accountsModule } from '../accounts/index.ts';
import { loadConfig } from '../config/config.ts';
import { pricingCatalog } from './catalog.ts';
import { ledgerService } from './ledger.ts';
import { parsePlans } from './plans.ts';
import { planResolver } from './plan-resolver.ts';

const config = loadConfig({ env: { TOLLGATE_RATE_PLANS: 'pro:600/100' } });

forEachDialect('credits: plan resolver', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let catalog: ReturnType<typeof pricingCatalog>;
  before(async () => {
    store = await createTestStore(dialect);
    catalog = pricingCatalog(store, parsePlans(config), { maxAgeMs: 60_000 });
  });
  after(async () => {
    await catalog.close();
    await store.drop();
  });

  /** The real ledger, counting its account reads. */
  function countingLedger() {
    const ledger = ledgerService(store);
    const counter = { reads: 0 };
    return { counter, ledger: { ...ledger, getAccount: (id: string) => (counter.reads++, ledger.getAccount(id)) } };
  }

  test('500 calls at once on a cold entry make one account read, and all see the workspace on its plan', async () => {
    const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: 'burst' });
    const { counter, ledger } = countingLedger();
    await ledger.setPlanName(ws.id, 'pro');
    const resolver = planResolver(catalog, ledger);
    const answers = await Promise.all(Array.from({ length: 250 }, () => [resolver.planFor(ws.id), resolver.standingOf(ws.id)]).flat());
    assert.equal(counter.reads, 1);
    assert.ok(answers.every((a) => ('planName' in a ? a.planName === 'pro' && !a.suspended : a.name === 'pro' && a.workspacePerMinute === 600)));
    // Then from memory, with nothing read.
    assert.equal((await resolver.standingOf(ws.id)).planName, 'pro');
    assert.equal(counter.reads, 1);
  });

  test('a read that was under way when the workspace was forgotten is not kept: the next call reads again', async () => {
    const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: 'forgotten' });
    const { counter, ledger } = countingLedger();
    const resolver = planResolver(catalog, ledger);
    const stale = resolver.standingOf(ws.id);
    // The plan changes and the workspace is forgotten while that read is in flight (as a plan change's notice does).
    resolver.forget(ws.id);
    await ledger.setPlanName(ws.id, 'pro');
    await stale;
    assert.equal((await resolver.standingOf(ws.id)).planName, 'pro');
    assert.equal(counter.reads, 2);
    // That second read is the one kept.
    assert.equal((await resolver.standingOf(ws.id)).planName, 'pro');
    assert.equal(counter.reads, 2);
  });
});
