// Copies of a SQLite database file for `tollgate backup` / `tollgate restore`: an online snapshot taken while a
// server may be writing, a check that a file is a Tollgate database, and a probe for other processes using one.
import { closeSync, existsSync, linkSync, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { UserFacingError } from '../util/errors.ts';

export class BackupError extends UserFacingError {}

/** Pages per backup step: all of them in one step, so the copy is one read transaction (a snapshot). */
const ALL_PAGES = 2 ** 31 - 1;

/**
 * Writes a consistent copy of the SQLite database `source` to `dest` while other processes may be writing to it:
 * SQLite's online backup in a single step reads one snapshot (in WAL mode writers go on meanwhile; sqlite.org
 * backup.html). The copy goes to a temporary file (mode 0600) beside `dest`, is checked, switched out of WAL mode so
 * that it is one self-contained file, and only then takes `dest`'s name; an existing `dest` is replaced only with
 * `overwrite`. Returns the number of pages copied.
 */
export async function backupSqliteFile(source: string, dest: string, options: { overwrite?: boolean } = {}): Promise<number> {
  if (!existsSync(source)) throw new BackupError(`No database file at ${source}`);
  if (!options.overwrite && existsSync(dest)) throw new BackupError(`${dest} already exists: choose another file, or pass --force to replace it`);
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.tmp-${process.pid}`);
  // Created owner-only before SQLite writes a byte into it (an empty file is an empty database to SQLite).
  try {
    closeSync(openSync(tmp, 'wx', 0o600));
  } catch (err) {
    throw new BackupError(`Cannot write ${dest}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const src = new DatabaseSync(source, { readOnly: true, timeout: 5000 });
    let pages: number;
    try {
      pages = await backup(src, tmp, { rate: ALL_PAGES });
    } finally {
      src.close();
    }
    const copy = new DatabaseSync(tmp);
    try {
      const check = copy.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
      if (check?.quick_check !== 'ok') throw new BackupError(`The copy of ${source} failed SQLite's integrity check (${check?.quick_check ?? 'no answer'})`);
      copy.exec('PRAGMA journal_mode = DELETE');
    } finally {
      copy.close();
    }
    if (options.overwrite) renameSync(tmp, dest);
    else {
      // link() fails if dest appeared meanwhile, where rename() would silently replace it.
      try {
        linkSync(tmp, dest);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupError(`${dest} already exists: choose another file, or pass --force to replace it`);
        throw err;
      }
    }
    return pages;
  } catch (err) {
    if (err instanceof UserFacingError) throw err;
    throw new BackupError(`Backup of ${source} failed: ${(err as Error).message}`);
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) rmSync(f, { force: true });
  }
}

/**
 * The migrations applied to the SQLite file `file`; refuses anything that is not a Tollgate database (not SQLite,
 * damaged, or without Tollgate's migration table). Opens it read-only and changes nothing.
 */
export function tollgateMigrationsIn(file: string): string[] {
  const notOurs = (why: string) => new BackupError(`${file} is not a Tollgate SQLite database (${why})`);
  if (!existsSync(file)) throw new BackupError(`No file at ${file}`);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { readOnly: true });
  } catch (err) {
    throw notOurs((err as Error).message);
  }
  try {
    const check = db.prepare('PRAGMA quick_check').get() as { quick_check?: string } | undefined;
    if (check?.quick_check !== 'ok') throw notOurs(`integrity check: ${check?.quick_check ?? 'no answer'}`);
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tollgate_migrations'").get();
    if (!table) throw notOurs('it has no tollgate_migrations table');
    const rows = db.prepare('SELECT name FROM tollgate_migrations ORDER BY name').all() as { name: string }[];
    if (!rows.length) throw notOurs('no migration was ever applied to it');
    return rows.map((r) => String(r.name));
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw notOurs((err as Error).message);
  } finally {
    db.close();
  }
}

/**
 * True when no other connection has the database `file` open: an exclusive lock is granted only then (in WAL mode
 * every open connection holds a shared lock; sqlite.org/lockingv3.html, wal.html §"Concurrency"). On the way the WAL
 * is checkpointed into the main file, so that on success the file alone holds every committed write.
 */
export function nobodyElseHasOpen(file: string): boolean {
  const db = new DatabaseSync(file, { timeout: 0 });
  try {
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    return true;
  } catch (err) {
    if (/locked|busy/i.test((err as Error).message)) return false;
    throw new BackupError(`Cannot open ${file}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}
