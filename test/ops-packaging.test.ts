// Requirements (operations §3, §6): a checkout installed with `npm ci --omit=dev` starts with `npm start` (on the
// machine's npm, whatever its Node), and `npm start` stopped with SIGTERM leaves no process behind holding the port;
// the tarball `npm pack` makes installs in a clean directory, where `npx tollgate` runs (help, config check, serve),
// also on a Node too old to run Tollgate itself (the pinned Node 24 that npm installs beside it takes over).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
// The machine's PATH without this checkout's node_modules/.bin (which `npm test` puts first): what an operator has.
const machinePath = (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes('node_modules')).join(path.delimiter);
const npmEnv = (extra: Record<string, string> = {}) => ({ ...process.env, PATH: machinePath, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra });

/** The files git tracks (and new ones not ignored): what a fresh clone has. */
function copyCheckout(to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const f of files) {
    if (f.startsWith('docs/screenshots/')) continue;
    mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    try {
      cpSync(path.join(root, f), path.join(to, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** Every live descendant of a process (from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Spawns a server command, resolves with its port once the banner names its URL. */
async function startServing(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  let port = 0;
  await until(`the banner of ${cmd} ${args.join(' ')}`, () => {
    if (child.exitCode !== null) throw new Error(`${cmd} exited early:\n${text}`);
    const m = /Tollgate is running at http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
    if (m) port = Number(m[1]);
    return port > 0;
  }, 120_000);
  return { child, port, output: () => text };
}

describe('a checkout installed with npm ci --omit=dev', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-omit-dev-'));
    copyCheckout(dir);
    execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline'], { cwd: dir, env: npmEnv(), stdio: 'pipe' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('npm start serves; SIGTERM to npm drains and leaves no process and no open port', async () => {
    const data = path.join(dir, 'data');
    const { child, port, output } = await startServing('npm', ['start'], dir, npmEnv({ TOLLGATE_PORT: '0', TOLLGATE_DATA_DIR: data, TOLLGATE_LOG_LEVEL: 'info' }));
    const tree = descendants(child.pid!);
    assert.ok(tree.length >= 1, 'npm runs the server as its child');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    // The dev dependencies are not there: the server ran without them.
    assert.throws(() => readFileSync(path.join(dir, 'node_modules', 'typescript', 'package.json')));

    child.kill('SIGTERM');
    await until('npm to exit', () => child.exitCode !== null || child.signalCode !== null, 30_000);
    await until('every process npm started to exit', () => tree.every((p) => !alive(p)), 30_000);
    assert.equal(await portOpen(port), false, 'the port is free');
    assert.match(output(), /shutting down/);
    assert.match(output(), /"msg":"stopped"/);
  });
});

describe('the npm pack tarball in a clean directory', () => {
  let work: string;
  let clean: string;
  let tarball: string;
  before(() => {
    work = mkdtempSync(path.join(tmpdir(), 'tollgate-pack-'));
    const src = path.join(work, 'src-tree');
    copyCheckout(src);
    // The build (prepack) needs the dev dependencies: borrow this checkout's.
    symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'));
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: src, env: npmEnv(), encoding: 'utf8' }).trim().split('\n').pop()!;
    clean = path.join(work, 'clean');
    mkdirSync(clean);
    writeFileSync(path.join(clean, 'package.json'), '{"name":"clean","private":true}');
    // The optional pinned Node is left out: this machine's Node runs the compiled package.
    execFileSync('npm', ['install', '--prefer-offline', '--omit=optional', path.join(work, packed)], { cwd: clean, env: npmEnv(), stdio: 'pipe' });
    tarball = path.join(work, packed);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  // npx on this machine's PATH, but with the Node that runs the tests first (the machine's own may be older than 22).
  const npxEnv = (extra: Record<string, string> = {}) => npmEnv({ PATH: [path.dirname(process.execPath), machinePath].join(path.delimiter), ...extra });

  test('the package holds compiled code and no tests or TypeScript sources', () => {
    const pkg = path.join(clean, 'node_modules', 'tollgate');
    assert.ok(readFileSync(path.join(pkg, 'dist', 'cli', 'main.js'), 'utf8').length > 0);
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: pkg, encoding: 'utf8' }).split('\n');
    assert.ok(!files.some((f) => f.endsWith('.test.js') || f.endsWith('.ts')), files.filter((f) => f.endsWith('.ts')).slice(0, 5).join(', '));
    assert.ok(files.includes('./dist/web/static/tollgate.css'));
  });

  test('npx tollgate --help, config check (every problem at once) and serve', async () => {
    const help = execFileSync('npx', ['--no-install', 'tollgate', '--help'], { cwd: clean, env: npxEnv(), encoding: 'utf8' });
    assert.match(help, /tollgate serve/);
    assert.match(help, /tollgate config check/);

    writeFileSync(path.join(clean, 'tollgate.toml'), 'port = 0\nlog_level = "warn"\n');
    const ok = execFileSync('npx', ['--no-install', 'tollgate', 'config', 'check', '--config', 'tollgate.toml'], { cwd: clean, env: npxEnv(), encoding: 'utf8' });
    assert.match(ok, /Configuration is valid/);
    writeFileSync(path.join(clean, 'bad.toml'), 'port = "x"\nlogLevel = "loud"\nnope = 1\n');
    let failed: { status: number; stderr: string } | undefined;
    try {
      execFileSync('npx', ['--no-install', 'tollgate', 'config', 'check', '--config=bad.toml'], { cwd: clean, env: npxEnv(), encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      failed = err as { status: number; stderr: string };
    }
    assert.equal(failed?.status, 1);
    assert.match(failed!.stderr, /3 problems/);
    assert.match(failed!.stderr, /port \(config file\)/);
    assert.match(failed!.stderr, /logLevel \(config file\)/);
    assert.match(failed!.stderr, /nope: unknown key/);
    assert.doesNotMatch(failed!.stderr, /at .*\.js:\d+/, 'no stack trace');

    const { child, port } = await startServing('npx', ['--no-install', 'tollgate', 'serve', '--config', 'tollgate.toml'], clean, npxEnv({ TOLLGATE_DATA_DIR: path.join(clean, 'data') }));
    const tree = descendants(child.pid!);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      const css = await fetch(`http://127.0.0.1:${port}/static/tollgate.css`);
      assert.equal(css.status, 200, 'static assets travel with the package');
      assert.equal((await fetch(`http://127.0.0.1:${port}/login`)).status, 200);
    } finally {
      child.kill('SIGTERM');
      await until('npx tollgate serve to exit', () => child.exitCode !== null || child.signalCode !== null, 30_000);
      // npx runs the bin through a shell that does not pass SIGTERM on: the server notices its parent is gone.
      await until('every process npx started to exit', () => tree.every((p) => !alive(p)), 30_000);
      for (const p of tree) if (alive(p)) process.kill(p, 'SIGKILL');
    }
    assert.equal(await portOpen(port), false, 'the port is free');
  });
  // A Node too old for node:sqlite (the Debian Node 20 of this machine): npm installs the pinned Node 24 (the optional
  // `node` package) hoisted beside tollgate, not inside it, and the launcher runs itself again on that.
  const oldNode = { node: '/usr/bin/node', npm: '/usr/bin/npm', npx: '/usr/bin/npx' };
  const oldVersion = existsSync(oldNode.node) ? execFileSync(oldNode.node, ['--version'], { encoding: 'utf8' }).trim() : '';
  const tooOld = /^v(1\d|20|21)\./.test(oldVersion) || /^v22\.(\d|1[0-2])\./.test(oldVersion);
  test(`on the machine's ${oldVersion || 'Node'} (no node:sqlite): npx tollgate and the bin itself run on the pinned Node 24 installed beside it`, { skip: !tooOld && `needs a Node older than 22.13 at ${oldNode.node} (found ${oldVersion || 'none'})` }, async () => {
    const dir = path.join(work, 'clean-old-node');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'package.json'), '{"name":"clean-old-node","private":true}');
    // PATH: the old Node's directory only, so that every `node` npm and npx run is that one.
    const oldEnv = (extra: Record<string, string> = {}) => npmEnv({ PATH: [path.dirname(oldNode.node), machinePath].join(path.delimiter), ...extra });
    execFileSync(oldNode.npm, ['install', '--prefer-offline', tarball], { cwd: dir, env: oldEnv(), stdio: 'pipe' });
    const pinned = path.join(dir, 'node_modules', 'node', 'bin', 'node');
    assert.ok(existsSync(pinned), 'npm put the `node` package beside tollgate (hoisted)');
    assert.ok(!existsSync(path.join(dir, 'node_modules', 'tollgate', 'node_modules', 'node')), 'and not inside it');

    // npx puts node_modules/.bin (where the pinned `node` links too) first on PATH; the bin run directly (a service
    // unit, a shell) starts on the old Node of the PATH, and the launcher has to find the pinned one itself.
    const bin = path.join(dir, 'node_modules', '.bin', 'tollgate');
    assert.match(execFileSync(oldNode.npx, ['--no-install', 'tollgate', '--help'], { cwd: dir, env: oldEnv(), encoding: 'utf8' }), /tollgate serve/);
    assert.match(execFileSync(bin, ['--help'], { cwd: dir, env: oldEnv(), encoding: 'utf8' }), /tollgate serve/);

    const { child, port } = await startServing(bin, ['serve'], dir, oldEnv({ TOLLGATE_PORT: '0', TOLLGATE_DATA_DIR: path.join(dir, 'data'), TOLLGATE_LOG_LEVEL: 'warn' }));
    const tree = descendants(child.pid!);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      // The server itself runs on the pinned binary (the old Node only launched it).
      const exes = tree.map((p) => {
        try {
          return realpathSync(`/proc/${p}/exe`);
        } catch {
          return '';
        }
      });
      assert.ok(exes.includes(realpathSync(pinned)), `a process of the tree runs ${pinned}: ${exes.join(', ')}`);
    } finally {
      child.kill('SIGTERM');
      await until('tollgate serve to exit', () => child.exitCode !== null || child.signalCode !== null, 30_000);
      // The launcher hands the SIGTERM to the server it started on the pinned Node, which drains and exits.
      await until('the server on the pinned Node to exit', () => tree.every((p) => !alive(p)), 30_000);
      for (const p of tree) if (alive(p)) process.kill(p, 'SIGKILL');
    }
    assert.equal(child.exitCode, 0, 'the launcher exits with the server\'s status');
    assert.equal(await portOpen(port), false, 'the port is free');
  });
  // No container engine runs here, so the image's runtime stage is played out on this machine: the same files copied
  // from the unpacked tarball, the same `npm ci` line, the same ENV, ENTRYPOINT and CMD, as an unprivileged user to
  // whom the application files and HOME are read-only, with only the data directory and a /tmp stand-in writable
  // (compose runs it `read_only: true` with a tmpfs /tmp). Then its HEALTHCHECK command is run as written.
  const isRoot = process.getuid?.() === 0;
  test('the Dockerfile\'s runtime stage, simulated: npm ci --omit=dev of the packed tree, read-only files, unprivileged user, HEALTHCHECK on /readyz, SIGTERM drains', { skip: !isRoot && 'needs root (to run the server as another user)' }, async () => {
    const docker = readFileSync(path.join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const runtime = docker.slice(docker.lastIndexOf('\nFROM ')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const image = path.join(work, 'image');
    const build = path.join(image, 'build-app'); // the build stage's /app: the unpacked tarball
    const app = path.join(image, 'app'); // the runtime stage's WORKDIR /app
    const data = path.join(image, 'data');
    const tmp = path.join(image, 'tmp');
    const home = path.join(image, 'home');
    for (const d of [build, app, data, tmp, home]) mkdirSync(d, { recursive: true });
    chmodSync(work, 0o755);
    chmodSync(image, 0o755);
    execFileSync('tar', ['-xzf', tarball, '-C', build, '--strip-components=1']);
    // The Node of the image (node:24): this test's Node, first on PATH.
    const imagePath = [path.dirname(process.execPath), machinePath].join(path.delimiter);
    const env: Record<string, string> = {};
    let user = '';
    let entrypoint: string[] = [];
    let cmd: string[] = [];
    let healthcheck: string[] = [];
    for (const line of runtime) {
      const [op, ...rest] = line.split(/\s+/);
      const args = rest.join(' ');
      if (op === 'ENV') for (const m of args.matchAll(/([A-Z_]+)=(\S+)/g)) env[m[1]] = m[2];
      else if (op === 'COPY') {
        const m = /^--from=build (\S+) (\S+)$/.exec(args);
        assert.ok(m, `COPY from the build stage: ${line}`);
        const from = m[1].startsWith('/app/') ? path.join(build, m[1].slice(5)) : m[1].startsWith('/src/') ? path.join(root, m[1].slice(5)) : assert.fail(m[1]);
        const to = m[2] === './' ? path.join(app, path.basename(from)) : path.join(app, m[2]);
        cpSync(from, to, { recursive: true });
      } else if (op === 'RUN' && args.startsWith('npm ci ')) {
        const npmArgs = args.split('&&')[0].trim().split(/\s+/).slice(1);
        execFileSync('npm', [...npmArgs, '--prefer-offline'], { cwd: app, env: npmEnv({ PATH: imagePath }), stdio: 'pipe' });
      } else if (op === 'USER') user = args;
      else if (op === 'ENTRYPOINT') entrypoint = JSON.parse(args);
      else if (op === 'CMD') cmd = JSON.parse(args);
      else if (op === 'HEALTHCHECK') healthcheck = JSON.parse(args.slice(args.indexOf('CMD ') + 4));
    }
    assert.equal(user, 'node');
    assert.deepEqual(entrypoint, ['node', 'bin/tollgate.js']);
    assert.ok(existsSync(path.join(app, 'node_modules', 'pg')), 'production dependencies installed');
    assert.ok(!existsSync(path.join(app, 'node_modules', 'typescript')), 'no dev dependencies');
    assert.ok(!existsSync(path.join(app, 'node_modules', 'node')), 'no pinned Node: the image has its own');
    // The image's `node` user, played by nobody: owns the data directory and the /tmp stand-in only.
    const uid = 65534;
    const gid = 65534;
    execFileSync('chmod', ['-R', 'a-w', app]);
    execFileSync('chmod', ['a-w', home]);
    for (const d of [data, tmp]) {
      chownSync(d, uid, gid);
      chmodSync(d, 0o700);
    }
    const serveEnv = {
      ...env,
      PATH: imagePath,
      HOME: home,
      TMPDIR: tmp,
      NODE_COMPILE_CACHE: env.NODE_COMPILE_CACHE.replace(/^\/tmp/, tmp),
      TOLLGATE_DATA_DIR: env.TOLLGATE_DATA_DIR === '/data' ? data : assert.fail('the image keeps its data in /data'),
      // Loopback and a free port here; the image listens on 0.0.0.0:8787.
      TOLLGATE_HOST: '127.0.0.1',
      TOLLGATE_PORT: '0',
    };
    const stamp = path.join(image, 'started');
    writeFileSync(stamp, '');
    const child = spawn(entrypoint[0], [...entrypoint.slice(1), ...cmd], { cwd: app, env: serveEnv, uid, gid, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.stderr!.on('data', (d) => (text += d));
    let port = 0;
    try {
      await until('the banner of the simulated container', () => {
        if (child.exitCode !== null) throw new Error(`the server exited early:\n${text}`);
        const m = /Tollgate is running at http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m) port = Number(m[1]);
        return port > 0;
      });
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
      assert.match(readFileSync(`/proc/${child.pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${uid}\\b`, 'm'), 'not root');
      // The HEALTHCHECK, as written, run as the container's user with its environment.
      execFileSync(healthcheck[0], healthcheck.slice(1), { cwd: app, env: { ...serveEnv, TOLLGATE_PORT: String(port) }, uid, gid, stdio: 'pipe', timeout: 3000 });
      // It wrote to the data directory (database, secret) and nowhere else it could not write in the image.
      assert.ok(readdirSync(data).some((f) => f.endsWith('.db')), `the database is in the volume: ${readdirSync(data)}`);
      assert.deepEqual(readdirSync(home), [], 'nothing in HOME');
      assert.doesNotMatch(text, /EACCES|EROFS|permission denied/i);
      // STOPSIGNAL SIGTERM: not ready at once while the readiness delay runs, then drained and exit 0.
      assert.ok(Number(env.TOLLGATE_SHUTDOWN_READINESS_DELAY_MS) > 0);
      child.kill('SIGTERM');
      await until('readiness to go false', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 503, 5000);
      let healthy = true;
      try {
        execFileSync(healthcheck[0], healthcheck.slice(1), { cwd: app, env: { ...serveEnv, TOLLGATE_PORT: String(port) }, uid, gid, stdio: 'pipe', timeout: 3000 });
      } catch {
        healthy = false;
      }
      assert.equal(healthy, false, 'the HEALTHCHECK fails while draining');
      await until('the simulated container to exit', () => child.exitCode !== null, 30_000);
      assert.equal(child.exitCode, 0, text.slice(-2000));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    // Nothing new in the application tree: everything written went to the data directory or /tmp.
    const written = execFileSync('find', [app, '-newer', stamp], { encoding: 'utf8' }).trim();
    assert.equal(written, '', 'no file written under the app');
  });
});
