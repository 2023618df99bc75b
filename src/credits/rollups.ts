// Usage roll-ups, accumulated in memory for one transaction and written as one upsert per table. Four grains:
// day × tool × client (the full breakdown), day × tool and day × client (so per-tool and per-client answers read
// a few hundred rows, not the full product), and hour (for "the last 24 hours").
//
// Every `tools/call` that reached a known tool is one of `calls`, by outcome: ok, a tool error (`errors`), refused for
// bad arguments, out of credits, or rate limited (the three refusal columns, added by 0301; older rows have 0 there,
// so they still read as ok and tool errors). ok = calls − errors − the refusals.
import type { Kysely } from 'kysely';
import { dayOf, hourOf } from './time.ts';
import { powerOfTwoChunks, prepareQuery, type PreparedQuery } from '../store/prepared.ts';

export interface Usage {
  calls: number;
  credits: number;
  /** Tool errors: the handler threw or returned `isError`. */
  errors: number;
  /** Refused before metering: the arguments did not match the tool's schema. */
  badArguments?: number;
  /** Refused: the cost did not fit the balance. */
  outOfCredits?: number;
  /** Refused with 429: over the plan's rate limit. */
  rateLimited?: number;
}

const REFUSALS = ['bad_arguments', 'out_of_credits', 'rate_limited'] as const;

type Row = Record<string, string | number> & { calls: number; credits: number; errors: number; bad_arguments: number; out_of_credits: number; rate_limited: number };

/** Each roll-up table and its key columns. */
export const TABLES = {
  credits_usage_daily: ['workspace_id', 'day', 'tool', 'client_id'],
  credits_usage_daily_tool: ['workspace_id', 'day', 'tool'],
  credits_usage_daily_client: ['workspace_id', 'day', 'client_id'],
  credits_usage_hourly: ['workspace_id', 'hour'],
} as const;

export type Table = keyof typeof TABLES;
const COUNTS = ['calls', 'credits', 'errors'] as const;
/** Every count column of every roll-up table. */
export const COUNT_COLUMNS = [...COUNTS, ...REFUSALS] as const;
const columnsOf = (table: Table, refusals: boolean): readonly string[] => [...TABLES[table], ...COUNTS, ...(refusals ? REFUSALS : [])];

/**
 * The upsert of `n` rows into `table`, compiled once per dialect (the adapter's class) and shape. A batch without
 * refusals (the common case) writes only calls, credits and errors, as before 0301: the refusal columns keep their
 * default 0 on insert and are left alone on conflict.
 */
const upserts = new Map<unknown, Map<string, PreparedQuery<unknown>>>();
function upsertFor(trx: Kysely<any>, table: Table, n: number, refusals: boolean): PreparedQuery<unknown> {
  const dialect = trx.getExecutor().adapter.constructor;
  let shapes = upserts.get(dialect);
  if (!shapes) upserts.set(dialect, (shapes = new Map()));
  const key = `${table}:${n}:${refusals ? 'r' : ''}`;
  let q = shapes.get(key);
  if (!q) {
    const cols = columnsOf(table, refusals);
    const added = [...COUNTS, ...(refusals ? REFUSALS : [])];
    q = prepareQuery((slot) =>
      trx
        .insertInto(table)
        .values(Array.from({ length: n }, (_, r) => Object.fromEntries(cols.map((c, j) => [c, slot(r * cols.length + j)]))))
        .onConflict((oc: any) =>
          oc.columns([...TABLES[table]]).doUpdateSet((eb: any) => Object.fromEntries(added.map((c) => [c, eb(`${table}.${c}`, '+', eb.ref(`excluded.${c}`))]))),
        ),
    );
    shapes.set(key, q);
  }
  return q;
}

export class UsageRollups {
  readonly #rows = new Map<Table, Map<string, Row>>(Object.keys(TABLES).map((t) => [t as Table, new Map()]));
  /** Whether any row carries a refusal (then the batch writes the refusal columns too). */
  #refusals = false;

  #add(table: Table, key: Record<string, string | number>, u: Usage): void {
    const rows = this.#rows.get(table)!;
    const k = TABLES[table].map((c) => key[c]).join('\u0000');
    let row = rows.get(k);
    if (!row) rows.set(k, (row = { ...key, calls: 0, credits: 0, errors: 0, bad_arguments: 0, out_of_credits: 0, rate_limited: 0 } as Row));
    row.calls += u.calls;
    row.credits += u.credits;
    row.errors += u.errors;
    if (u.badArguments || u.outOfCredits || u.rateLimited) {
      this.#refusals = true;
      row.bad_arguments += u.badArguments ?? 0;
      row.out_of_credits += u.outOfCredits ?? 0;
      row.rate_limited += u.rateLimited ?? 0;
    }
  }

  /** One call's usage, in the day and hour of `at`. */
  add(workspaceId: string, at: number, tool: string, clientId: string, u: Usage): void {
    this.addDaily(workspaceId, dayOf(at), tool, clientId, u);
    this.addHourly(workspaceId, hourOf(at), u);
  }

  addDaily(workspaceId: string, day: number, tool: string, clientId: string, u: Usage): void {
    this.#add('credits_usage_daily', { workspace_id: workspaceId, day, tool, client_id: clientId }, u);
    this.#add('credits_usage_daily_tool', { workspace_id: workspaceId, day, tool }, u);
    this.#add('credits_usage_daily_client', { workspace_id: workspaceId, day, client_id: clientId }, u);
  }

  addHourly(workspaceId: string, hour: number, u: Usage): void {
    this.#add('credits_usage_hourly', { workspace_id: workspaceId, hour }, u);
  }

  /** Each table with rows, and its rows in key order (every count column present, 0 when unused). */
  tables(): { table: Table; rows: Row[] }[] {
    const out: { table: Table; rows: Row[] }[] = [];
    for (const [table, rows] of this.#rows) {
      if (rows.size) out.push({ table, rows: [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r) });
    }
    return out;
  }

  /** Adds everything to the tables. Rows go in key order, so concurrent writers lock rows in the same order. */
  async write(trx: Kysely<any>): Promise<void> {
    for (const { table, rows: sorted } of this.tables()) {
      const cols = columnsOf(table, this.#refusals);
      let at = 0;
      for (const n of powerOfTwoChunks(sorted.length)) {
        const values: unknown[] = [];
        for (let r = at; r < at + n; r++) for (const c of cols) values.push(sorted[r][c]);
        await trx.executeQuery(upsertFor(trx, table, n, this.#refusals)(values));
        at += n;
      }
    }
  }
}
