// A Kysely dialect for the built-in `node:sqlite` module: no native addon to build, nothing to download.
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

const STATEMENT_CACHE_SIZE = 256;

class NodeSqliteConnection implements DatabaseConnection {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, { stmt: StatementSync; reader: boolean }>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  #prepare(sql: string): { stmt: StatementSync; reader: boolean } {
    let entry = this.#statements.get(sql);
    if (entry) {
      // Refresh recency: Map iteration order is insertion order, so the first key is the least recently used.
      this.#statements.delete(sql);
      this.#statements.set(sql, entry);
      return entry;
    }
    const stmt = this.db.prepare(sql);
    entry = { stmt, reader: stmt.columns().length > 0 };
    this.#statements.set(sql, entry);
    if (this.#statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value as string;
      this.#statements.delete(oldest);
    }
    return entry;
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { stmt, reader } = this.#prepare(compiled.sql);
    const params = compiled.parameters.map(toSqlite);
    if (reader) return Promise.resolve({ rows: stmt.all(...params) as R[] });
    const { changes, lastInsertRowid } = stmt.run(...params);
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: lastInsertRowid === undefined ? undefined : BigInt(lastInsertRowid),
      rows: [],
    });
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { stmt } = this.#prepare(compiled.sql);
    for (const row of stmt.iterate(...compiled.parameters.map(toSqlite))) yield { rows: [row as R] };
  }
}

function toSqlite(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  return value as SQLInputValue;
}

/** One connection per process, guarded by a mutex; write transactions take the write lock up front. */
class NodeSqliteDriver implements Driver {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #connection?: NodeSqliteConnection;
  // The mutex: taken without a promise hop when free (the common case: every statement runs synchronously), and
  // handed over to the next waiter in arrival order.
  #busy = false;
  readonly #waiters: ((c: NodeSqliteConnection) => void)[] = [];

  constructor(path: string, busyTimeoutMs: number) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  async init(): Promise<void> {
    const db = new DatabaseSync(this.#path, { timeout: this.#busyTimeoutMs });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    this.#connection = new NodeSqliteConnection(db);
  }

  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(this.#connection!);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async releaseConnection(): Promise<void> {
    const next = this.#waiters.shift();
    if (next) next(this.#connection!);
    else this.#busy = false;
  }

  // BEGIN IMMEDIATE: a deferred transaction that later writes can fail with SQLITE_BUSY when another process
  // holds the write lock; taking it up front lets the busy timeout do its job instead.
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async destroy(): Promise<void> {
    const c = this.#connection;
    this.#connection = undefined;
    if (c?.db.isOpen) c.db.close();
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  constructor(path: string, busyTimeoutMs = 5000) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new NodeSqliteDriver(this.#path, this.#busyTimeoutMs);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
