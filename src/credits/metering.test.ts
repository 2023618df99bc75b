import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { accountsModule } from '../accounts/index.ts';
import { loadConfig } from '../config/config.ts';
import type { ToolContext, ToolDefinition } from '../tools/tool-types.ts';
import { creditsModule, type Credits } from './index.ts';
import { memoryBackend } from './rate-limit/memory.ts';
import { createLedgerWriter } from './ledger-writer.ts';
import { inEveryRollup, rollupSums, usageTotals as usage } from '../../test/helpers/usage.ts';
import { transactionCounting } from '../../test/helpers/counting-store.ts';

const paid = (cost: number, name = 'paid_tool'): ToolDefinition => ({ name, description: 'x', inputSchema: { type: 'object' }, scope: 'mcp:write', cost, handler: async () => ({ content: [] }) });

forEachDialect('credits metering', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  const modules: Credits[] = [];
  let n = 0;

  before(async () => {
    store = await createTestStore(dialect);
  });
  after(async () => {
    for (const m of modules) await m.close();
    await store.drop();
  });

  async function setup(env: Record<string, string> = {}, balance = 10) {
    const config = loadConfig({ env: { TOLLGATE_INITIAL_CREDITS: String(balance), TOLLGATE_PUBLIC_URL: 'https://tollgate.example', ...env } });
    const credits = creditsModule(store, config, undefined, { rateLimitBackend: memoryBackend() });
    modules.push(credits);
    const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: `ws-${++n}` });
    await credits.onWorkspaceCreated(ws);
    const ctx = (over: Partial<ToolContext> = {}): ToolContext => ({
      userId: 'user-1', workspaceId: ws.id, workspaceSlug: ws.slug, clientId: 'client-a', grantId: 'grant-1', scopes: ['mcp:read', 'mcp:write'], requestId: `req-${Math.random()}`, ...over,
    });
    return { credits, ws, ctx };
  }

  test('a new workspace starts with the initial credits, as a ledger row', async () => {
    const { credits, ws } = await setup({}, 250);
    assert.equal(await credits.getBalance(ws.id), 250);
    const page = await credits.listLedger(ws.id);
    assert.deepEqual(page.entries.map((e) => [e.reason, e.amount, e.balanceAfter]), [['initial', 250, 250]]);
  });

  test('begin deducts the cost before the handler and writes a ledger row with tool, user, client and request id', async () => {
    const { credits, ws, ctx } = await setup();
    const c = ctx({ requestId: 'req-abc' });
    const d = await credits.metering.begin(paid(3), c);
    assert.equal(d.kind, 'ok');
    assert.ok(d.kind === 'ok' && d.charge.cost === 3 && d.rateLimit && d.rateLimit.limit === 60 && d.rateLimit.remaining === 59 && d.rateLimit.windowSeconds === 60);
    assert.equal(await credits.getBalance(ws.id), 7);
    const [row] = (await credits.listLedger(ws.id, { limit: 1 })).entries;
    assert.deepEqual(
      { amount: row.amount, balanceAfter: row.balanceAfter, reason: row.reason, tool: row.tool, userId: row.userId, clientId: row.clientId, requestId: row.requestId },
      { amount: -3, balanceAfter: 7, reason: 'tool_call', tool: 'paid_tool', userId: 'user-1', clientId: 'client-a', requestId: 'req-abc' },
    );
    if (d.kind === 'ok') await credits.metering.finish(d.charge, paid(3), c, { ok: true, durationMs: 5 });
    assert.equal(await credits.getBalance(ws.id), 7, 'a successful call writes nothing more');
  });

  test('a call that does not fit the balance is refused with the balance, the cost and where to buy, and charges nothing', async () => {
    const { credits, ws, ctx } = await setup({}, 4);
    const d = await credits.metering.begin(paid(5), ctx());
    assert.deepEqual(d, { kind: 'insufficient_credits', balance: 4, cost: 5, buyUrl: `https://tollgate.example/dashboard/${ws.slug}` });
    assert.equal(await credits.getBalance(ws.id), 4);
    assert.equal(await credits.sumLedger(ws.id), 4);
    const exact = await credits.metering.begin(paid(4), ctx());
    assert.equal(exact.kind, 'ok', 'spending the balance down to exactly zero is allowed');
    assert.equal(await credits.getBalance(ws.id), 0);
  });

  test('the configured buy URL wins', async () => {
    const { credits, ctx } = await setup({ TOLLGATE_BUY_CREDITS_URL: 'https://pay.example/buy' }, 0);
    const d = await credits.metering.begin(paid(1), ctx());
    assert.ok(d.kind === 'insufficient_credits' && d.buyUrl === 'https://pay.example/buy');
  });

  test('a failed call is refunded (one refund row, an error in the roll-ups); balance = sum of ledger', async () => {
    const { credits, ws, ctx } = await setup();
    const c = ctx({ requestId: 'req-fail' });
    const d = await credits.metering.begin(paid(2), c);
    assert.equal(await credits.getBalance(ws.id), 8);
    if (d.kind !== 'ok') throw new Error(d.kind);
    await credits.metering.finish(d.charge, paid(2), c, { ok: false, durationMs: 1 });
    assert.equal(await credits.getBalance(ws.id), 10);
    assert.equal(await credits.sumLedger(ws.id), 10);
    const [refund] = (await credits.listLedger(ws.id, { limit: 1 })).entries;
    assert.deepEqual([refund.reason, refund.amount, refund.requestId, refund.tool], ['refund', 2, 'req-fail', 'paid_tool']);
    const report = await credits.usageReport(ws.id);
    assert.deepEqual(report.totals, usage(1, 0, { toolError: 1 }));
  });

  test('with refundOnError off, a failed call stays charged but counts as an error', async () => {
    const { credits, ws, ctx } = await setup({ TOLLGATE_REFUND_ON_ERROR: 'false' });
    const c = ctx();
    const d = await credits.metering.begin(paid(2), c);
    if (d.kind !== 'ok') throw new Error(d.kind);
    await credits.metering.finish(d.charge, paid(2), c, { ok: false, durationMs: 1 });
    assert.equal(await credits.getBalance(ws.id), 8);
    assert.deepEqual((await credits.usageReport(ws.id)).totals, usage(1, 2, { toolError: 1 }));
    // A call answered 503 (its database went away) is sent again by the client: refunded all the same.
    const u = ctx();
    const e = await credits.metering.begin(paid(2), u);
    if (e.kind !== 'ok') throw new Error(e.kind);
    await credits.metering.finish(e.charge, paid(2), u, { ok: false, durationMs: 1, unavailable: true });
    assert.equal(await credits.getBalance(ws.id), 8);
    assert.deepEqual((await credits.usageReport(ws.id)).totals, usage(2, 2, { toolError: 2 }));
  });

  test('free tools are counted in usage but never touch the ledger, even at a zero balance', async () => {
    const { credits, ws, ctx } = await setup({}, 0);
    const d = await credits.metering.begin(paid(0, 'free_tool'), ctx());
    assert.equal(d.kind, 'ok');
    assert.equal((await credits.listLedger(ws.id)).entries.length, 0);
    assert.deepEqual((await credits.usageReport(ws.id)).byTool, [{ tool: 'free_tool', ...usage(1, 0) }]);
  });

  test('rate limits: over the plan\'s per-minute quota the call is refused before any charge, with Retry-After and the policy', async () => {
    const { credits, ws, ctx } = await setup({ TOLLGATE_RATE_LIMIT_PER_MINUTE: '3' }, 100);
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await credits.metering.begin(paid(1), ctx()));
    assert.deepEqual(decisions.map((d) => d.kind), ['ok', 'ok', 'ok', 'rate_limited', 'rate_limited']);
    const limited = decisions[3];
    assert.ok(limited.kind === 'rate_limited');
    assert.ok(limited.retryAfterSeconds >= 1 && limited.retryAfterSeconds <= 60);
    // Workspace and grant share the default quota here, so either may be the one reported.
    assert.deepEqual({ ...limited.rateLimit, policy: '', resetSeconds: 0 }, { policy: '', limit: 3, remaining: 0, resetSeconds: 0, windowSeconds: 60 });
    assert.match(limited.rateLimit.policy, /^(workspace|grant)$/);
    assert.equal(await credits.getBalance(ws.id), 97, 'refused calls are not charged');
  });

  test('every call to a known tool is counted by outcome (ok, tool error, bad arguments, out of credits, rate limited); refusals spend nothing', async () => {
    const { credits, ws, ctx } = await setup({ TOLLGATE_RATE_LIMIT_PER_MINUTE: '3' }, 2);
    const c = ctx();
    const ok = await credits.metering.begin(paid(1), c);
    if (ok.kind !== 'ok') throw new Error(ok.kind);
    await credits.metering.finish(ok.charge, paid(1), c, { ok: true, durationMs: 1 });
    const failed = await credits.metering.begin(paid(1), c);
    if (failed.kind !== 'ok') throw new Error(failed.kind);
    await credits.metering.finish(failed.charge, paid(1), c, { ok: false, durationMs: 1 });
    assert.equal((await credits.metering.begin(paid(2), c)).kind, 'insufficient_credits');
    await credits.metering.refuse(paid(1), c, 'bad_arguments');
    assert.equal((await credits.metering.begin(paid(1), c)).kind, 'rate_limited');

    assert.equal(await credits.getBalance(ws.id), 1);
    assert.equal(await credits.sumLedger(ws.id), 1);
    assert.deepEqual((await credits.listLedger(ws.id)).entries.map((e) => e.reason), ['refund', 'tool_call', 'tool_call', 'initial'], 'refusals write no ledger rows');
    const report = await credits.usageReport(ws.id, { days: 1 });
    const expected = usage(5, 1, { toolError: 1, outOfCredits: 1, badArguments: 1, rateLimited: 1 });
    assert.deepEqual(report.totals, expected);
    assert.deepEqual(report.byTool, [{ tool: 'paid_tool', ...expected }]);
    assert.deepEqual(report.byClient, [{ clientId: 'client-a', ...expected }]);
    assert.deepEqual(report.byDay.at(-1), { date: report.range.to, ...expected });
    // The same counts in every roll-up grain (the hourly one included).
    const table = { calls: 5, credits: 1, errors: 1, bad_arguments: 1, out_of_credits: 1, rate_limited: 1 };
    assert.deepEqual(await rollupSums(store, ws.id), inEveryRollup(table));
  });

  test('refusals share the charges\' group commit: one transaction for a batch of charges, failures and refusals', async () => {
    const { ws } = await setup({}, 3);
    const { store: counting, counter } = transactionCounting(store);
    const writer = createLedgerWriter(counting);
    const at = Date.now();
    const call = { workspaceId: ws.id, tool: 'batch_tool', userId: 'u', clientId: 'client-b', requestId: 'r', at };
    const results = await Promise.all([
      writer.deductCredits({ ...call, cost: 2 }),
      writer.deductCredits({ ...call, cost: 2 }), // does not fit what is left: out of credits
      writer.recordRefusal({ workspaceId: ws.id, tool: 'batch_tool', clientId: 'client-b', outcome: 'bad_arguments', at }),
      writer.recordRefusal({ workspaceId: ws.id, tool: 'batch_tool', clientId: 'client-b', outcome: 'rate_limited', at }),
      writer.recordRefusal({ workspaceId: ws.id, tool: 'batch_tool', clientId: 'client-b', outcome: 'rate_limited', at }),
      writer.recordFailure({ workspaceId: ws.id, refund: 0, tool: 'batch_tool', userId: 'u', clientId: 'client-b', requestId: 'r', chargedAt: at, at }),
    ]);
    await writer.close();
    assert.equal(counter.transactions, 1, 'one transaction for the whole batch');
    assert.deepEqual(results.slice(0, 2), [{ ok: true, balance: 1 }, { ok: false, balance: 1 }]);
    const table = { calls: 5, credits: 2, errors: 1, bad_arguments: 1, out_of_credits: 1, rate_limited: 2 };
    assert.deepEqual(await rollupSums(store, ws.id), inEveryRollup(table));
  });

  test('a durable batch is answered after the next batch has been started, so its calls do not hold the next commit back', async () => {
    const { ws } = await setup({}, 100);
    // Batches begun: a transaction (the general path) or a statement outside one (PostgreSQL's one-statement batch).
    const { store: counting, counter } = transactionCounting(store);
    const begun = () => counter.transactions + counter.statements;
    const writer = createLedgerWriter(counting);
    const call = { workspaceId: ws.id, tool: 'pipelined_tool', userId: 'u', clientId: 'client-p', requestId: 'first', at: Date.now(), cost: 1 };
    const first = writer.deductCredits(call);
    await new Promise((r) => setImmediate(r));
    assert.equal(begun(), 1, 'the first batch has begun');
    // Arrives while the first batch is being made durable: it waits for the next batch.
    const second = writer.deductCredits({ ...call, requestId: 'second' });
    let begunWhenFirstAnswered = -1;
    await first.then(() => (begunWhenFirstAnswered = begun()));
    assert.deepEqual(await second, { ok: true, balance: 98 });
    await writer.close();
    assert.equal(begunWhenFirstAnswered, 2, 'the second batch began before the first one was answered');
  });

  test('plans: a workspace moved to another plan gets its limits', async () => {
    const { credits, ws, ctx } = await setup({ TOLLGATE_RATE_LIMIT_PER_MINUTE: '2', TOLLGATE_RATE_PLANS: 'pro:4/3' }, 100);
    assert.deepEqual((await credits.listPlans()).map((p) => p.name), ['default', 'pro']);
    await credits.setPlan(ws.id, 'pro');
    assert.deepEqual(await credits.planInfo(ws.id), { name: 'pro', workspacePerMinute: 4, grantPerMinute: 3 });
    const kinds = [];
    for (let i = 0; i < 4; i++) kinds.push((await credits.metering.begin(paid(1), ctx())).kind);
    assert.deepEqual(kinds, ['ok', 'ok', 'ok', 'rate_limited']);
    await assert.rejects(credits.setPlan(ws.id, 'gold'), /No plan named "gold"; configured plans: default, pro/);
    const headroom = await credits.rateLimitHeadroom(ws.id, 'grant-1');
    assert.deepEqual(headroom.map((h) => [h.name, h.limit, h.remaining]), [['workspace', 4, 0], ['grant', 3, 0]]);
  });

  test('grants and deductions by operators; never below zero', async () => {
    const { credits, ws } = await setup({}, 10);
    assert.equal((await credits.grantCredits({ workspaceId: ws.id, amount: 5, reason: 'grant', description: 'goodwill' })).balance, 15);
    assert.equal((await credits.grantCredits({ workspaceId: ws.id, amount: -15, reason: 'adjustment' })).balance, 0);
    await assert.rejects(credits.grantCredits({ workspaceId: ws.id, amount: -1, reason: 'adjustment' }), /below zero/);
    await assert.rejects(credits.grantCredits({ workspaceId: ws.id, amount: 0, reason: 'grant' }), /non-zero/);
    await assert.rejects(credits.grantCredits({ workspaceId: ws.id, amount: 1.5, reason: 'grant' }), /whole number/);
    assert.equal(await credits.getBalance(ws.id), 0);
    assert.equal(await credits.sumLedger(ws.id), 0);
  });

  test('the ledger pages newest first with a cursor, without gaps or repeats', async () => {
    const { credits, ws } = await setup({}, 0);
    for (let i = 1; i <= 7; i++) await credits.grantCredits({ workspaceId: ws.id, amount: i, reason: 'grant' });
    const seen: number[] = [];
    let page = await credits.listLedger(ws.id, { limit: 3 });
    for (;;) {
      seen.push(...page.entries.map((e) => e.amount));
      if (!page.nextCursor) break;
      page = await credits.listLedger(ws.id, { limit: 3, before: page.nextCursor });
    }
    assert.deepEqual(seen, [7, 6, 5, 4, 3, 2, 1]);
  });
});
