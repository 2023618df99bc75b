// `tollgate backup <file>` and `tollgate restore <file>`: the SQLite database, and the secret that seals its signing
// keys, copied out while a server may be serving, and put back while none is. PostgreSQL has its own tools
// (pg_dump / pg_restore): the README's "Backups" section says how.
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../config/config.ts';
import { CommandError, type Command, type CommandIO } from './command.ts';

const PG_HELP = 'pg_dump / pg_restore back up and restore a PostgreSQL database: see "Backups" in the README';

/** The SQLite file the configuration points at, or undefined (and a message, exit 2) for PostgreSQL. */
function sqliteFile(config: Config, io: CommandIO, verb: string): string | undefined {
  if (!config.databaseUrl.startsWith('sqlite:')) {
    io.err(`tollgate ${verb} works on a SQLite database; this server uses PostgreSQL: ${PG_HELP}`);
    return undefined;
  }
  const file = config.databaseUrl.slice('sqlite:'.length);
  if (file === ':memory:') throw new CommandError(`An in-memory database (sqlite::memory:) has nothing to ${verb}`);
  return file;
}

/** Writes `data` to `file` (0600) through a temporary file; an existing `file` is replaced only with `overwrite`. */
function writePrivate(file: string, data: string | Buffer, overwrite: boolean): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (overwrite) renameSync(tmp, file);
    else linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CommandError(`${file} already exists: choose another file, or pass --force to replace it`);
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export const backupCommand: Command = {
  path: ['backup'],
  summary: 'Copy the SQLite database (consistent while a server serves it) to <file>, and its secret to <file>.secret.',
  args: '<file> [--force]',
  positionals: 1,
  options: { force: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const config = loadConfig({ env: io.env });
    const source = sqliteFile(config, io, 'backup');
    if (source === undefined) return 2;
    const [{ backupSqliteFile, tollgateMigrationsIn }, { loadOrCreateSecret }] = await Promise.all([import('../store/sqlite-backup.ts'), import('../config/secret.ts')]);
    if (!existsSync(source)) throw new CommandError(`No Tollgate database at ${source}: set TOLLGATE_DATA_DIR (or TOLLGATE_DATABASE_URL) to the server's`);
    tollgateMigrationsIn(source);
    const dest = path.resolve(positionals[0]);
    const secretDest = `${dest}.secret`;
    const force = values.force === true;
    if (!force) {
      for (const f of [dest, secretDest]) if (existsSync(f)) throw new CommandError(`${f} already exists: choose another file, or pass --force to replace it`);
    }
    mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    // The secret first: without it the signing keys in the copy cannot be opened, so the copy alone is of little use.
    if (config.secret) {
      if (force) rmSync(secretDest, { force: true });
      io.err(
        'tollgate: this server takes its secret from TOLLGATE_SECRET, which is not written to the backup: keep it with the backup, ' +
          'since restoring needs the same TOLLGATE_SECRET (the signing keys are sealed with it)',
      );
    } else {
      writePrivate(secretDest, loadOrCreateSecret(config, { create: false }) + '\n', force);
    }
    const pages = await backupSqliteFile(source, dest, { overwrite: force });
    io.out(`Backed up ${source} to ${dest} (${pages} pages)${config.secret ? '' : `; its secret to ${secretDest}`}.`);
    io.out('Both files are readable by their owner only; store them as safely as the data directory.');
  },
};

export const restoreCommand: Command = {
  path: ['restore'],
  summary: 'Replace the SQLite database with the backup <file> (and the secret with <file>.secret); the server must be stopped.',
  args: '<file>',
  positionals: 1,
  async run({ positionals }, io) {
    const config = loadConfig({ env: io.env });
    const target = sqliteFile(config, io, 'restore');
    if (target === undefined) return 2;
    const [{ nobodyElseHasOpen, tollgateMigrationsIn }, { ensureDataDir }, { allMigrations }, { NewerDatabaseError }] = await Promise.all([
      import('../store/sqlite-backup.ts'),
      import('../config/secret.ts'),
      import('../migrations.ts'),
      import('../store/migrate.ts'),
    ]);
    const from = path.resolve(positionals[0]);
    const applied = tollgateMigrationsIn(from);
    const known = new Set(allMigrations.map((m) => m.name));
    const unknown = applied.filter((n) => !known.has(n));
    if (unknown.length) throw new NewerDatabaseError(unknown, from);
    const secretFrom = `${from}.secret`;
    const secret = existsSync(secretFrom) ? readFileSync(secretFrom, 'utf8').trim() : undefined;
    if (secret === '') throw new CommandError(`${secretFrom} is empty`);

    ensureDataDir(config.dataDir);
    mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    const at = stamp();
    let kept: string | undefined;
    if (existsSync(target)) {
      // A running server keeps its connection open: replacing the file under it would lose its writes and serve
      // the old data. The exclusive lock is granted only when no process has the database open.
      if (!nobodyElseHasOpen(target) || existsSync(`${target}-wal`)) {
        throw new CommandError(`The database ${target} is in use (a Tollgate server or another process has it open): stop the server, then run \`tollgate restore\` again`);
      }
      kept = `${target}.before-restore-${at}`;
      renameSync(target, kept);
      rmSync(`${target}-shm`, { force: true });
    }
    writePrivate(target, readFileSync(from), true);
    io.out(`Restored ${from} into ${target}.${kept ? ` The previous database is kept as ${kept}.` : ''}`);

    const secretFile = path.join(config.dataDir, 'secret');
    if (secret === undefined) {
      io.err(
        `tollgate: no ${secretFrom} beside the backup: the secret was left as it is. The signing keys in the backup open only with the secret ` +
          'of the server it was taken from (its data directory\'s secret file, or TOLLGATE_SECRET)',
      );
    } else if (config.secret) {
      if (config.secret !== secret) {
        io.err(`tollgate: TOLLGATE_SECRET is set and differs from ${secretFrom}: the server will use TOLLGATE_SECRET, which cannot open the restored signing keys; unset it, or set it to the backup's secret`);
      }
    } else {
      let keptSecret: string | undefined;
      if (existsSync(secretFile)) {
        if (readFileSync(secretFile, 'utf8').trim() === secret) {
          io.out(`The secret in ${secretFile} is already the backup's.`);
          return 0;
        }
        keptSecret = `${secretFile}.before-restore-${at}`;
        renameSync(secretFile, keptSecret);
      }
      writePrivate(secretFile, secret + '\n', true);
      io.out(`Restored the secret into ${secretFile}.${keptSecret ? ` The previous one is kept as ${keptSecret}.` : ''}`);
    }
    return 0;
  },
};
