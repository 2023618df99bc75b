// The gateway's CPU per call, thread by thread: G (Tollgate in front of U) as fast as U lets it, then T (a built-in
// call) driven at G's rate, evenly paced (T@G) — as `npm run bench` measures G − T@G — with each one's CPU per call
// split into the main thread's user and system time, the GC threads (V8Worker) and the thread pool (libuv-worker),
// from /proc. Usage: node bench/tools/gateway-threads.ts [rounds=3] [seconds=5]
import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { LOAD_CORE, repin, startBenchServer, statCpuMs, type BenchServer } from '../lib/processes.ts';
import { median, runLoad } from '../lib/load.ts';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const servers = path.join(import.meta.dirname, '..', 'servers');

/** CPU time so far (ms) by thread: the main thread's user and system time apart, other threads by name. */
function threadCpuMs(s: BenchServer): Record<string, number> {
  const pid = String(s.ready.meta?.pid ?? s.child.pid);
  const out: Record<string, number> = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const { user, system } = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
      if (tid === pid) {
        out['main user'] = user;
        out['main system'] = system;
      } else {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        out[name] = (out[name] ?? 0) + user + system;
      }
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** One load run and its CPU per call (µs) by thread. */
async function measured(s: BenchServer, rate?: number): Promise<{ rps: number; perCall: Record<string, number> }> {
  const before = threadCpuMs(s);
  const r = await runLoad(s.ready, { connections: 50, seconds, rate });
  const after = threadCpuMs(s);
  const perCall = Object.fromEntries(Object.keys(after).map((k) => [k, Math.round(((after[k] - (before[k] ?? 0)) * 1000) / Math.max(1, r.requests))]));
  return { rps: r.rps, perCall };
}

const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
const u = await startBenchServer('U', path.join(servers, 'upstream.ts'), { BENCH_UPSTREAM_TOKEN: 'any' });
repin(u, LOAD_CORE);
const g = await startBenchServer('G', path.join(servers, 'tollgate.ts'), { BENCH_UPSTREAM_URL: u.ready.url });
const t = await startBenchServer('T', path.join(servers, 'tollgate.ts'));
try {
  for (const s of [u, g, t]) await runLoad(s.ready, { connections: 50, seconds: 10 });
  const differences: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    const gr = await measured(g);
    const tr = await measured(t, Math.round(gr.rps));
    differences.push(total(gr.perCall) - total(tr.perCall));
    const show = (x: Record<string, number>) => Object.entries(x).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(`round ${i}: G ${Math.round(gr.rps)} req/s, ${total(gr.perCall)} µs/call (${show(gr.perCall)}) · T@G ${total(tr.perCall)} µs/call (${show(tr.perCall)}) · G − T@G ${differences.at(-1)} µs`);
  }
  console.log(`median G − T@G: ${median(differences)} µs`);
} finally {
  for (const s of [g, t, u]) await s.stop();
}
