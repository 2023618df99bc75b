// Starting bench servers as child processes, pinned to their own core where the machine has two or more.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { READY_PREFIX, type ReadyInfo } from './protocol.ts';

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
export const CORES = availableParallelism();
/** Servers run on the last core, the load generator on core 0, when there are at least two. */
export const canPin = hasTaskset && CORES >= 2;
export const SERVER_CORE = String(CORES - 1);
export const LOAD_CORE = '0';

export function pinned(core: string, cmd: string, args: string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', core, cmd, ...args]] : [cmd, args];
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
      out = '';
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({
        name,
        ready: JSON.parse(line.slice(READY_PREFIX.length)),
        child,
        stop: () =>
          new Promise<void>((r) => {
            if (child.exitCode !== null) return r();
            child.once('exit', () => r());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 5000).unref();
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before ready:\n${err}`));
    });
  });
}

/**
 * CPU time (user + system, ms) the server process has used so far, its threads included (the thread-pool syncs and
 * log writes count): read before and after a load run, it gives CPU per request, less sensitive than req/s to other
 * load on the machine.
 */
export function serverCpuMs(s: BenchServer): number {
  const pid = Number(s.ready.meta?.pid ?? s.child.pid);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
