// Requirement (production operations §4, data safety): `tollgate backup` / `restore` of a serving SQLite database
// with its secret, owner-only data files, `tollgate migrate --dry-run`, and refusing a database newer than the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, spawnCli, waitForExit } from './helpers/cli.ts';
import { createTestDatabase, forEachDialect } from './helpers/databases.ts';
import { legacyCall } from './helpers/mcp-http.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { freePort } from '../bench/lib/scratch.ts';
import { loadConfig } from '../src/config/config.ts';
import { openServices } from '../src/services.ts';
import { openStore } from '../src/store/store.ts';
import { allMigrations } from '../src/migrations.ts';
import { createLogger } from '../src/util/logger.ts';

const READY = /Tollgate is running at (http:\/\/127\.0\.0\.1:\d+)/;
const OWNER = 'owner@example.com';
const mode = (file: string) => statSync(file).mode & 0o777;

function scratchDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'tollgate-safety-'));
}

test('an existing data directory (0755), database (0644) and secret (0644) are made owner-only at start', { timeout: 60_000 }, async () => {
  const root = scratchDir();
  const dir = path.join(root, 'data');
  try {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const db = path.join(dir, 'tollgate.db');
    closeSync(openSync(db, 'w', 0o644)); // an empty file: an empty SQLite database
    chmodSync(db, 0o644);
    writeFileSync(path.join(dir, 'secret'), 'a-secret-chosen-before-the-first-start\n', { mode: 0o644 });
    chmodSync(path.join(dir, 'secret'), 0o644);
    const srv = await spawnCli(['serve'], { env: { TOLLGATE_DATA_DIR: dir, TOLLGATE_PORT: '0' }, ready: READY });
    try {
      assert.equal(mode(dir), 0o700, 'data directory');
      assert.equal(mode(db), 0o600, 'tollgate.db');
      assert.equal(mode(`${db}-wal`), 0o600, 'tollgate.db-wal');
      assert.equal(mode(`${db}-shm`), 0o600, 'tollgate.db-shm');
      assert.equal(mode(path.join(dir, 'secret')), 0o600, 'secret');
      assert.equal(readFileSync(path.join(dir, 'secret'), 'utf8').trim(), 'a-secret-chosen-before-the-first-start');
    } finally {
      srv.child.kill('SIGTERM');
      await waitForExit(srv.child);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

forEachDialect('migrate --dry-run and a database newer than the code', (dialect) => {
  test('--dry-run lists every migration on a fresh database and the pending ones on a migrated one, changing nothing', { timeout: 60_000 }, async () => {
    const root = scratchDir();
    const tdb = await createTestDatabase(dialect);
    const env = { TOLLGATE_DATA_DIR: root, TOLLGATE_DATABASE_URL: tdb.url };
    try {
      const fresh = await runCli(['migrate', '--dry-run'], { env });
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.match(fresh.stdout, new RegExp(`${allMigrations.length} migration\\(s\\) would be applied \\(a new database\\)`));
      assert.deepEqual(fresh.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim()), allMigrations.map((m) => m.name));
      if (dialect === 'sqlite') assert.equal(existsSync(tdb.url.slice('sqlite:'.length)), false, 'no database file was created');

      assert.equal((await runCli(['migrate'], { env })).code, 0);
      const store = await openStore(tdb.url);
      try {
        const last = allMigrations.at(-1)!.name;
        const row = await store.db.selectFrom('tollgate_migrations').selectAll().where('name', '=', last).executeTakeFirstOrThrow();
        await store.db.deleteFrom('tollgate_migrations').where('name', '=', last).execute();
        const before = await store.db.selectFrom('tollgate_migrations').selectAll().orderBy('name').execute();
        const dry = await runCli(['migrate', '--dry-run'], { env });
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, /1 migration\(s\) would be applied:\n {2}/);
        assert.equal(dry.stdout.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim()).join(), last);
        assert.deepEqual(await store.db.selectFrom('tollgate_migrations').selectAll().orderBy('name').execute(), before, 'the applied migrations are unchanged');
        await store.db.insertInto('tollgate_migrations').values(row).execute();
      } finally {
        await store.close();
      }
      const done = await runCli(['migrate', '--dry-run'], { env });
      assert.match(done.stdout, /is up to date: nothing to apply/);
    } finally {
      await tdb.drop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('serve, migrate and the admin commands refuse a database with migrations this code does not know (exit 1, no stack)', { timeout: 60_000 }, async () => {
    const root = scratchDir();
    const tdb = await createTestDatabase(dialect);
    const env = { TOLLGATE_DATA_DIR: root, TOLLGATE_DATABASE_URL: tdb.url, TOLLGATE_PORT: '0' };
    try {
      assert.equal((await runCli(['migrate'], { env })).code, 0);
      const store = await openStore(tdb.url);
      try {
        await store.db.insertInto('tollgate_migrations').values({ name: '9990_future_feature', timestamp: new Date().toISOString() }).execute();
      } finally {
        await store.close();
      }
      for (const args of [['serve'], ['migrate'], ['migrate', '--dry-run'], ['admin', 'workspace', 'list']]) {
        const r = await runCli(args, { env });
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /Error: The database .* has 1 migration\(s\) this version of Tollgate does not know \(9990_future_feature\): it was most likely migrated by a newer Tollgate/, args.join(' '));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    } finally {
      await tdb.drop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

test('backup while serving under writes, restore into a fresh data directory: balances and an earlier token survive', { timeout: 180_000 }, async () => {
  const root = scratchDir();
  const dirA = path.join(root, 'a');
  const dirB = path.join(root, 'b');
  const port = String(await freePort());
  const envA = { TOLLGATE_DATA_DIR: dirA, TOLLGATE_PORT: port, TOLLGATE_ADMIN_EMAIL: OWNER, TOLLGATE_INITIAL_CREDITS: '1000' };
  const envB = { ...envA, TOLLGATE_DATA_DIR: dirB };
  const backupFile = path.join(root, 'backups', 'tollgate-1.db');
  try {
    const a = await spawnCli(['serve'], { env: envA, ready: READY });
    let token: string;
    const balances = new Set<number>([1000]);
    try {
      // A token issued by this server before the backup: its signing key is sealed with the data directory's secret.
      const services = await openServices(loadConfig({ env: envA }), createLogger('silent'), { migrate: false, create: false });
      try {
        token = (await mintAccessToken(services, { email: OWNER })).accessToken;
      } finally {
        await services.close();
      }
      // Writes while the backup runs: credit grants through the CLI, each its own process and transaction.
      let writing = true;
      const writer = (async () => {
        for (let i = 0; writing || i < 3; i++) {
          const g = await runCli(['admin', 'credits', 'grant', 'demo', '7', '--reason', `top-up ${i}`], { env: envA });
          assert.equal(g.code, 0, g.stderr);
          balances.add(Number(/Balance: ([\d,]+)/.exec(g.stdout)![1].replace(/,/g, '')));
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      const backup = await runCli(['backup', backupFile], { env: envA });
      writing = false;
      await writer;
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, /Backed up .* to .*tollgate-1\.db \(\d+ pages\); its secret to .*tollgate-1\.db\.secret\./);
      assert.equal(mode(backupFile), 0o600);
      assert.equal(mode(`${backupFile}.secret`), 0o600);
      assert.equal(readFileSync(`${backupFile}.secret`, 'utf8'), readFileSync(path.join(dirA, 'secret'), 'utf8'));
      assert.deepEqual(readdirSync(path.dirname(backupFile)).sort(), ['tollgate-1.db', 'tollgate-1.db.secret'], 'no temporary file left');

      const again = await runCli(['backup', backupFile], { env: envA });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists: choose another file, or pass --force/);

      // Restoring over the database a server has open is refused, and leaves it alone.
      const busy = await runCli(['restore', backupFile], { env: envA });
      assert.equal(busy.code, 1, busy.stderr);
      assert.match(busy.stderr, /is in use \(a Tollgate server or another process has it open\): stop the server/);
      assert.equal(readdirSync(dirA).filter((f) => f.includes('before-restore')).length, 0);
    } finally {
      a.child.kill('SIGTERM');
      await waitForExit(a.child);
    }

    const restored = await runCli(['restore', backupFile], { env: envB });
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /Restored the secret into .*b\/secret\./);
    assert.equal(mode(dirB), 0o700);
    assert.equal(mode(path.join(dirB, 'tollgate.db')), 0o600);
    assert.equal(mode(path.join(dirB, 'secret')), 0o600);

    const b = await spawnCli(['serve'], { env: envB, ready: READY });
    try {
      const show = await runCli(['admin', 'credits', 'show', 'demo'], { env: envB });
      assert.equal(show.code, 0, show.stderr);
      const balance = Number(/Balance: +([\d,]+) credits/.exec(show.stdout)![1].replace(/,/g, ''));
      assert.ok(balances.has(balance), `the restored balance ${balance} is one the server really had (${[...balances].join(', ')})`);
      assert.doesNotMatch(show.stdout, /DIFFERS/, 'the snapshot is consistent: the balance is the sum of its ledger');
      const list = await legacyCall(`${b.match[1]}/demo/mcp`, token, 'tools/list');
      assert.equal(list.status, 200, list.text);
      assert.ok(((list.body as { result: { tools: unknown[] } }).result.tools).length > 0);
    } finally {
      b.child.kill('SIGTERM');
      await waitForExit(b.child);
    }

    // Restoring over an existing (stopped) database keeps it beside the new one.
    const over = await runCli(['restore', backupFile], { env: envA });
    assert.equal(over.code, 0, over.stderr);
    const kept = readdirSync(dirA).filter((f) => /^tollgate\.db\.before-restore-\d{8}T\d{6}Z$/.test(f));
    assert.equal(kept.length, 1, readdirSync(dirA).join());
    assert.match(over.stdout, new RegExp(`The previous database is kept as .*${kept[0]}`));

    // The same backup without its secret: restored with a warning, and the server cannot open the signing keys.
    const lone = path.join(root, 'lone.db');
    copyFileSync(backupFile, lone);
    const envC = { ...envA, TOLLGATE_DATA_DIR: path.join(root, 'c') };
    const noSecret = await runCli(['restore', lone], { env: envC });
    assert.equal(noSecret.code, 0, noSecret.stderr);
    assert.match(noSecret.stderr, /no .*lone\.db\.secret beside the backup: the secret was left as it is/);
    const refused = await runCli(['serve'], { env: envC });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Cannot decrypt the signing key/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('restore refuses a file that is not a Tollgate SQLite database, and backup/restore point PostgreSQL at pg_dump (exit 2)', { timeout: 60_000 }, async () => {
  const root = scratchDir();
  const env = { TOLLGATE_DATA_DIR: path.join(root, 'data') };
  try {
    const junk = path.join(root, 'notes.txt');
    writeFileSync(junk, 'not a database at all, just some text that is long enough to have a header '.repeat(10));
    const r = await runCli(['restore', junk], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /notes\.txt is not a Tollgate SQLite database/);
    assert.equal(existsSync(path.join(root, 'data', 'tollgate.db')), false);

    const other = path.join(root, 'other.db');
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const r2 = await runCli(['restore', other], { env });
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /other\.db is not a Tollgate SQLite database \(it has no tollgate_migrations table\)/);

    const missing = await runCli(['restore', path.join(root, 'nope.db')], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No file at/);

    for (const verb of ['backup', 'restore']) {
      const pg = await runCli([verb, path.join(root, 'x.db')], { env: { ...env, TOLLGATE_DATABASE_URL: 'postgres://tollgate@127.0.0.1:1/tollgate' } });
      assert.equal(pg.code, 2, verb);
      assert.match(pg.stderr, /this server uses PostgreSQL: pg_dump \/ pg_restore .* see "Backups" in the README/);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
