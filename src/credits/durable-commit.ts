// How the ledger writer commits. On PostgreSQL a commit is durable when it returns. On SQLite (WAL, and the store's
// synchronous=FULL) a commit fsyncs the WAL on the event loop: ~1 ms in which no other request moves. So the writer's
// own transactions run with synchronous=NORMAL for their duration (restored before the connection is released, so
// no other statement ever runs with it), and the WAL file is then fsynced on the thread pool; callers are told
// "committed" only after that fsync. Durability is the same as FULL's — a row is on disk before anyone hears of
// it — but the event loop keeps serving requests while the disk syncs, and one fsync covers every commit before it.
import { closeSync, fdatasync, openSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';

export interface DurableCommitter {
  /** Runs `fn` in a write transaction and commits it. */
  transaction<T>(fn: (trx: Kysely<any>) => Promise<T>): Promise<T>;
  /** Resolves once everything committed so far is on disk. */
  durable(): Promise<void>;
  close(): void;
}

/** Coalescing fsync: callers that arrive while one runs share the next one (which starts after their commits). */
function fileSyncer(path: string) {
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
      // fdatasync, as SQLite itself syncs on Linux: the WAL's bytes (and its size when it grew) reach the disk,
      // without also writing back its modification time.
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  function sync(): Promise<void> {
    if (!running) {
      running = once().finally(() => {
        running = undefined;
      });
      return running;
    }
    next ??= running.catch(() => {}).then(() => {
      next = undefined;
      return sync();
    });
    return next;
  }
  return {
    sync,
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

export function durableCommitter(store: Store): DurableCommitter {
  const db = store.db;
  const file = store.dialect === 'sqlite' ? store.url.slice('sqlite:'.length) : undefined;
  if (!file || file === ':memory:') {
    return { transaction: (fn) => db.transaction().execute(fn), durable: async () => {}, close() {} };
  }
  const wal = fileSyncer(`${file}-wal`);
  // The connection's own setting (FULL from the store), read once and restored after every transaction.
  let restore: Promise<{ wal: boolean; level: number }> | undefined;
  const settings = () =>
    (restore ??= db.connection().execute(async (conn) => {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(conn);
      const level = await sql<{ synchronous: number }>`pragma synchronous`.execute(conn);
      return { wal: mode.rows[0]?.journal_mode === 'wal', level: Number(level.rows[0]?.synchronous ?? 2) };
    }));

  return {
    async transaction(fn) {
      const { wal: isWal, level } = await settings();
      // Without WAL there is no single file to sync: commit the ordinary, fully synchronous way.
      if (!isWal || level < 2) return db.transaction().execute(fn);
      return db.connection().execute(async (conn) => {
        await sql`pragma synchronous = normal`.execute(conn);
        try {
          await sql`begin immediate`.execute(conn);
          let result;
          try {
            result = await fn(conn);
          } catch (err) {
            await sql`rollback`.execute(conn).catch(() => {});
            throw err;
          }
          await sql`commit`.execute(conn);
          return result;
        } finally {
          await sql.raw(`pragma synchronous = ${level}`).execute(conn);
        }
      });
    },
    async durable() {
      const s = await settings();
      if (s.wal && s.level >= 2) await wal.sync();
    },
    close: () => wal.close(),
  };
}
