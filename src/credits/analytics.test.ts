import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { usageTotals as usage } from '../../test/helpers/usage.ts';
import { openStore, type Store } from '../store/store.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { allMigrations } from '../migrations.ts';
import { accountsModule } from '../accounts/index.ts';
import { loadConfig } from '../config/config.ts';
import { creditsModule, seedUsageDataset, type Credits } from './index.ts';
import { resolveRange } from './analytics.ts';
import { dayOf, DAY_MS, formatDay, HOUR_MS } from './time.ts';

test('ranges: 30 days by default, explicit dates, and clear errors', () => {
  const now = Date.parse('2025-06-18T15:00:00Z');
  const today = dayOf(now);
  assert.deepEqual(resolveRange({}, now), { fromDay: today - 29, toDay: today });
  assert.deepEqual(resolveRange({ days: 1 }, now), { fromDay: today, toDay: today });
  assert.deepEqual(resolveRange({ from: '2025-06-01', to: '2025-06-03' }, now), { fromDay: dayOf(Date.parse('2025-06-01')), toDay: dayOf(Date.parse('2025-06-03')) });
  assert.throws(() => resolveRange({ days: 0 }, now), /days must be a whole number from 1 to 366/);
  assert.throws(() => resolveRange({ from: '2025-02-30' }, now), /"from" must be a date/);
  assert.throws(() => resolveRange({ from: '2025-06-10', to: '2025-06-01' }, now), /must not be after/);
  assert.throws(() => resolveRange({ from: '2020-01-01', to: '2025-01-01' }, now), /at most 366 days/);
});

forEachDialect('credits analytics', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let credits: Credits;
  const config = loadConfig({ env: { TOLLGATE_INITIAL_CREDITS: '0' } });
  let n = 0;
  const newWorkspace = async (balance: number) => {
    const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: `an-${++n}` });
    if (balance) await credits.grantCredits({ workspaceId: ws.id, amount: balance, reason: 'grant' });
    return ws;
  };

  before(async () => {
    store = await createTestStore(dialect);
    credits = creditsModule(store, config);
  });
  after(async () => {
    await credits.close();
    await store.drop();
  });

  test('usage per day, per tool and per client, with every day of the range present', async () => {
    const ws = await newWorkspace(1000);
    const now = Date.now();
    const charge = (tool: string, clientId: string, cost: number, at: number) =>
      credits.writer.deductCredits({ workspaceId: ws.id, cost, tool, userId: 'u', clientId, requestId: 'r', at });
    await Promise.all([charge('search', 'claude', 2, now), charge('search', 'claude', 2, now), charge('search', 'cursor', 2, now), charge('export', 'claude', 5, now - 2 * DAY_MS)]);
    await credits.writer.recordFailure({ workspaceId: ws.id, refund: 5, tool: 'export', userId: 'u', clientId: 'claude', requestId: 'r', chargedAt: now - 2 * DAY_MS, at: now });
    const report = await credits.usageReport(ws.id, { days: 7 });
    assert.equal(report.range.days, 7);
    assert.equal(report.byDay.length, 7);
    assert.equal(report.range.to, formatDay(dayOf(now)));
    assert.deepEqual(report.totals, usage(4, 6, { toolError: 1 }));
    assert.deepEqual(report.byDay.at(-1), { date: formatDay(dayOf(now)), ...usage(3, 6) });
    assert.deepEqual(report.byDay.at(-3), { date: formatDay(dayOf(now) - 2), ...usage(1, 0, { toolError: 1 }) });
    assert.deepEqual(report.byTool, [
      { tool: 'search', ...usage(3, 6) },
      { tool: 'export', ...usage(1, 0, { toolError: 1 }) },
    ]);
    assert.deepEqual(report.byClient, [
      { clientId: 'claude', ...usage(3, 4, { toolError: 1 }) },
      { clientId: 'cursor', ...usage(1, 2) },
    ]);
    assert.deepEqual((await credits.usageReport(ws.id, { days: 1 })).totals, usage(3, 6));
  });

  test('refused calls are counted per day, tool and client by outcome, at zero credits, beside ok calls and tool errors', async () => {
    const ws = await newWorkspace(3);
    const now = Date.now();
    const base = { workspaceId: ws.id, userId: 'u', requestId: 'r' };
    await Promise.all([
      credits.writer.deductCredits({ ...base, tool: 'search', clientId: 'claude', cost: 2, at: now }),
      credits.writer.deductCredits({ ...base, tool: 'search', clientId: 'cursor', cost: 2, at: now }), // out of credits
      credits.writer.recordRefusal({ workspaceId: ws.id, tool: 'search', clientId: 'cursor', outcome: 'rate_limited', at: now }),
      credits.writer.recordRefusal({ workspaceId: ws.id, tool: 'export', clientId: 'claude', outcome: 'bad_arguments', at: now - DAY_MS }),
      credits.writer.recordFailure({ ...base, refund: 0, tool: 'search', clientId: 'claude', chargedAt: now, at: now }),
    ]);
    const report = await credits.usageReport(ws.id, { days: 7 });
    assert.deepEqual(report.totals, usage(4, 2, { toolError: 1, outOfCredits: 1, rateLimited: 1, badArguments: 1 }));
    assert.deepEqual(report.byDay.at(-1), { date: formatDay(dayOf(now)), ...usage(3, 2, { toolError: 1, outOfCredits: 1, rateLimited: 1 }) });
    assert.deepEqual(report.byDay.at(-2), { date: formatDay(dayOf(now) - 1), ...usage(1, 0, { badArguments: 1 }) });
    assert.deepEqual(report.byTool, [
      { tool: 'search', ...usage(3, 2, { toolError: 1, outOfCredits: 1, rateLimited: 1 }) },
      { tool: 'export', ...usage(1, 0, { badArguments: 1 }) },
    ]);
    assert.deepEqual(report.byClient, [
      { clientId: 'claude', ...usage(2, 2, { toolError: 1, badArguments: 1 }) },
      { clientId: 'cursor', ...usage(2, 0, { outOfCredits: 1, rateLimited: 1 }) },
    ]);
    assert.equal(await credits.getBalance(ws.id), 1);
    assert.equal(await credits.sumLedger(ws.id), 1);
  });

  test('spend in the last 24 h and 30 days is exact at the window edges (partial hours come from the ledger)', async () => {
    const ws = await newWorkspace(1000);
    const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS + 30 * 60_000; // half past the hour
    const at = async (ms: number, cost: number) => {
      const r = await credits.writer.deductCredits({ workspaceId: ws.id, cost, tool: 't', userId: 'u', clientId: 'c', requestId: 'r', at: ms });
      assert.ok(r.ok);
    };
    await at(now - 24 * HOUR_MS + 10 * 60_000, 1); // inside, in the window's first (partial) hour
    await at(now - 24 * HOUR_MS - 10 * 60_000, 10); // same hour bucket, but outside the 24 h window
    await at(now - 2 * HOUR_MS, 100);
    await at(now - 29 * DAY_MS, 1000 - 111 - 100); // inside 30 days only
    await at(now - 31 * DAY_MS, 100); // outside both
    const spend = await credits.analytics.spendSummary(ws.id, now);
    assert.deepEqual(spend, { last24h: 101, last30d: 1 + 10 + 100 + 789 });
  });

  test('the bulk seed writes roll-ups for N events and keeps balance = sum of ledger (summary ledger)', async () => {
    const ws = await newWorkspace(500);
    const result = await seedUsageDataset(store, { workspaceId: ws.id, events: 123_457, days: 5, tools: 4, clients: 6, errorRate: 0.02 });
    assert.equal(result.events, 123_457);
    const report = await credits.usageReport(ws.id, { days: 5 });
    assert.equal(report.totals.calls, 123_457);
    assert.equal(report.totals.credits, result.credits);
    assert.equal(report.byTool.length, 4);
    assert.equal(report.byClient.length, 6);
    assert.ok(report.byDay.every((d) => d.calls > 0));
    assert.equal(await credits.getBalance(ws.id), 500);
    assert.equal(await credits.sumLedger(ws.id), 500);
    assert.equal((await credits.analytics.spendSummary(ws.id)).last30d, result.credits);
  });

  test('the bulk seed can write one ledger row per call', async () => {
    const ws = await newWorkspace(7);
    const result = await seedUsageDataset(store, { workspaceId: ws.id, events: 3000, days: 2, tools: 2, clients: 3, errorRate: 0, ledger: 'full' });
    assert.equal(result.ledgerRows, 3001);
    let rows = 0;
    for (let page = await credits.listLedger(ws.id, { limit: 500 }); ; page = await credits.listLedger(ws.id, { limit: 500, before: page.nextCursor })) {
      rows += page.entries.filter((e) => e.reason === 'tool_call').length;
      if (!page.nextCursor) break;
    }
    assert.equal(rows, 3000);
    assert.equal(await credits.getBalance(ws.id), 7);
    assert.equal(await credits.sumLedger(ws.id), 7);
  });

  test('roll-up rows written before the outcome columns existed still read as ok calls and tool errors', async () => {
    const tdb = await createTestDatabase(dialect);
    const old = await openStore(tdb.url);
    try {
      await migrateToLatest(old, allMigrations.filter((m) => m.name !== '0301_credits_usage_outcomes'));
      const oldCredits = creditsModule(old, config);
      const ws = await accountsModule(old, config).workspaces.createWorkspace({ slug: 'before-0301' });
      await oldCredits.grantCredits({ workspaceId: ws.id, amount: 10, reason: 'grant' });
      // The ok path writes only calls, credits and errors, so it runs on the old schema as it did.
      const call = { workspaceId: ws.id, tool: 'search', userId: 'u', clientId: 'claude', requestId: 'r', at: Date.now() };
      await Promise.all([oldCredits.writer.deductCredits({ ...call, cost: 1 }), oldCredits.writer.deductCredits({ ...call, cost: 1 })]);
      await oldCredits.writer.recordFailure({ ...call, refund: 1, chargedAt: call.at });
      await oldCredits.close();
      assert.deepEqual(await migrateToLatest(old, allMigrations), ['0301_credits_usage_outcomes']);
      const report = await creditsModule(old, config).usageReport(ws.id, { days: 1 });
      assert.deepEqual(report.totals, usage(2, 1, { toolError: 1 }));
    } finally {
      await old.close();
      await tdb.drop();
    }
  });

  test('a long client tail is summed into otherClients', async () => {
    const ws = await newWorkspace(0);
    await seedUsageDataset(store, { workspaceId: ws.id, events: 10_000, days: 1, tools: 1, clients: 130, creditsPerCall: 0 });
    const report = await credits.analytics.usageReport(ws.id, resolveRange({ days: 1 }), { maxClients: 100 });
    assert.equal(report.byClient.length, 100);
    assert.equal(report.otherClients?.count, 30);
    assert.equal(report.byClient.reduce((s, c) => s + c.calls, 0) + report.otherClients!.calls, 10_000);
  });
});
