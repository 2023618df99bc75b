// A Kysely dialect for the built-in `node:sqlite` module: no native addon to build, nothing to download.
//
// Durable commits that never stall the event loop. node:sqlite is synchronous, so with synchronous=FULL every
// commit would fsync on the event loop (milliseconds in which no other request moves). Instead, in WAL mode the
// connection runs with synchronous=NORMAL (commits append to the WAL without syncing it), and every commit that wrote
// something — an autocommit write, a COMMIT, the RELEASE of an outermost savepoint — resolves only after the WAL file
// has been fdatasync'ed on the thread pool: nobody hears "committed" before the data is on disk, exactly as with FULL.
// Meanwhile the connection is free for other statements, and commits that land while a sync runs share the next one
// (group commit: one sync for all of them). WAL with NORMAL is crash-safe; the sync after each commit makes it
// durable too.
import { chmodSync, closeSync, fdatasync, openSync, statSync } from 'node:fs';
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Compilable,
  type KyselyConfig,
  type QueryCompiler,
  type QueryId,
  type QueryResult,
} from 'kysely';

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite adapter assumes one process: it runs migrations outside a transaction and takes no lock, so two
 * processes starting on one fresh database could both apply the same migration ("table … already exists"). SQLite's
 * DDL is transactional, and this dialect's transactions begin IMMEDIATE (the database's write lock, taken up front),
 * so running the migrations in one transaction serialises the processes: the second waits, then finds them applied.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

// Statements that never write by themselves (anything else is assumed to: a needless sync costs only time).
const READS_ONLY = /^\s*(select|pragma|explain|begin|commit|end|rollback|savepoint|release)\b/i;
const WITH_WRITE = /\b(insert|update|delete|replace)\b/i;
const ROLLBACK = /^\s*rollback\b/i;
const PLAIN_READ = /^\s*select\b/i;
const mayWrite = (sql: string): boolean => (/^\s*with\b/i.test(sql) ? WITH_WRITE.test(sql) : !READS_ONLY.test(sql));

/** Coalescing fdatasync of one file on the thread pool: callers that arrive while one runs share the next one. */
export function fileSyncer(path: string) {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      try {
        fd ??= openSync(path, 'r');
      } catch (err) {
        reject(err);
        return;
      }
      // fdatasync, as SQLite itself syncs on Linux: the file's bytes (and its size when it grew) reach the disk.
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  function sync(): Promise<void> {
    if (!running) {
      running = once().finally(() => {
        running = undefined;
      });
      return running;
    }
    // A sync that is already running may have started before the caller's commit: wait for the next one.
    next ??= running.catch(() => {}).then(() => {
      next = undefined;
      return sync();
    });
    return next;
  }
  return {
    sync,
    /** Waits for the syncs in progress, then closes the file. */
    async close(): Promise<void> {
      while (running || next) await (next ?? running)!.catch(() => {});
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

type FileSyncer = ReturnType<typeof fileSyncer>;

interface CachedStatement {
  stmt: StatementSync;
  reader: boolean;
  writes: boolean;
  plainRead: boolean;
  /** Set when the statement returns its rows as arrays, which this turns into objects. */
  toRow: RowBuilder | undefined;
}

/**
 * What builds a reader's rows in JavaScript (from arrays), or undefined to leave that to node:sqlite.
 * node:sqlite makes each row object through V8's C++ API, which costs more than the query (measured: 9.6 µs for four
 * rows of twelve columns, against 6.6 µs as arrays made into objects here; 2.5 against 1.5 µs for one row); the objects
 * made here also share one shape, so the code that reads them stays fast. Not for duplicate names or `__proto__`,
 * where an object literal would not give what node:sqlite gives.
 */
function arrayRowBuilder(stmt: StatementSync): RowBuilder | undefined {
  if (typeof stmt.setReturnArrays !== 'function') return undefined;
  const names = stmt.columns().map((c) => c.name);
  if (names.includes('__proto__') || new Set(names).size !== names.length) return undefined;
  stmt.setReturnArrays(true);
  return rowBuilder(names);
}

type RowBuilder = (values: readonly unknown[]) => Record<string, unknown>;

/**
 * Row objects with the same keys and values as node:sqlite's (with Object.prototype, as PostgreSQL's rows have), from
 * one object literal per column list: a literal of fixed keys is built in one step with its final shape, where
 * assigning the keys one by one takes a lookup per key through code that sees every table's columns (measured: ten
 * times faster for four rows of fourteen columns). The keys are column names SQLite reports for Tollgate's own
 * statements, each written as a JSON string literal, so no name can be anything but a key.
 */
const builders = new Map<string, RowBuilder>();
function rowBuilder(columns: readonly string[]): RowBuilder {
  const key = JSON.stringify(columns);
  let build = builders.get(key);
  if (!build) {
    build = new Function('v', `return {${columns.map((c, i) => `${JSON.stringify(c)}: v[${i}]`).join(', ')}};`) as RowBuilder;
    builders.set(key, build);
  }
  return build;
}

class NodeSqliteConnection {
  readonly db: DatabaseSync;
  /** Present in WAL mode: commits are made durable by syncing the WAL file (see the top of this file). */
  readonly wal: FileSyncer | undefined;
  readonly #statements = new Map<string, CachedStatement>();
  #uncommittedWrites = false;
  /**
   * Changes whenever what this connection sees may have changed: a read snapshot begun or ended (other processes'
   * commits become visible), any statement but a plain read (a write, BEGIN, COMMIT, a pragma). While it stays the
   * same, a read gives the answer it gave before.
   */
  stamp = 0;

  constructor(db: DatabaseSync, wal: FileSyncer | undefined) {
    this.db = db;
    this.wal = wal;
  }

  #prepare(sql: string): CachedStatement {
    let entry = this.#statements.get(sql);
    if (entry) {
      // Refresh recency: Map iteration order is insertion order, so the first key is the least recently used.
      this.#statements.delete(sql);
      this.#statements.set(sql, entry);
      return entry;
    }
    const stmt = this.db.prepare(sql);
    const reader = stmt.columns().length > 0;
    entry = { stmt, reader, writes: mayWrite(sql), plainRead: PLAIN_READ.test(sql), toRow: reader ? arrayRowBuilder(stmt) : undefined };
    this.#statements.set(sql, entry);
    if (this.#statements.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value as string;
      this.#statements.delete(oldest);
    }
    return entry;
  }

  /** A read transaction opened for the plain reads of this turn of the event loop (see `run`). */
  #snapshot = false;
  endSnapshot = (): void => {
    if (!this.#snapshot) return;
    this.#snapshot = false;
    this.stamp++;
    if (this.db.isOpen && this.db.isTransaction) this.db.exec('commit');
  };

  /** Runs one statement; `committed` is called when it committed writes that must reach the disk before it resolves. */
  run<R>(compiled: CompiledQuery, committed: () => Promise<void>): Promise<QueryResult<R>> {
    // Some statements refuse to be even prepared inside a transaction (`pragma synchronous`): a statement seen for
    // the first time, unless it is a plain read, is prepared outside the turn's read snapshot.
    if (this.#snapshot && !this.#statements.has(compiled.sql) && !PLAIN_READ.test(compiled.sql)) this.endSnapshot();
    return this.#execute<R>(this.#prepare(compiled.sql), compiled, committed);
  }

  /** Runs `compiled` at once when it is a plain read (SELECT) with no commit to wait for; undefined for anything else. */
  readSync<R>(compiled: CompiledQuery): QueryResult<R> | undefined {
    const entry = this.#prepare(compiled.sql);
    if (this.#uncommittedWrites || !entry.plainRead) return undefined;
    return this.#runSync<R>(entry, compiled);
  }

  #execute<R>(entry: CachedStatement, compiled: CompiledQuery, committed: () => Promise<void>): Promise<QueryResult<R>> {
    const result = this.#runSync<R>(entry, compiled);
    if (entry.writes) this.#uncommittedWrites = true;
    if (!this.#uncommittedWrites || this.db.isTransaction) return Promise.resolve(result);
    // Out of any transaction after writes: they were just committed (or rolled back).
    this.#uncommittedWrites = false;
    if (!this.wal || ROLLBACK.test(compiled.sql)) return Promise.resolve(result);
    return committed().then(() => result);
  }

  #runSync<R>(entry: CachedStatement, compiled: CompiledQuery): QueryResult<R> {
    const { stmt, reader, plainRead, toRow } = entry;
    // Reads share one read transaction per turn of the event loop. In WAL mode every statement outside a transaction
    // begins and ends a read transaction of its own (shared-memory locks, a look at the WAL index), which costs several
    // times what a point lookup does; the turn's reads — many requests' — share that cost instead. The snapshot ends
    // before anything else runs (a write, BEGIN, a pragma) and when the turn ends, so no write lands in it and other
    // processes' commits are seen from the next turn on.
    if (plainRead) {
      if (!this.#snapshot && !this.db.isTransaction) {
        this.db.exec('begin');
        this.#snapshot = true;
        this.stamp++;
        setImmediate(this.endSnapshot);
      }
    } else {
      this.endSnapshot();
      this.stamp++;
    }
    const params = compiled.parameters.map(toSqlite);
    let result: QueryResult<R>;
    if (reader) {
      const rows = stmt.all(...params) as unknown[];
      if (toRow) for (let i = 0; i < rows.length; i++) rows[i] = toRow(rows[i] as unknown[]);
      result = { rows: rows as R[] };
    } else {
      const { changes, lastInsertRowid } = stmt.run(...params);
      result = { numAffectedRows: BigInt(changes), insertId: lastInsertRowid === undefined ? undefined : BigInt(lastInsertRowid), rows: [] };
    }
    return result;
  }

  *iterate<R>(compiled: CompiledQuery): IterableIterator<R> {
    const { stmt, toRow } = this.#prepare(compiled.sql);
    this.stamp++;
    for (const row of stmt.iterate(...compiled.parameters.map(toSqlite))) yield (toRow ? toRow(row as unknown as unknown[]) : row) as R;
  }
}

function toSqlite(value: unknown): SQLInputValue {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  return value as SQLInputValue;
}

/**
 * One holder's use of the connection (what Kysely acquires and releases). A commit hands the connection on as soon
 * as it has run, before its sync completes; should the holder run another statement after that, it queues for the
 * connection again.
 */
class Lease implements DatabaseConnection {
  readonly #driver: NodeSqliteDriver;
  readonly #connection: NodeSqliteConnection;
  released = false;
  /** Between Kysely's acquire and its release (leases are reused: Kysely keeps every connection object it sees). */
  inUse = false;

  constructor(driver: NodeSqliteDriver, connection: NodeSqliteConnection) {
    this.#driver = driver;
    this.#connection = connection;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.#driver.handOver();
  }

  #committed = (): Promise<void> => {
    this.release();
    return this.#connection.wal!.sync();
  };

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.released) return this.#connection.run<R>(compiled, this.#committed);
    return this.#driver.waitForConnection().then(() => {
      this.released = false;
      return this.#connection.run<R>(compiled, this.#committed);
    });
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (this.released) {
      await this.#driver.waitForConnection();
      this.released = false;
    }
    for (const row of this.#connection.iterate<R>(compiled)) yield { rows: [row] };
  }
}

/** One connection per process, guarded by a mutex; write transactions take the write lock up front. */
class NodeSqliteDriver implements Driver {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #connection?: NodeSqliteConnection;
  // The mutex: taken without a promise hop when free (the common case: every statement runs synchronously), and
  // handed over to the next waiter in arrival order.
  #busy = false;
  readonly #waiters: (() => void)[] = [];
  // As many as there have ever been holders at once (Kysely remembers every connection object it is handed).
  readonly #freeLeases: Lease[] = [];

  constructor(path: string, busyTimeoutMs: number) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  async init(): Promise<void> {
    // SQLite creates -wal and -shm with the main file's mode: make it owner-only first, so they are born that way.
    ownerOnly(this.#path);
    const db = new DatabaseSync(this.#path, { timeout: this.#busyTimeoutMs });
    const mode = await walMode(db, this.#busyTimeoutMs);
    for (const file of [this.#path, `${this.#path}-wal`, `${this.#path}-shm`]) ownerOnly(file);
    const wal = mode === 'wal';
    // In WAL mode the sync after each commit is ours (see the top of this file); otherwise SQLite's own, in line.
    db.exec(wal ? 'PRAGMA synchronous = NORMAL' : 'PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = ON');
    // A 32 MiB page cache (the default is 2 MiB): lookups in large tables (a million grants) stay in memory instead of
    // going to the file for every random page. Allocated only as pages are read.
    db.exec('PRAGMA cache_size = -32768');
    this.#connection = new NodeSqliteConnection(db, wal ? fileSyncer(`${this.#path}-wal`) : undefined);
  }

  /**
   * Runs a plain read at once when nobody holds the connection (nothing can take it meanwhile: the statement runs
   * synchronously); undefined when someone does, or for anything but a read, or before `init` and after `destroy`.
   */
  readNow<R>(compiled: CompiledQuery): Promise<QueryResult<R>> | undefined {
    try {
      const result = this.readSync<R>(compiled);
      return result && Promise.resolve(result);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `readNow`, answered synchronously (its errors thrown). */
  readSync<R>(compiled: CompiledQuery): QueryResult<R> | undefined {
    if (this.#busy || !this.#connection) return undefined;
    return this.#connection.readSync<R>(compiled);
  }

  /** See NodeSqliteConnection.stamp; -1 before `init` and after `destroy`. */
  get stamp(): number {
    return this.#connection?.stamp ?? -1;
  }

  /** Resolves when the caller holds the connection. */
  waitForConnection(): Promise<void> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  handOver(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#busy = false;
  }

  #lease(): Lease {
    const lease = this.#freeLeases.pop() ?? new Lease(this, this.#connection!);
    lease.released = false;
    lease.inUse = true;
    return lease;
  }

  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#busy) {
      this.#busy = true;
      return Promise.resolve(this.#lease());
    }
    return this.waitForConnection().then(() => this.#lease());
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    lease.release();
    if (!lease.inUse) return;
    lease.inUse = false;
    this.#freeLeases.push(lease);
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
    c?.endSnapshot();
    await c?.wal?.close();
    if (c?.db.isOpen) c.db.close();
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #driver?: NodeSqliteDriver;
  constructor(path: string, busyTimeoutMs = 5000) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
  }
  createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
  createDriver(): Driver {
    return (this.#driver = new NodeSqliteDriver(this.#path, this.#busyTimeoutMs));
  }
  /** See NodeSqliteDriver.readNow. */
  readNow<R>(compiled: CompiledQuery): Promise<QueryResult<R>> | undefined {
    return this.#driver?.readNow<R>(compiled);
  }
  /** See NodeSqliteDriver.readSync. */
  readSync<R>(compiled: CompiledQuery): QueryResult<R> | undefined {
    return this.#driver?.readSync<R>(compiled);
  }
  /** See NodeSqliteConnection.stamp. */
  get stamp(): number {
    return this.#driver?.stamp ?? -1;
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * `PRAGMA journal_mode = WAL`, waiting out another process that is switching the same new file at that moment: that
 * answers "database is locked" at once, without calling the busy handler (two `tollgate serve` starting together on a
 * fresh file meet it about one time in three). Retried until `busyTimeoutMs` has passed, as any other lock would be.
 */
async function walMode(db: DatabaseSync, busyTimeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + busyTimeoutMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      return (db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined)?.journal_mode;
    } catch (err) {
      if ((err as { errcode?: number }).errcode !== SQLITE_BUSY || Date.now() >= deadline) {
        db.close();
        throw err;
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

const SQLITE_BUSY = 5;

/**
 * Kysely on node:sqlite, for the hot paths' compiled reads (src/store/prepared.ts): `executeQuery` of a compiled
 * SELECT on this root handle runs it at once when the connection is free, rather than through Kysely's executor,
 * connection provider and driver wrapper — several promises each, which cost more than SQLite takes to answer a point
 * lookup. The result is the same: the dialect has no plugins to transform it, and the statement runs exactly as it
 * would once Kysely had acquired the connection. Everything else (query builders, transactions, a read while someone
 * holds the connection) takes Kysely's path.
 */
export class NodeSqliteKysely<DB> extends Kysely<DB> {
  readonly #dialect: NodeSqliteDialect;
  constructor(dialect: NodeSqliteDialect, log?: KyselyConfig['log']) {
    super({ dialect, log });
    this.#dialect = dialect;
  }
  override executeQuery<R>(query: CompiledQuery<R> | Compilable<R>, queryId?: QueryId): Promise<QueryResult<R>> {
    if (queryId === undefined && !('compile' in query)) {
      const now = this.#dialect.readNow<R>(query);
      if (now) return now;
    }
    return super.executeQuery(query, queryId);
  }
}

/**
 * Makes a database file readable by its owner alone (0600), whatever mode it was created or left with: it holds
 * password hashes, sealed signing keys and token records. A file that is missing, in memory, or not ours to change
 * is left as it is.
 */
export function ownerOnly(file: string): void {
  if (file === ':memory:' || file.startsWith('file:')) return;
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM') throw err;
  }
}
