// The parts of a real multi-process deployment, each the test's own so that it can be stopped and restarted without
// touching the machine's shared services: a PostgreSQL cluster (initdb into a scratch directory, on a free port), a
// Redis server, and HAProxy (from Debian's packages) in front of the Tollgate processes.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { connect } from 'node:net';
import { freePort } from '../../bench/lib/scratch.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Why the deployment test cannot run here, or undefined when it can. */
export function deploymentUnavailable(): string | undefined {
  if (!postgresBin()) return 'PostgreSQL server binaries (initdb, pg_ctl) are not installed';
  if (!findOnPath('haproxy')) return 'haproxy is not installed (apt-get install -y haproxy; .ci/run does)';
  if (!findOnPath('redis-server')) return 'redis-server is not installed';
  return undefined;
}

function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(path.join(root, v, 'bin', 'pg_ctl'))) return path.join(root, v, 'bin');
  return undefined;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await sleep(50);
  }
}

export interface PrivatePostgres {
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart -m fast`: every connection is terminated, the server is down for a moment, then back. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A PostgreSQL cluster of the test's own (PostgreSQL refuses to run as root: as root it runs as `postgres`). */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found');
  // A directory of its own directly in the temporary directory: the `postgres` user must be able to reach it.
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-pg-'));
  const data = path.join(dir, 'pgdata');
  mkdirSync(data, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(data, uid, gid);
  }
  const command = (cmd: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args]);
  const run = (cmd: string, args: string[]) => execFileSync(...command(cmd, args), { stdio: 'pipe' });
  // pg_ctl restart takes a second or two: asynchronously, so that the load of the test goes on meanwhile.
  const runAsync = (cmd: string, args: string[]) => promisify(execFile)(...command(cmd, args));
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const ctlArgs = (args: string[]) => ['-D', data, '-l', path.join(dir, 'postgres.log'), '-o', opts, '-w', '-t', '30', ...args];
  run('pg_ctl', ctlArgs(['start']));
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: async () => {
      await runAsync('pg_ctl', ctlArgs(['-m', 'fast', 'restart']));
    },
    stop: async () => {
      await runAsync('pg_ctl', ctlArgs(['-m', 'immediate', 'stop'])).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    const c = child;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    start: async () => {
      child = spawn(findOnPath('redis-server')!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitForPort(port);
    },
    stop,
  };
}

export interface LoadBalancer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * HAProxy in front of the given ports: round robin, health checks on /readyz every 200 ms, a new connection tried
 * elsewhere when one cannot be made (retry-on conn-failure: the request never reached a process, so a POST is safe to
 * send again), and its own 503 (no process ready) carrying Retry-After. The same settings as docs/deployment.md.
 */
export async function startHaproxy(dir: string, backends: number[]): Promise<LoadBalancer> {
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    [
      'global',
      '  maxconn 2000',
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 30s',
      '  timeout server 30s',
      '  retries 3',
      '  option redispatch',
      '  retry-on conn-failure',
      '  http-error status 503 content-type application/json hdr Retry-After 1 string \'{"error":"temporarily_unavailable","error_description":"No Tollgate process is ready; retry shortly"}\'',
      'frontend tollgate',
      `  bind 127.0.0.1:${port}`,
      '  default_backend tollgate',
      'backend tollgate',
      '  balance roundrobin',
      '  option httpchk',
      // node:http refuses a request without Host (400), which a bare `option httpchk GET /readyz` sends.
      '  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host tollgate',
      '  http-check expect status 200',
      '  default-server inter 200ms fall 2 rise 1',
      ...backends.map((p, i) => `  server t${i + 1} 127.0.0.1:${p} check`),
      '',
    ].join('\n'),
  );
  execFileSync(findOnPath('haproxy')!, ['-c', '-q', '-f', cfg], { stdio: 'pipe' });
  const child = spawn(findOnPath('haproxy')!, ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await waitForPort(port).catch((err) => {
    throw new Error(`${(err as Error).message}; haproxy said: ${stderr}`);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
  };
}
