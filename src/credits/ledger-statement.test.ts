// The one-statement ledger batch (PostgreSQL) decides exactly as the general path does: the same outcomes, ledger rows,
// balances, roll-ups and low-balance events for a mixed batch on both dialects; a batch where every workspace has room
// runs without a transaction of its own on PostgreSQL; the line crossings it leaves to the general path are exactly
// balanceCrossings'.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { inEveryRollup, rollupSums } from '../../test/helpers/usage.ts';
import { transactionCounting } from '../../test/helpers/counting-store.ts';
import type { Store } from '../store/store.ts';
import { accountsModule } from '../accounts/index.ts';
import { loadConfig } from '../config/config.ts';
import { creditsModule, type Credits } from './index.ts';
import { memoryBackend } from './rate-limit/memory.ts';
import { createLedgerWriter } from './ledger-writer.ts';
import { balanceCrossings } from './balance-lines.ts';
import { crossesLine, planStatement, type BatchOp } from './ledger-statement.ts';

test('crossesLine is balanceCrossings for one workspace, over every start, delta and line from a grid', () => {
  for (const low of [undefined, 0, 5, 10]) {
    for (let start = 0; start <= 14; start++) {
      for (let delta = -start; delta <= 6; delta++) {
        const expected = balanceCrossings(new Map([['w', start]]), new Map([['w', start + delta]]), low).length > 0;
        assert.equal(crossesLine(start, delta, low), expected, `start ${start}, delta ${delta}, low ${low}`);
      }
    }
  }
});

test('the plan: each workspace needs its lowest running sum; one known to be short (or to cross a line) is left out with all its calls', () => {
  const call = { tool: 't', userId: 'u', clientId: 'c', requestId: 'r', at: 1_700_000_000_000 };
  const batch: BatchOp[] = [
    { kind: 'charge', workspaceId: 'a', cost: 3, ...call },
    { kind: 'failure', workspaceId: 'a', refund: 3, ...call, chargedAt: call.at },
    { kind: 'charge', workspaceId: 'a', cost: 5, ...call },
    { kind: 'charge', workspaceId: 'b', cost: 2, ...call },
    { kind: 'refusal', workspaceId: 'b', tool: 't', clientId: 'c', outcome: 'rate_limited', at: call.at },
    { kind: 'refusal', workspaceId: 'c', tool: 't', clientId: 'c', outcome: 'bad_arguments', at: call.at },
  ];
  const plan = planStatement(batch, undefined, new Map([['b', 1]]), call.at)!;
  assert.deepEqual([...plan.changes], [['a', { delta: -5, lowest: -5 }]]);
  assert.deepEqual(plan.covered, [0, 1, 2, 5]);
  assert.deepEqual([0, 1, 2].map((i) => plan.running.get(i)), [-3, 0, -5]);
  // With a line at 10, a workspace last seen at 12 would cross it: left out too.
  assert.deepEqual(planStatement(batch, 10, new Map([['a', 12]]), call.at)!.covered, [3, 4, 5]);
  assert.equal(planStatement(batch.slice(3, 5), undefined, new Map([['b', 1]]), call.at), undefined);
});

forEachDialect('ledger batches: the one statement and the general path agree', (dialect) => {
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

  const config = loadConfig({ env: { TOLLGATE_INITIAL_CREDITS: '0', TOLLGATE_PUBLIC_URL: 'https://tollgate.example' } });
  async function workspace(balance: number) {
    const credits = creditsModule(store, config, undefined, { rateLimitBackend: memoryBackend() });
    modules.push(credits);
    const ws = await accountsModule(store, config).workspaces.createWorkspace({ slug: `batch-${++n}` });
    await credits.onWorkspaceCreated(ws);
    if (balance) await credits.grantCredits({ workspaceId: ws.id, amount: balance, reason: 'grant' });
    // Every event type, so that a crossing is written as an outbound event.
    await store.db.insertInto('webhook_endpoints').values({ id: `ep-${n}`, url: 'https://hooks.example/x', workspace_id: ws.id, secret_sealed: 'x', events: '*', description: '', created_at: Date.now() }).execute();
    return { credits, ws };
  }
  /** A writer whose transactions are counted. */
  function countingWriter(low?: number) {
    const { store: counting, counter } = transactionCounting(store);
    return { writer: createLedgerWriter(counting, { lowBalanceCredits: low }), counter };
  }
  const ledgerOf = async (workspaceId: string) =>
    (await store.db.selectFrom('credits_ledger').select(['reason', 'amount', 'balance_after', 'request_id']).where('workspace_id', '=', workspaceId).where('reason', 'in', ['tool_call', 'refund']).orderBy('id').execute()).map((r) => [r.reason, Number(r.amount), Number(r.balance_after), r.request_id]);
  const eventsOf = async (workspaceId: string) => (await store.db.selectFrom('webhook_events').select('type').where('workspace_id', '=', workspaceId).orderBy('created_at').execute()).map((r) => r.type);

  test('one mixed batch over a rich, a short and a line-crossing workspace: outcomes, ledger, balances, roll-ups and events', async () => {
    const rich = await workspace(1000);
    const short = await workspace(3);
    const crossing = await workspace(105);
    const { writer } = countingWriter(100);
    const at = Date.now();
    const call = (workspaceId: string, requestId: string) => ({ workspaceId, tool: 'mixed', userId: 'u', clientId: 'client-m', requestId, at });
    const results = await Promise.all([
      writer.deductCredits({ ...call(rich.ws.id, 'r1'), cost: 3 }),
      writer.deductCredits({ ...call(short.ws.id, 's1'), cost: 2 }),
      writer.recordFailure({ ...call(rich.ws.id, 'r1'), refund: 3, chargedAt: at }),
      writer.deductCredits({ ...call(rich.ws.id, 'r2'), cost: 0 }),
      writer.deductCredits({ ...call(short.ws.id, 's2'), cost: 2 }), // does not fit what is left
      writer.deductCredits({ ...call(crossing.ws.id, 'c1'), cost: 10 }), // 105 → 95: below the line at 100
      writer.deductCredits({ ...call(rich.ws.id, 'r3'), cost: 7 }),
      writer.recordRefusal({ workspaceId: short.ws.id, tool: 'mixed', clientId: 'client-m', outcome: 'rate_limited', at }),
      writer.recordRefusal({ workspaceId: rich.ws.id, tool: 'mixed', clientId: 'client-m', outcome: 'bad_arguments', at }),
    ]);
    await writer.close();
    const charges = [0, 1, 4, 5, 6].map((i) => results[i]);
    assert.deepEqual(charges, [{ ok: true, balance: 997 }, { ok: true, balance: 1 }, { ok: false, balance: 1 }, { ok: true, balance: 95 }, { ok: true, balance: 993 }]);
    assert.deepEqual(await ledgerOf(rich.ws.id), [['tool_call', -3, 997, 'r1'], ['refund', 3, 1000, 'r1'], ['tool_call', -7, 993, 'r3']]);
    assert.deepEqual(await ledgerOf(short.ws.id), [['tool_call', -2, 1, 's1']]);
    assert.deepEqual(await ledgerOf(crossing.ws.id), [['tool_call', -10, 95, 'c1']]);
    for (const [w, balance] of [[rich, 993], [short, 1], [crossing, 95]] as const) {
      assert.equal(await w.credits.getBalance(w.ws.id), balance);
      assert.equal(await w.credits.sumLedger(w.ws.id), balance);
    }
    assert.deepEqual(await eventsOf(crossing.ws.id), ['credits.low']);
    assert.deepEqual(await eventsOf(rich.ws.id), []);
    assert.deepEqual(await rollupSums(store, rich.ws.id), inEveryRollup({ calls: 4, credits: 7, errors: 1, bad_arguments: 1, out_of_credits: 0, rate_limited: 0 }));
    assert.deepEqual(await rollupSums(store, short.ws.id), inEveryRollup({ calls: 3, credits: 2, errors: 0, bad_arguments: 0, out_of_credits: 1, rate_limited: 1 }));
    assert.deepEqual(await rollupSums(store, crossing.ws.id), inEveryRollup({ calls: 1, credits: 10, errors: 0, bad_arguments: 0, out_of_credits: 0, rate_limited: 0 }));
  });

  test(`a batch every workspace has room for ${dialect === 'postgres' ? 'is one statement, no transaction of its own' : 'is one transaction'}; spending down to the last credit still exhausts it`, async () => {
    const a = await workspace(50);
    const b = await workspace(4);
    const { writer, counter } = countingWriter(10);
    const at = Date.now();
    const call = (workspaceId: string, requestId: string, cost: number) => writer.deductCredits({ workspaceId, tool: 'room', userId: 'u', clientId: 'c', requestId, at, cost });
    assert.deepEqual(await Promise.all([call(a.ws.id, 'a1', 5), call(b.ws.id, 'b1', 1), call(a.ws.id, 'a2', 5)]), [{ ok: true, balance: 45 }, { ok: true, balance: 3 }, { ok: true, balance: 40 }]);
    assert.equal(counter.transactions, dialect === 'postgres' ? 0 : 1);
    // b at 3 → 0 is a crossing (exhausted): the general path, with its event, and later calls refused.
    assert.deepEqual(await Promise.all([call(b.ws.id, 'b2', 3), call(b.ws.id, 'b3', 1)]), [{ ok: true, balance: 0 }, { ok: false, balance: 0 }]);
    await writer.close();
    assert.deepEqual(await eventsOf(b.ws.id), ['credits.exhausted']);
    assert.equal(await b.credits.sumLedger(b.ws.id), 0);
  });
});
