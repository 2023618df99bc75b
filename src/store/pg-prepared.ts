// Named (server-side) prepared statements on PostgreSQL. Kysely hands node-postgres the SQL text and its parameters,
// which node-postgres sends as an unnamed statement: PostgreSQL parses and plans it again on every execution. Giving
// each repeated statement a name makes every connection parse it once and keep it; the planning is then PostgreSQL's
// plan cache's to decide. Measured on the bench's metered tool call on PostgreSQL (bench/tools/ab.ts): about 40 % more
// calls per second, 11 % less CPU per call in Tollgate's own process.
//
// Only data statements with parameters are named (one command each, so the extended protocol takes them), and only
// from their second use, at most `maxStatements` texts per process; the rest go out as before. A migration by
// another process can change what a prepared `select *` returns, which PostgreSQL refuses ("cached plan must not
// change result type", 0A000): the text then gets a new name, and a statement outside a transaction is retried once.
// Poolers in transaction mode need protocol-level prepared statement support (PgBouncer ≥ 1.21 with
// max_prepared_statements), or TOLLGATE_DATABASE_PREPARED_STATEMENTS=false.
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

export interface PreparedStatementsOptions {
  /** Statement texts named per process (default 200). */
  maxStatements?: number;
}

const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;
const BEGIN = /^\s*(begin|start\s+transaction)\b/i;
const END = /^\s*(commit|end|rollback)\s*;?\s*$/i;
const SEEN_LIMIT = 5000;

export function preparedStatementsPool(pool: pg.Pool, options: PreparedStatementsOptions = {}): PostgresPool {
  const maxStatements = options.maxStatements ?? 200;
  const names = new Map<string, string>();
  const seenOnce = new Set<string>();
  let counter = 0;

  /** The name a text runs under, or undefined to send it unnamed. */
  function nameFor(text: string, values: readonly unknown[]): string | undefined {
    const known = names.get(text);
    if (known !== undefined) return known;
    if (!values.length || names.size >= maxStatements || !DATA_STATEMENT.test(text) || text.includes(';')) return undefined;
    if (!seenOnce.has(text)) {
      if (seenOnce.size >= SEEN_LIMIT) seenOnce.clear();
      seenOnce.add(text);
      return undefined;
    }
    seenOnce.delete(text);
    const name = `tollgate_${++counter}`;
    names.set(text, name);
    return name;
  }

  // One wrapper per node-postgres client, so Kysely sees the same connection object each time it is handed out.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  function wrap(client: pg.PoolClient): PostgresPoolClient {
    let inTransaction = false;
    type Result = PostgresQueryResult<unknown>;
    const run = async (text: string, values: readonly unknown[], retried = false): Promise<Result> => {
      if (BEGIN.test(text)) inTransaction = true;
      else if (END.test(text)) inTransaction = false;
      const name = nameFor(text, values);
      if (name === undefined) return (await client.query(text, values as unknown[])) as unknown as Result;
      try {
        return (await client.query({ name, text, values: values as unknown[] })) as unknown as Result;
      } catch (err) {
        if ((err as { code?: string }).code !== '0A000' || names.get(text) !== name) throw err;
        // The table changed under the prepared statement: prepare it afresh, under a new name, on every connection.
        names.delete(text);
        seenOnce.add(text);
        if (inTransaction || retried) throw err;
        return run(text, values, true);
      }
    };
    return {
      query: ((textOrCursor: string | object, values?: readonly unknown[]) =>
        typeof textOrCursor === 'string' ? run(textOrCursor, values ?? []) : client.query(textOrCursor as never)) as PostgresPoolClient['query'],
      release: () => client.release(),
    };
  }

  return {
    async connect() {
      const client = await pool.connect();
      let w = wrappers.get(client);
      if (!w) wrappers.set(client, (w = wrap(client)));
      return w;
    },
    end: () => pool.end(),
  };
}
