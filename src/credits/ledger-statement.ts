// PostgreSQL: a ledger batch in ONE statement, outside an explicit transaction, when every workspace it charges has
// room for all of its charges. The general path (ledger-writer.ts) takes five to eleven round trips (begin, lock the
// balances, decide call by call, update, insert the ledger rows, four roll-up upserts, commit), and under load each
// round trip also waits its turn on a busy event loop: most of a metered call's time on PostgreSQL. Here the decision
// needs no balance: when a workspace's balance covers the batch's worst point, every call fits whatever the balance
// is, so the statement can apply them without reading it first. The statement
//   - adds each workspace's delta where `balance >= need` and no `credits.low` / `credits.exhausted` line is crossed
//     (a crossing writes an event, which the general path does in its transaction);
//   - inserts the ledger rows of the workspaces it updated, each `balance_after` derived from the balance it returned;
//   - upserts the usage roll-ups of those workspaces and of the ones it had nothing to charge;
//   - returns the workspaces it updated with their new balances.
// A workspace it did not update (too little left, a line to cross, no account) wrote nothing at all: its calls go to
// the general path. One statement is one implicit transaction (atomic, durable when it returns with
// synchronous_commit on), and it takes the balances' row locks as the general path's `select … for update` does.
import { CompiledQuery } from 'kysely';
import { COUNT_COLUMNS, TABLES as ROLLUP_KEYS, type Table, UsageRollups } from './rollups.ts';
import { lineCrossed } from './balance-lines.ts';

/** One operation of a batch, as the ledger writer queues it (only what the statement needs). */
export type BatchOp =
  | { kind: 'charge'; workspaceId: string; cost: number; tool: string; userId: string; clientId: string; requestId: string; at: number }
  | { kind: 'failure'; workspaceId: string; refund: number; tool: string; userId: string; clientId: string; requestId: string; chargedAt: number; at: number }
  | { kind: 'refusal'; workspaceId: string; tool: string; clientId: string; outcome: 'bad_arguments' | 'rate_limited'; at: number };

interface Change {
  /** The sum of the workspace's charges (negative) and refunds (positive), in batch order. */
  delta: number;
  /** The lowest running sum on the way (≤ 0): the balance must be at least its negation for every charge to fit. */
  lowest: number;
}

export interface StatementPlan {
  query: CompiledQuery<{ workspace_id: string; balance: number | string }>;
  /** Indexes (into the batch) of the operations the statement covers. */
  covered: number[];
  /** Each operation's running sum within its workspace after it (0 before its first change), for its balance. */
  running: Map<number, number>;
  changes: Map<string, Change>;
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

const KEY_TYPES: Record<string, string> = { workspace_id: 'varchar', day: 'integer', hour: 'integer', tool: 'varchar', client_id: 'varchar' };
const TABLES = Object.keys(ROLLUP_KEYS) as Table[];
type LedgerField = 'workspace_id' | 'amount' | 'after' | 'reason' | 'description' | 'tool' | 'user_id' | 'client_id' | 'request_id' | 'created_at' | 'ord';
const LEDGER_TYPES = 'workspace_id varchar, amount bigint, after bigint, reason varchar, description varchar, tool varchar, user_id varchar, client_id varchar, request_id varchar, created_at bigint, ord integer';

/**
 * The statement's text: fixed (table and column names only), so that PostgreSQL parses it once per connection.
 * Parameters: $1 the changes (JSON), $2 the time, $3 the low-balance line or null, $4 the ledger rows (JSON), then one
 * JSON parameter of rows per roll-up table.
 */
const TEXT = (() => {
  const rollups = TABLES.map((table, i) => {
    const keys: readonly string[] = ROLLUP_KEYS[table];
    const cols = [...keys, ...COUNT_COLUMNS];
    const types = cols.map((c) => `${c} ${KEY_TYPES[c] ?? 'bigint'}`).join(', ');
    return `u${i} as (insert into ${table} (${cols.join(', ')}) select ${cols.map((c) => `r.${c}`).join(', ')} from json_to_recordset($${5 + i}::json) as r(${types})` +
      ` where r.workspace_id not in (select workspace_id from d) or r.workspace_id in (select workspace_id from upd)` +
      ` order by ${keys.map((k) => `r.${k}`).join(', ')}` +
      ` on conflict (${keys.join(', ')}) do update set ${COUNT_COLUMNS.map((c) => `${c} = ${table}.${c} + excluded.${c}`).join(', ')} returning 1)`;
  });
  return (
    'with d as (select * from json_to_recordset($1::json) as d(workspace_id varchar, delta bigint, need bigint)), ' +
    // A crossing is exactly what balanceCrossings (balance-lines.ts) turns into an event: those stay on the general path.
    'upd as (update credits_accounts as a set balance = a.balance + d.delta, updated_at = $2::bigint from d' +
    ' where a.workspace_id = d.workspace_id and a.balance >= d.need' +
    ' and ($3::bigint is null or d.delta = 0 or not ((a.balance > 0 and a.balance + d.delta = 0) or (a.balance > $3::bigint and a.balance + d.delta <= $3::bigint and a.balance + d.delta > 0)))' +
    ' returning a.workspace_id, a.balance), ' +
    'led as (insert into credits_ledger (workspace_id, amount, balance_after, reason, description, tool, user_id, client_id, request_id, created_at)' +
    ' select l.workspace_id, l.amount, upd.balance - d.delta + l.after, l.reason, l.description, l.tool, l.user_id, l.client_id, l.request_id, l.created_at' +
    ` from json_to_recordset($4::json) as l(${LEDGER_TYPES}) join upd on upd.workspace_id = l.workspace_id join d on d.workspace_id = l.workspace_id order by l.ord returning 1), ` +
    rollups.join(', ') +
    ' select workspace_id, balance from upd'
  );
})();

/** Whether a balance of `start` moved by `delta` crosses a line that writes an event (balance-lines.ts). */
export const crossesLine = (start: number, delta: number, low: number | undefined): boolean => lineCrossed(start, start + delta, low) !== undefined;

/**
 * The one statement for the operations of `batch` whose workspaces are not known (from `known`, the balances this
 * process last saw) to lack room; undefined when that leaves nothing to write.
 */
export function planStatement(batch: readonly BatchOp[], low: number | undefined, known: ReadonlyMap<string, number>, at: number): StatementPlan | undefined {
  const changes = new Map<string, Change>();
  const running = new Map<number, number>();
  batch.forEach((op, i) => {
    const amount = op.kind === 'charge' ? -op.cost : op.kind === 'failure' ? op.refund : 0;
    const c = changes.get(op.workspaceId) ?? { delta: 0, lowest: 0 };
    if (amount) {
      c.delta += amount;
      c.lowest = Math.min(c.lowest, c.delta);
      changes.set(op.workspaceId, c);
    }
    running.set(i, c.delta);
  });
  // A workspace this process saw too low a moment ago goes to the general path at once, rather than after a
  // statement that would have changed nothing for it.
  const skipped = new Set<string>();
  for (const [ws, c] of changes) {
    const balance = known.get(ws);
    if (balance !== undefined && (balance < -c.lowest || crossesLine(balance, c.delta, low))) skipped.add(ws);
  }
  for (const ws of skipped) changes.delete(ws);
  const covered = batch.flatMap((op, i) => (skipped.has(op.workspaceId) ? [] : [i]));
  if (!covered.length) return undefined;

  const ledger: Record<LedgerField, string | number>[] = [];
  const usage = new UsageRollups();
  for (const i of covered) {
    const op = batch[i];
    const tool = clip(op.tool, 128);
    const clientId = clip(op.clientId, 2048);
    if (op.kind === 'charge') {
      if (op.cost > 0) {
        ledger.push({ workspace_id: op.workspaceId, amount: -op.cost, after: running.get(i)!, reason: 'tool_call', description: '', tool, user_id: clip(op.userId, 64), client_id: clientId, request_id: clip(op.requestId, 64), created_at: op.at, ord: ledger.length });
      }
      usage.add(op.workspaceId, op.at, tool, clientId, { calls: 1, credits: op.cost, errors: 0 });
    } else if (op.kind === 'failure') {
      if (op.refund > 0) {
        ledger.push({ workspace_id: op.workspaceId, amount: op.refund, after: running.get(i)!, reason: 'refund', description: 'tool call failed', tool, user_id: clip(op.userId, 64), client_id: clientId, request_id: clip(op.requestId, 64), created_at: op.at, ord: ledger.length });
      }
      usage.add(op.workspaceId, op.chargedAt, tool, clientId, { calls: 0, credits: -op.refund, errors: 1 });
    } else {
      usage.add(op.workspaceId, op.at, tool, clientId, { calls: 1, credits: 0, errors: 0, ...(op.outcome === 'bad_arguments' ? { badArguments: 1 } : { rateLimited: 1 }) });
    }
  }
  // Sorted: concurrent statements lock the balance rows in the same order (as the general path's select does).
  const d = [...changes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([workspace_id, c]) => ({ workspace_id, delta: c.delta, need: -c.lowest }));
  const rows = new Map(usage.tables().map((t) => [t.table, t.rows]));
  const parameters = [JSON.stringify(d), at, low ?? null, JSON.stringify(ledger), ...TABLES.map((t) => JSON.stringify(rows.get(t) ?? []))];
  return { query: CompiledQuery.raw(TEXT, parameters) as StatementPlan['query'], covered, running, changes };
}
