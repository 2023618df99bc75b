import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { backupSqliteFile, nobodyElseHasOpen, tollgateMigrationsIn } from './sqlite-backup.ts';

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), 'tollgate-backup-'));
}

function walDatabase(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS pairs (n INTEGER)');
  db.exec("CREATE TABLE IF NOT EXISTS tollgate_migrations (name TEXT PRIMARY KEY, timestamp TEXT)");
  db.exec("INSERT OR IGNORE INTO tollgate_migrations VALUES ('0001_accounts_init', 'now')");
  return db;
}

test('backupSqliteFile: a snapshot while another connection commits (never half a transaction), 0600, self-contained, no overwrite by default', async () => {
  const dir = scratch();
  try {
    const source = path.join(dir, 'source.db');
    const writer = walDatabase(source);
    for (let i = 0; i < 2000; i++) writer.exec(`INSERT INTO pairs VALUES (${i}), (${i})`);
    // Each commit adds two rows: a consistent copy always has an even count.
    let commits = 0;
    const timer = setInterval(() => {
      writer.exec('BEGIN');
      writer.exec('INSERT INTO pairs VALUES (-1)');
      writer.exec('INSERT INTO pairs VALUES (-1)');
      writer.exec('COMMIT');
      commits++;
    }, 1);
    const dest = path.join(dir, 'copy.db');
    let pages: number;
    try {
      await new Promise((r) => setTimeout(r, 20));
      pages = await backupSqliteFile(source, dest);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      clearInterval(timer);
    }
    assert.ok(pages > 1 && commits > 0);
    assert.equal(statSync(dest).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ['copy.db', 'source.db', 'source.db-shm', 'source.db-wal'], 'no temporary file left');
    const copy = new DatabaseSync(dest, { readOnly: true });
    const { n } = copy.prepare('SELECT count(*) AS n FROM pairs').get() as { n: number };
    const { journal_mode } = copy.prepare('PRAGMA journal_mode').get() as { journal_mode: string };
    copy.close();
    assert.ok(n >= 4000 && n % 2 === 0, `${n} rows`);
    assert.equal(journal_mode, 'delete', 'the copy is one file, not WAL');
    assert.deepEqual(tollgateMigrationsIn(dest), ['0001_accounts_init']);

    await assert.rejects(backupSqliteFile(source, dest), /copy\.db already exists: .*--force/);
    writer.exec('INSERT INTO pairs VALUES (7), (7)');
    await backupSqliteFile(source, dest, { overwrite: true });
    const again = new DatabaseSync(dest, { readOnly: true });
    assert.equal((again.prepare('SELECT count(*) AS n FROM pairs').get() as { n: number }).n, (writer.prepare('SELECT count(*) AS n FROM pairs').get() as { n: number }).n);
    again.close();
    writer.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nobodyElseHasOpen: false while another connection has the database open, true once it closed', () => {
  const dir = scratch();
  try {
    const file = path.join(dir, 'db.db');
    const other = walDatabase(file);
    other.prepare('SELECT count(*) FROM pairs').get();
    assert.equal(nobodyElseHasOpen(file), false);
    other.close();
    assert.equal(nobodyElseHasOpen(file), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tollgateMigrationsIn refuses what is not a Tollgate SQLite database', () => {
  const dir = scratch();
  try {
    const text = path.join(dir, 'text.db');
    writeFileSync(text, 'hello '.repeat(200));
    assert.throws(() => tollgateMigrationsIn(text), /text\.db is not a Tollgate SQLite database \(file is not a database\)/);
    const plain = path.join(dir, 'plain.db');
    const db = new DatabaseSync(plain);
    db.exec('CREATE TABLE t (x)');
    db.close();
    assert.throws(() => tollgateMigrationsIn(plain), /no tollgate_migrations table/);
    assert.throws(() => tollgateMigrationsIn(path.join(dir, 'missing.db')), /No file at/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
