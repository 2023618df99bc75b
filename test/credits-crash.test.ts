// Issue: credits §7 — a process killed with SIGKILL in the middle of a load loses no committed ledger row, and
// after a restart balance = sum of the ledger. The worker prints `ack <request id>` only after `begin` resolved
// (the charge is durable), and `refund <request id>` after a failed call's refund is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect, createTestStore } from './helpers/databases.ts';
import { startWorkers } from './helpers/credits-workers.ts';
import type { Store } from '../src/store/store.ts';
import { accountsModule } from '../src/accounts/index.ts';
import { creditsModule } from '../src/credits/index.ts';
import { loadConfig } from '../src/config/config.ts';
import type { ToolDefinition } from '../src/tools/tool-types.ts';

const config = loadConfig({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '10000000', TOLLGATE_INITIAL_CREDITS: '0' } });

forEachDialect('credits: SIGKILL mid-load', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  before(async () => (store = await createTestStore(dialect)));
  after(async () => store.drop());

  test('every acknowledged charge and refund survives SIGKILL; after restart balance = sum of ledger', { timeout: 60_000 }, async () => {
    const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: 'crash' });
    const setup = creditsModule(store, config);
    await setup.grantCredits({ workspaceId: ws.id, amount: 1_000_000, reason: 'grant' });
    await setup.close();

    const [worker] = await startWorkers(1, () => ({ URL: store.url, WORKSPACE_ID: ws.id, MODE: 'load', CONCURRENCY: '25', TAG: 'k' }));
    // Let the load run until a good number of calls are acknowledged, then kill without warning.
    await new Promise<void>((resolve) => {
      const check = () => ((worker.output().match(/^ack /gm)?.length ?? 0) >= 400 ? resolve() : setTimeout(check, 5));
      check();
    });
    worker.child.kill('SIGKILL');
    const out = await worker.exited;
    assert.equal(worker.child.signalCode, 'SIGKILL');
    const acked = new Set([...out.matchAll(/^ack (\S+)$/gm)].map((m) => m[1]));
    const refunded = new Set([...out.matchAll(/^refund (\S+)$/gm)].map((m) => m[1]));
    assert.ok(acked.size >= 400 && refunded.size > 0);

    // "Restart": a fresh module on the same database.
    const restarted = creditsModule(store, config);
    const rows: { reason: string; requestId: string | null }[] = [];
    for (let page = await restarted.listLedger(ws.id, { limit: 500 }); ; page = await restarted.listLedger(ws.id, { limit: 500, before: page.nextCursor })) {
      rows.push(...page.entries);
      if (!page.nextCursor) break;
    }
    const charged = new Set(rows.filter((r) => r.reason === 'tool_call').map((r) => r.requestId));
    const refundRows = new Set(rows.filter((r) => r.reason === 'refund').map((r) => r.requestId));
    for (const id of acked) assert.ok(charged.has(id), `acknowledged charge ${id} is missing from the ledger`);
    for (const id of refunded) assert.ok(refundRows.has(id), `acknowledged refund ${id} is missing from the ledger`);
    assert.equal(await restarted.getBalance(ws.id), await restarted.sumLedger(ws.id));

    // And the restarted process keeps metering correctly.
    const tool: ToolDefinition = { name: 'paid_tool', description: 'x', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 3, handler: async () => ({ content: [] }) };
    const balanceBefore = await restarted.getBalance(ws.id);
    const d = await restarted.metering.begin(tool, { userId: 'u', workspaceId: ws.id, workspaceSlug: 'crash', clientId: 'c', grantId: 'g', scopes: [], requestId: 'after-restart' });
    assert.equal(d.kind, 'ok');
    assert.equal(await restarted.getBalance(ws.id), balanceBefore - 3);
    assert.equal(await restarted.getBalance(ws.id), await restarted.sumLedger(ws.id));
    await restarted.close();
  });
});
