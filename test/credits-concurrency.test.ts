// Issue: credits §7 — 1,000 concurrent calls against a balance of 100 at cost 1: exactly 100 succeed, the balance
// is 0 and the ledger sums to 0; in one process, and in two processes sharing the database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, createTestStore } from './helpers/databases.ts';
import { startWorkers } from './helpers/credits-workers.ts';
import type { Store } from '../src/store/store.ts';
import { accountsModule } from '../src/accounts/index.ts';
import { creditsModule } from '../src/credits/index.ts';
import { loadConfig } from '../src/config/config.ts';
import type { ToolContext, ToolDefinition } from '../src/tools/tool-types.ts';

const config = loadConfig({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '10000000', TOLLGATE_INITIAL_CREDITS: '0' } });
const tool: ToolDefinition = { name: 'paid_tool', description: 'x', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 1, handler: async () => ({ content: [] }) };

async function workspaceWith(store: Store, slug: string, balance: number): Promise<string> {
  const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug });
  const credits = creditsModule(store, config);
  await credits.grantCredits({ workspaceId: ws.id, amount: balance, reason: 'grant' });
  await credits.close();
  return ws.id;
}

forEachDialect('credits: concurrent calls never overspend', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => (store = await createTestStore(dialect)));
  after(async () => store.drop());

  test('1,000 concurrent calls at cost 1 against a balance of 100: exactly 100 succeed, balance 0, ledger sums to 0 (after the grant)', { timeout: 60_000 }, async () => {
    const workspaceId = await workspaceWith(store, 'one-process', 100);
    const credits = creditsModule(store, config);
    const ctx = (i: number): ToolContext => ({ userId: 'u', workspaceId, workspaceSlug: 'one-process', clientId: 'c', grantId: `g${i % 10}`, scopes: ['mcp:read'], requestId: `r${i}` });
    const decisions = await Promise.all(Array.from({ length: 1000 }, (_, i) => credits.metering.begin(tool, ctx(i))));
    const kinds = decisions.reduce<Record<string, number>>((t, d) => ({ ...t, [d.kind]: (t[d.kind] ?? 0) + 1 }), {});
    assert.deepEqual(kinds, { ok: 100, insufficient_credits: 900 });
    for (const d of decisions) if (d.kind === 'insufficient_credits') assert.deepEqual([d.balance, d.cost], [0, 1]);
    assert.equal(await credits.getBalance(workspaceId), 0);
    assert.equal(await credits.sumLedger(workspaceId), 0);
    const page = await credits.listLedger(workspaceId, { limit: 500 });
    assert.equal(page.entries.filter((e) => e.reason === 'tool_call').length, 100);
    // Every call is counted, the refused ones by their outcome (defects §6).
    const { totals } = await credits.usageReport(workspaceId);
    assert.deepEqual([totals.calls, totals.credits, totals.outcomes.ok, totals.outcomes.outOfCredits], [1000, 100, 100, 900]);
    await credits.close();
  });

  test('the same with two processes sharing the database: exactly 100 succeed in total', { timeout: 60_000 }, async () => {
    const workspaceId = await workspaceWith(store, 'two-processes', 100);
    const workers = await startWorkers(2, (i) => ({ URL: store.url, WORKSPACE_ID: workspaceId, MODE: 'burst', CALLS: '500', CONCURRENCY: '5', TAG: `p${i}` }));
    const tallies = (await Promise.all(workers.map((w) => w.exited))).map((out) => JSON.parse(out.trim().split('\n').at(-1)!));
    const total = tallies.reduce((t, x) => ({ ok: t.ok + x.ok, insufficient: t.insufficient + x.insufficient, errors: t.errors + x.errors }), { ok: 0, insufficient: 0, errors: 0 });
    assert.deepEqual(total, { ok: 100, insufficient: 900, errors: 0 });
    const credits = creditsModule(store, config);
    assert.equal(await credits.getBalance(workspaceId), 0);
    assert.equal(await credits.sumLedger(workspaceId), 0);
    await credits.close();
  });
});
