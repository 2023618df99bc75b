// Starting bench servers as child processes, pinned to their own core where the machine has two or more.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { obtainAccessToken, type OAuthPeer } from './oauth-client.ts';
import { READY_PREFIX, type ReadyInfo } from './protocol.ts';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const CORES = availableParallelism();
/** Servers run on the last core, the load generator on core 0, when there are at least two. */
export const canPin = hasTaskset && CORES >= 2;
export const SERVER_CORE = String(CORES - 1);
export const LOAD_CORE = '0';

/** Moves a running server (every thread) to another core, where the machine can pin. */
export function repin(server: BenchServer, core: string): void {
  if (!canPin) return;
  const r = spawnSync('taskset', ['-a', '-p', '-c', core, String(server.child.pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset could not move ${server.name} to core ${core}`);
}

export function pinned(core: string, cmd: string, args: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', core, cmd, ...args]] : [cmd, args];
}

/** A peer's numbers only count if it checks the token: the real one must pass, an altered one be refused with 401. */
async function assertTokenChecked(ready: ReadyInfo, token: string): Promise<void> {
  const altered = token.slice(0, -6) + [...token.slice(-6)].map((c) => (c === 'A' ? 'B' : 'A')).join('');
  for (const [t, want] of [[token, 200], [altered, 401]] as const) {
    const res = await fetch(ready.url, { method: 'POST', headers: { ...ready.headers, authorization: `Bearer ${t}` }, body: ready.body });
    await res.arrayBuffer();
    if (res.status !== want) throw new Error(`a tools/call with ${t === token ? 'its token' : 'an altered token'} got HTTP ${res.status}, not ${want}`);
  }
}

export interface BenchServer {
  name: string;
  ready: ReadyInfo;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Spawns `node <script>` on the server core and waits for its BENCH_READY line. A server that logs (Tollgate) logs to
 * a file of its own (BENCH_LOG_FILE), removed when it stops: read from a pipe, its log would have this process wake
 * up on the same two cores as the server and the load generator, and the measurement would include that reader.
 */
export function startBenchServer(name: string, script: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<BenchServer> {
  // BENCH_SERVER_NODE_ARGS: extra Node flags for the servers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const [cmd, args] = pinned(SERVER_CORE, process.execPath, [...nodeArgs, script]);
  const logDir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-log-'));
  const child = spawn(cmd, args, { env: { ...process.env, BENCH_LOG_FILE: path.join(logDir, 'server.log'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('exit', () => rmSync(logDir, { recursive: true, force: true }));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  let announced = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not become ready:\n${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith(READY_PREFIX));
      if (!line) return;
      clearTimeout(timer);
      announced = true;
      out = '';
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const ready = JSON.parse(line.slice(READY_PREFIX.length)) as ReadyInfo;
      const stop = () =>
        new Promise<void>((r) => {
          if (child.exitCode !== null) return r();
          child.once('exit', () => r());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        });
      const server = { name, ready, child, stop };
      // A peer with its own authorization server: the harness gets its token as a client would, before any load.
      const oauth = ready.meta?.oauth as OAuthPeer | undefined;
      if (!oauth) return resolve(server);
      obtainAccessToken({ headers: ready.headers, body: ready.body, ...oauth }).then(
        async (token) => {
          ready.headers = { ...ready.headers, authorization: `Bearer ${token}` };
          await assertTokenChecked(ready, token);
          resolve(server);
        },
        (e: Error) => void stop().then(() => reject(new Error(`${name}: getting an access token through its authorization server failed: ${e.message}`))),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!announced) reject(new Error(`${name} exited with ${code} before ready:\n${err}`));
    });
  });
}

/** The process and every process below it (a peer's runtime, e.g. workerd under miniflare), from /proc. */
function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // The process ended meanwhile: nothing below it to count.
    }
  }
  return out;
}

/** User and system CPU time (ms) from a /proc `stat` file, a process's or a thread's (fields 14 and 15, in ticks of 10 ms). */
export function statCpuMs(file: string): { user: number; system: number } {
  const fields = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

/**
 * CPU time (user + system, ms) the server has used so far, its threads and its child processes included (the
 * thread-pool syncs and log writes count, and so does workerd under miniflare): read before and after a load run, it
 * gives CPU per request, less sensitive than req/s to other load on the machine.
 */
export function serverCpuMs(s: BenchServer): number {
  let ms = 0;
  for (const pid of processTree(Number(s.ready.meta?.pid ?? s.child.pid))) {
    try {
      const { user, system } = statCpuMs(`/proc/${pid}/stat`);
      ms += user + system;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return ms;
}
