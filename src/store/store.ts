import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import { preparedStatementsPool } from './pg-prepared.ts';
import { pgListen, type Listening } from './pg-listen.ts';
export type { Listening } from './pg-listen.ts';
import { NodeSqliteDialect, NodeSqliteKysely } from './sqlite-dialect.ts';
import { UserFacingError } from '../util/errors.ts';
import { queryObserver, watchPool } from './metrics.ts';

export type DialectName = 'sqlite' | 'postgres';

/** The database handle every module receives. Each module types it with its own tables via `typed<T>()`. */
export interface Store {
  readonly dialect: DialectName;
  readonly url: string;
  readonly db: Kysely<any>;
  typed<T>(): Kysely<T>;
  /**
   * PostgreSQL only (undefined on SQLite): hears `NOTIFY <channel>` on one dedicated connection of this process,
   * re-established with backoff when lost. `onState(false)` while notifications may be missed; `onState(true)` once
   * it hears again (whatever was sent in between is lost). Closed with the store.
   */
  readonly listen?: (channel: string, onMessage: (payload: string) => void, onState: (up: boolean) => void) => Listening;
  /** SQLite only (undefined on PostgreSQL): this process's one connection, read synchronously. */
  readonly snapshot?: SnapshotReads;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * SQLite's one connection per process, for a cache that must never answer differently from the database: `stamp`
 * changes whenever what the connection sees may have changed (a read snapshot begun or ended, so other processes'
 * commits come into view; any statement but a plain read), and `read` runs a plain SELECT at once, or answers
 * undefined when it cannot (the connection is held, or holds uncommitted writes).
 */
export interface SnapshotReads {
  readonly stamp: number;
  read<R>(compiled: CompiledQuery): R[] | undefined;
}

export class StoreError extends UserFacingError {}

export interface OpenStoreOptions {
  poolSize?: number;
  /** PostgreSQL: name repeated statements so that each connection parses them once (default true; see pg-prepared.ts). */
  preparedStatements?: boolean;
  busyTimeoutMs?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Opens `sqlite:<path>`, `sqlite::memory:` or `postgres://…`, and checks that it answers. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  let dialect: DialectName;
  let db: Kysely<any>;
  let snapshot: SnapshotReads | undefined;
  let unwatch = () => {};
  if (url.startsWith('sqlite:')) {
    dialect = 'sqlite';
    const file = url.slice('sqlite:'.length);
    if (!file) throw new StoreError('Database URL "sqlite:" needs a path, e.g. sqlite:./.tollgate/tollgate.db');
    if (file !== ':memory:') {
      try {
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      } catch (err) {
        throw new StoreError(`Cannot create the directory for ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    const sqliteDialect = new NodeSqliteDialect(file, options.busyTimeoutMs ?? 5000);
    db = new NodeSqliteKysely<any>(sqliteDialect, queryObserver('sqlite'));
    snapshot = {
      get stamp() {
        return sqliteDialect.stamp;
      },
      read: <R,>(compiled: CompiledQuery) => sqliteDialect.readSync<R>(compiled)?.rows,
    };
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    dialect = 'postgres';
    try {
      new URL(url);
    } catch {
      throw new StoreError('The PostgreSQL URL is malformed (expected postgres://user@host:port/database)');
    }
    // The driver is loaded only for a PostgreSQL URL: on SQLite it would be some 10 MB of memory for nothing.
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      // bigint and numeric come back as strings by default; every integer Tollgate stores fits in 2^53.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID || oid === NUMERIC_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    pool.on('error', () => {});
    // Nor may a checked-out one: node-postgres removes the pool's listener while a client is lent out, and a server
    // restart between two queries of a transaction then emits 'error' with no listener, which ends the process. The
    // query in flight (or the next one) reports the failure; the pool drops the broken client on release.
    pool.on('connect', (client) => client.on('error', () => {}));
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool: options.preparedStatements === false ? pool : preparedStatementsPool(pool) }), log: queryObserver('postgres') });
    unwatch = watchPool(pool);
  } else {
    throw new StoreError(`Unsupported database URL ${redactUrl(url)}: use sqlite:<path> or postgres://…`);
  }

  const listening = new Set<Listening>();
  const store: Store = {
    dialect,
    url,
    db,
    typed: <T,>() => db as unknown as Kysely<T>,
    ...(dialect === 'postgres'
      ? {
          listen: (channel: string, onMessage: (payload: string) => void, onState: (up: boolean) => void): Listening => {
            const l = pgListen(url, channel, onMessage, onState, { applicationName: `tollgate-listen ${process.pid} ${channel}` });
            listening.add(l);
            return {
              close: () => {
                listening.delete(l);
                return l.close();
              },
            };
          },
        }
      : { snapshot }),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await Promise.all([...listening].map((l) => l.close()));
      listening.clear();
      unwatch();
      await db.destroy();
    },
  };
  try {
    await store.ping();
  } catch (err) {
    unwatch();
    await db.destroy().catch(() => {});
    throw new StoreError(`Cannot reach the database at ${redactUrl(url)}: ${describeDbError(err)}`);
  }
  return store;
}

/** Drops the password from a database URL before it is printed anywhere. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.split('@').length > 1 ? `***@${url.split('@').pop()}` : url;
  }
}

function describeDbError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: unknown[] };
  if (e?.code === 'ECONNREFUSED' || (Array.isArray(e?.errors) && e.errors.length)) return 'connection refused';
  if (e?.code === 'ENOTFOUND') return 'host not found';
  if (e?.code === '3D000') return 'database does not exist';
  if (e?.code === '28P01' || e?.code === '28000') return 'authentication failed';
  // node:sqlite reports every failure as ERR_SQLITE_ERROR: its errstr says which ("database is locked" is not a
  // missing file).
  if (/unable to open/.test(String(e?.message))) return 'cannot open the database file';
  return String(e?.message ?? err).split('\n')[0];
}

/** Now in epoch milliseconds; every timestamp column stores this form on both dialects. */
export const now = (): number => Date.now();
