import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir, hostname } from 'node:os';
import path from 'node:path';
import { CredentialStore, clientDir, serverKey, type Credentials } from './credential-store.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { withFileLock } from './file-lock.ts';

const posix = process.platform !== 'win32';
const mode = (p: string) => statSync(p).mode & 0o777;
const tempDir = () => mkdtempSync(path.join(tmpdir(), 'tollgate-store-'));

function credentials(url: string, extra: Partial<Credentials> = {}): Credentials {
  return {
    version: 1,
    serverUrl: url,
    issuer: 'https://as.example',
    authorizationServer: { metadata: { issuer: 'https://as.example', authorization_endpoint: 'https://as.example/authorize', token_endpoint: 'https://as.example/token' } },
    tokens: { accessToken: 'at', tokenType: 'Bearer', refreshToken: 'rt', expiresAt: Date.now() + 3600_000, obtainedAt: Date.now() },
    updatedAt: new Date().toISOString(),
    ...extra,
  };
}

test('the directory is 0700 and every file 0600, even under a permissive umask', { skip: !posix }, async (t) => {
  const base = tempDir();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, 'cfg', 'tollgate');
  const old = process.umask(0o000);
  try {
    const store = new CredentialStore(dir);
    await store.addServer({ name: 'demo', url: 'https://mcp.example/mcp', clientSecret: 's3cret', clientId: 'c', callbackPort: 20001, addedAt: 'now' });
    await store.writeCredentials(credentials('https://mcp.example/mcp'));
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(path.join(dir, 'credentials')), 0o700);
    assert.equal(mode(store.serversFile), 0o600);
    assert.equal(mode(store.credentialsFile('https://mcp.example/mcp')), 0o600);
  } finally {
    process.umask(old);
  }
});

test('an existing directory with loose permissions is tightened to 0700', { skip: !posix }, async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { chmodSync } = await import('node:fs');
  chmodSync(dir, 0o755);
  await new CredentialStore(dir).ensureDir();
  assert.equal(mode(dir), 0o700);
});

test('the config directory: TOLLGATE_CLIENT_DIR, else XDG_CONFIG_HOME/tollgate, else ~/.config/tollgate', () => {
  assert.equal(clientDir({ TOLLGATE_CLIENT_DIR: '/x/y', XDG_CONFIG_HOME: '/c', HOME: '/h' }), path.resolve('/x/y'));
  if (process.platform !== 'win32') {
    assert.equal(clientDir({ XDG_CONFIG_HOME: '/c', HOME: '/h' }), '/c/tollgate');
    assert.equal(clientDir({ HOME: '/h' }), '/h/.config/tollgate');
  }
});

test('credentials are keyed by server URL: another URL (or a hash collision) never reads them', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new CredentialStore(dir);
  await store.writeCredentials(credentials('https://mcp.example/a/mcp'));
  assert.ok(await store.readCredentials('https://mcp.example/a/mcp'));
  assert.ok(await store.readCredentials('https://MCP.example/a/mcp#frag'), 'host case and fragments do not matter');
  assert.equal(await store.readCredentials('https://mcp.example/b/mcp'), undefined);
  // A file under the right key that names another URL is ignored.
  const forged = credentials('https://evil.example/mcp');
  writeFileSync(store.credentialsFile('https://mcp.example/c/mcp'), JSON.stringify(forged));
  assert.equal(await store.readCredentials('https://mcp.example/c/mcp'), undefined);
  assert.notEqual(serverKey('https://mcp.example/a/mcp'), serverKey('https://mcp.example/a/mcp/'));
});

test('atomic writes leave no temporary files and readers never see a partial file', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.json');
  const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(200_000) });
  await writeFileAtomic(file, big(0));
  // Two other processes rewrite the file as fast as they can while this one reads it.
  const writer = (id: number) =>
    spawn(process.execPath, ['--input-type=module', '-e', `
      const { writeFileAtomic } = await import(${JSON.stringify(path.resolve(import.meta.dirname, 'atomic-file.ts'))});
      for (let i = 0; i < 40; i++) await writeFileAtomic(${JSON.stringify(file)}, JSON.stringify({ n: ${id} * 1000 + i, pad: 'x'.repeat(200000) }));
    `], { stdio: 'inherit' });
  const writers = [writer(1), writer(2)];
  const done = Promise.all(writers.map((w) => new Promise<number | null>((r) => w.on('exit', r))));
  let reads = 0;
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { n: number; pad: string };
    assert.equal(parsed.pad.length, 200_000);
    reads++;
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await done, [0, 0]);
  assert.ok(reads > 5, `only ${reads} reads`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  if (posix) assert.equal(mode(file), 0o600);
});

test('the file lock admits one process at a time', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lock = path.join(dir, 'x.lock');
  const log = path.join(dir, 'log');
  writeFileSync(log, '');
  const worker = (id: number) =>
    spawn(process.execPath, ['--input-type=module', '-e', `
      import { appendFileSync } from 'node:fs';
      const { withFileLock } = await import(${JSON.stringify(path.resolve(import.meta.dirname, 'file-lock.ts'))});
      for (let i = 0; i < 5; i++) {
        await withFileLock(${JSON.stringify(lock)}, async () => {
          appendFileSync(${JSON.stringify(log)}, 'in ${id}\\n');
          await new Promise((r) => setTimeout(r, 15));
          appendFileSync(${JSON.stringify(log)}, 'out ${id}\\n');
        });
      }
    `], { stdio: 'inherit' });
  const codes = await Promise.all([1, 2, 3].map((id) => new Promise<number | null>((r) => worker(id).on('exit', r))));
  assert.deepEqual(codes, [0, 0, 0]);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(lines.length, 30);
  for (let i = 0; i < lines.length; i += 2) {
    assert.match(lines[i], /^in /);
    assert.equal(lines[i + 1], lines[i].replace('in', 'out'), `interleaved at line ${i}: ${lines.slice(i, i + 2).join(' / ')}`);
  }
  assert.equal(readdirSync(dir).includes('x.lock'), false, 'released');
});

test('a lock left by a process that died is taken over', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'y.lock');
  // A pid that is not running (the child below has exited).
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('exit', r));
  writeFileSync(lock, JSON.stringify({ pid: dead.pid, host: hostname(), token: 'old', at: Date.now() }));
  const started = Date.now();
  assert.equal(await withFileLock(lock, async () => 'got it', { timeoutMs: 2000 }), 'got it');
  assert.ok(Date.now() - started < 1500);
});

test('a held lock makes others wait, then time out with a clear error', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lock = path.join(dir, 'z.lock');
  let release!: () => void;
  const held = withFileLock(lock, () => new Promise<void>((r) => (release = r)));
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(withFileLock(lock, async () => 1, { timeoutMs: 150 }), /Timed out waiting for the lock/);
  release();
  await held;
  assert.equal(await withFileLock(lock, async () => 2, { timeoutMs: 500 }), 2);
});

test('servers: add refuses duplicates, remove deletes, list is sorted', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new CredentialStore(dir);
  await store.addServer({ name: 'b', url: 'https://b.example/mcp', callbackPort: 20002, addedAt: 'now' });
  await store.addServer({ name: 'a', url: 'https://a.example/mcp', callbackPort: 20003, addedAt: 'now' });
  await assert.rejects(store.addServer({ name: 'a', url: 'https://x.example/mcp', callbackPort: 20004, addedAt: 'now' }), /already exists/);
  await assert.rejects(store.addServer({ name: '../x', url: 'https://x.example/mcp', callbackPort: 20004, addedAt: 'now' }), /Invalid server name/);
  assert.deepEqual((await store.listServers()).map((s) => s.name), ['a', 'b']);
  assert.equal(await store.removeServer('a'), true);
  assert.equal(await store.removeServer('a'), false);
  assert.deepEqual((await store.listServers()).map((s) => s.name), ['b']);
});
