// Requirement (foundation §6): the CLI's help, usage errors (exit 2) and admin commands on the configured database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { runCli, spawnCli, waitForExit } from './helpers/cli.ts';
import { createTestDatabase, forEachDialect, type TestDatabase } from './helpers/databases.ts';

test('--help lists the commands; wrong arguments get usage and exit 2', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['serve', 'migrate', 'admin user create', 'admin workspace list', 'admin member add']) assert.match(help.stdout, new RegExp(`tollgate ${c}`));
  const none = await runCli([]);
  assert.equal(none.code, 2);
  const unknown = await runCli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "frobnicate"/);
  const missing = await runCli(['admin', 'user', 'create']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Usage: tollgate admin user create <email>/);
  const extra = await runCli(['admin', 'member', 'add', 'a', 'b', 'c']);
  assert.equal(extra.code, 2);
  const badFlag = await runCli(['admin', 'user', 'list', '--colour']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /colour/);
  const group = await runCli(['admin', 'user']);
  assert.equal(group.code, 2);
  assert.match(group.stderr, /admin user set-password/);
  const cmdHelp = await runCli(['admin', 'workspace', 'create', '--help']);
  assert.equal(cmdHelp.code, 0);
  assert.match(cmdHelp.stdout, /<slug>/);
});

test('admin commands act on the configured database, with clear errors for bad input', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
  const env = { TOLLGATE_DATA_DIR: dir };
  try {
    const migrate = await runCli(['migrate'], { env });
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /up to date/);

    const created = await runCli(['admin', 'user', 'create', 'Grace@Example.com', '--name', 'Grace'], { env });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Password: \S{20}/);
    const dup = await runCli(['admin', 'user', 'create', 'grace@example.COM', '--password', 'another long one'], { env });
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);
    const weak = await runCli(['admin', 'user', 'create', 'x@example.com', '--password', 'short'], { env });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /at least 10/);
    await runCli(['admin', 'user', 'create', 'alan@example.com', '--password', 'long enough pw'], { env });

    const ws = await runCli(['admin', 'workspace', 'create', 'acme', '--name', 'Acme Inc', '--owner', 'grace@example.com'], { env });
    assert.equal(ws.code, 0, ws.stderr);
    assert.match(ws.stdout, /\/acme\/mcp/);
    for (const [slug, msg] of [['Acme', /not a valid workspace slug/], ['admin', /reserved/], ['acme', /already exists/]] as const) {
      const r = await runCli(['admin', 'workspace', 'create', slug], { env });
      assert.equal(r.code, 1, slug);
      assert.match(r.stderr, msg);
    }
    const noOwner = await runCli(['admin', 'workspace', 'create', 'beta', '--owner', 'ghost@example.com'], { env });
    assert.equal(noOwner.code, 1);

    const add = await runCli(['admin', 'member', 'add', 'acme', 'alan@example.com', '--role', 'admin'], { env });
    assert.equal(add.code, 0, add.stderr);
    const badRole = await runCli(['admin', 'member', 'add', 'acme', 'alan@example.com', '--role', 'king'], { env });
    assert.equal(badRole.code, 1);
    assert.match(badRole.stderr, /Role must be one of/);
    const lastOwner = await runCli(['admin', 'member', 'remove', 'acme', 'grace@example.com'], { env });
    assert.equal(lastOwner.code, 1);
    assert.match(lastOwner.stderr, /at least one owner/);
    const rm = await runCli(['admin', 'member', 'remove', 'acme', 'alan@example.com'], { env });
    assert.equal(rm.code, 0, rm.stderr);

    const users = await runCli(['admin', 'user', 'list'], { env });
    assert.match(users.stdout, /Grace@Example\.com\s+Grace/);
    assert.match(users.stdout, /alan@example\.com/);
    const list = await runCli(['admin', 'workspace', 'list'], { env });
    assert.match(list.stdout, /acme\s+Acme Inc/);

    const reset = await runCli(['admin', 'user', 'set-password', 'nobody@example.com'], { env });
    assert.equal(reset.code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that closes the pipe early (`tollgate … | head -1`) ends the command quietly: no EPIPE, no stack', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
  const env = { TOLLGATE_DATA_DIR: dir };
  try {
    assert.equal((await runCli(['migrate'], { env })).code, 0);
    assert.equal((await runCli(['admin', 'workspace', 'create', 'demo'], { env })).code, 0);
    for (const [args, pipe, code] of [
      [['--help'], 'stdout', 0],
      [['admin', 'credits', 'show', 'demo', '--limit', '50'], 'stdout', 0],
      [['admin', 'workspace', 'list'], 'stdout', 0],
      [['frobnicate'], 'stderr', 2],
    ] as const) {
      const r = await runCli([...args], { env, closePipe: pipe });
      assert.equal(r.code, code, `${args.join(' ')} | head -0: ${r.stderr}`);
      const other = pipe === 'stdout' ? r.stderr : r.stdout;
      assert.doesNotMatch(other, /EPIPE|Error|at .*\.ts:\d+/, args.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const NO_STACK = /^\s+at |\.ts:\d+|Unexpected error/m;

test('admin commands never create a database: a missing database, secret or schema is a clear error, exit 1, and nothing is created', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
  try {
    // A shell without the server's TOLLGATE_DATA_DIR: the default ./.tollgate is looked for, not created.
    const bare = await runCli(['admin', 'workspace', 'list'], { cwd: dir });
    assert.equal(bare.code, 1, bare.stderr);
    assert.equal(bare.stdout, '');
    assert.match(bare.stderr, new RegExp(`No Tollgate database at sqlite:${path.join(dir, '.tollgate', 'tollgate.db').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(bare.stderr, /TOLLGATE_DATA_DIR/);
    assert.match(bare.stderr, /TOLLGATE_DATABASE_URL/);
    assert.doesNotMatch(bare.stderr, NO_STACK);
    assert.deepEqual(readdirSync(dir), [], 'no data directory, secret or database file was created');

    const elsewhere = path.join(dir, 'elsewhere');
    const named = await runCli(['admin', 'user', 'list'], { env: { TOLLGATE_DATA_DIR: elsewhere } });
    assert.equal(named.code, 1);
    assert.match(named.stderr, /No Tollgate database at sqlite:.*elsewhere/);
    assert.equal(existsSync(elsewhere), false);

    // A database file that exists but was never migrated is refused, and left without tables.
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    new DatabaseSync(path.join(empty, 'tollgate.db')).close();
    const unmigrated = await runCli(['admin', 'credits', 'show', 'demo'], { env: { TOLLGATE_DATA_DIR: empty } });
    assert.equal(unmigrated.code, 1);
    assert.match(unmigrated.stderr, /has no Tollgate tables \(it was never migrated\).*TOLLGATE_DATA_DIR.*tollgate migrate/);
    assert.doesNotMatch(unmigrated.stderr, NO_STACK);
    const db = new DatabaseSync(path.join(empty, 'tollgate.db'));
    assert.deepEqual(db.prepare("select name from sqlite_master where type = 'table'").all(), []);
    db.close();
    assert.deepEqual(readdirSync(empty).sort(), ['tollgate.db'], 'no secret file either');

    // The server's database, but not its data directory: no secret is generated (it would not open the keys).
    const server = path.join(dir, 'server');
    assert.equal((await runCli(['migrate'], { env: { TOLLGATE_DATA_DIR: server } })).code, 0);
    const noSecret = await runCli(['admin', 'user', 'list'], { env: { TOLLGATE_DATABASE_URL: `sqlite:${path.join(server, 'tollgate.db')}`, TOLLGATE_DATA_DIR: elsewhere } });
    assert.equal(noSecret.code, 1);
    assert.match(noSecret.stderr, /No secret file at .*elsewhere.*TOLLGATE_DATA_DIR.*TOLLGATE_SECRET/);
    assert.equal(existsSync(elsewhere), false);

    // An older schema is not upgraded behind the running server's back: `tollgate migrate` does that.
    const old = new DatabaseSync(path.join(server, 'tollgate.db'));
    old.exec("delete from tollgate_migrations where name = '0500_instance_settings'");
    old.close();
    const behind = await runCli(['admin', 'user', 'list'], { env: { TOLLGATE_DATA_DIR: server } });
    assert.equal(behind.code, 1);
    assert.match(behind.stderr, /lacks 1 migration\(s\) of this version of Tollgate: run `tollgate migrate`/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

forEachDialect('admin commands on the server\'s database', (dialect) => {
  let tdb: TestDatabase;
  let dataDir: string;
  before(async () => {
    tdb = await createTestDatabase(dialect);
    dataDir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-data-'));
  });
  after(async () => {
    await tdb.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a database that is not there or was never migrated is refused, not created or migrated', async () => {
    const r = await runCli(['admin', 'workspace', 'list'], { env: { TOLLGATE_DATABASE_URL: tdb.url, TOLLGATE_DATA_DIR: dataDir } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, dialect === 'sqlite' ? /No Tollgate database at sqlite:/ : /has no Tollgate tables \(it was never migrated\)/);
    assert.doesNotMatch(r.stderr, NO_STACK);
    assert.deepEqual(readdirSync(dataDir), [], 'no secret file');
    if (dialect === 'sqlite') assert.equal(existsSync(tdb.url.slice('sqlite:'.length)), false);
  });

  test('they say which database they opened (no password) and print MCP URLs with the public URL serve recorded', { timeout: 300_000 }, async () => {
    const serverEnv = { TOLLGATE_DATABASE_URL: tdb.url, TOLLGATE_DATA_DIR: dataDir, TOLLGATE_PORT: '0', TOLLGATE_LOG_LEVEL: 'warn' };
    const srv = await spawnCli(['serve'], { env: serverEnv, ready: /Tollgate is running at (http:\/\/127\.0\.0\.1:\d+)/ });
    try {
      const url = srv.match[1];
      // The shell has the database but neither the server's port nor its public URL.
      const url2 = new URL(tdb.url);
      if (dialect === 'postgres') url2.password = 'hunter2'; // trust auth: accepted and ignored
      const dbUrl = dialect === 'postgres' ? url2.toString() : tdb.url;
      const env = { TOLLGATE_DATABASE_URL: dbUrl, TOLLGATE_DATA_DIR: dataDir, TOLLGATE_PORT: '9' };
      const ws = await runCli(['admin', 'workspace', 'create', 'acme'], { env });
      assert.equal(ws.code, 0, ws.stderr);
      assert.equal(ws.stdout, `Created workspace acme. MCP endpoint: ${url}/acme/mcp\n`);
      assert.equal(ws.stderr, `tollgate: using ${dialect === 'sqlite' ? tdb.url : dbUrl.replace('hunter2', '***')}\n`);
      assert.doesNotMatch(ws.stderr, /hunter2/);
      const list = await runCli(['admin', 'workspace', 'list'], { env });
      assert.match(list.stdout, /^acme\s/m);
      assert.match(list.stdout, /^demo\s/m);
    } finally {
      srv.child.kill('SIGTERM');
      await waitForExit(srv.child);
    }
  });
});
