// Requirement (foundation §6): the CLI's help, usage errors (exit 2) and admin commands on the configured database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.ts';

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
