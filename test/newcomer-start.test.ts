// Requirement (foundation §1): `tollgate serve` on a fresh directory creates the data dir (0700) with a SQLite
// database, seeds `demo` and an owner, prints the URL and a generated password once; a second start reuses the
// data and prints no new secret; the printed credentials sign in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, spawnCli, waitForExit } from './helpers/cli.ts';
import { openStore } from '../src/store/store.ts';
import { verifyPassword } from '../src/accounts/password.ts';

test('first start seeds and prints a one-time password; the second start prints none', async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'tollgate-newcomer-'));
  try {
    const env = { TOLLGATE_PORT: '0', TOLLGATE_LOG_LEVEL: 'warn' };
    const first = await spawnCli(['serve'], { cwd, env, ready: /Demo workspace MCP endpoint: (http:\/\/127\.0\.0\.1:\d+)\/demo\/mcp/ });
    const url = first.match[1];
    const out = first.output();
    assert.match(out, new RegExp(`Tollgate is running at ${url.replace(/[.:/]/g, '\\$&')}`));
    assert.match(out, /Sign in at .*\/login as admin@example\.com/);
    const password = out.match(/password: (\S{20})\n/)?.[1];
    assert.ok(password, 'a generated password is printed');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    first.child.kill('SIGTERM');
    assert.equal(await waitForExit(first.child), 0);

    const dataDir = path.join(cwd, '.tollgate');
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dataDir, 'secret')).mode & 0o777, 0o600);
    assert.ok(existsSync(path.join(dataDir, 'tollgate.db')));
    const store = await openStore(`sqlite:${path.join(dataDir, 'tollgate.db')}`);
    const user = await store.db.selectFrom('users').selectAll().executeTakeFirstOrThrow();
    assert.equal(await verifyPassword(password, user.password_hash), true, 'the printed password is the stored one');
    assert.equal((await store.db.selectFrom('workspaces').select('slug').execute()).map((r: { slug: string }) => r.slug).join(), 'demo');
    await store.close();

    const second = await spawnCli(['serve'], { cwd, env, ready: /Tollgate is running at/ });
    await new Promise((r) => setTimeout(r, 200));
    assert.doesNotMatch(second.output(), /password: \S{20}\n/);
    assert.ok(!second.output().includes(password));
    assert.match(second.output(), /password printed at first start/);
    second.child.kill('SIGINT');
    assert.equal(await waitForExit(second.child), 0);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('bootstrap credentials come from TOLLGATE_ADMIN_EMAIL / TOLLGATE_ADMIN_PASSWORD and are never printed', async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'tollgate-newcomer-'));
  try {
    const env = { TOLLGATE_PORT: '0', TOLLGATE_ADMIN_EMAIL: 'ops@example.org', TOLLGATE_ADMIN_PASSWORD: 'a very private passphrase' };
    const run = await spawnCli(['serve'], { cwd, env, ready: /Demo workspace MCP endpoint/ });
    await new Promise((r) => setTimeout(r, 100));
    assert.match(run.output(), /as ops@example\.org/);
    assert.ok(!run.output().includes('a very private passphrase'));
    run.child.kill('SIGTERM');
    await waitForExit(run.child);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('an unwritable data directory, a bad setting and an unreachable database stop the start with a clear message', async () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'tollgate-newcomer-'));
  try {
    // A path under a regular file can never be created, whoever runs the test (root ignores mode bits).
    const blocker = path.join(cwd, 'blocker');
    writeFileSync(blocker, '');
    const r1 = await runCli(['serve'], { cwd, env: { TOLLGATE_PORT: '0', TOLLGATE_DATA_DIR: path.join(blocker, 'data') } });
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /data directory .* is not writable/);
    assert.doesNotMatch(r1.stderr, /\n\s+at /);

    const r2 = await runCli(['serve'], { cwd, env: { TOLLGATE_PORT: 'eighty' } });
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /TOLLGATE_PORT/);
    assert.doesNotMatch(r2.stderr, /\n\s+at /);

    const r3 = await runCli(['serve'], { cwd, env: { TOLLGATE_PORT: '0', TOLLGATE_DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/x', TOLLGATE_SECRET: 's' } });
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /Cannot reach the database/);
    assert.ok(!r3.stderr.includes('hunter2'));
    assert.doesNotMatch(r3.stderr, /\n\s+at /);

    const r4 = await runCli(['serve'], { cwd, env: { TOLLGATE_PORT: '0', TOLLGATE_DATABASE_URL: 'postgres://u@host:notaport/db' } });
    assert.equal(r4.code, 1);
    assert.match(r4.stderr, /malformed/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
