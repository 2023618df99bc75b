// Where a Tollgate request's CPU time goes, by subtraction: L, D (L plus one durable SQLite write per call: what
// durability costs at its leanest), then Tollgate with no metering and a get_contact that reads nothing (against L),
// with no metering, and whole (each against the line before) — interleaved rounds, CPU time per request from /proc
// (the server's threads included: the thread-pool fsyncs and log writes count).
// Usage: node bench/tools/breakdown.ts [rounds] [seconds]
import path from 'node:path';
import { serverCpuMs, startBenchServer, type BenchServer } from '../lib/processes.ts';
import { median, runLoad } from '../lib/load.ts';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 4);
const servers = path.join(import.meta.dirname, '..', 'servers');
// [name, server, environment, the line its increment is against]
const configs: [string, string, Record<string, string>, number?][] = [
  ['L (limit)', 'limit.ts', {}],
  ['D (L + one durable SQLite write per call)', 'durable.ts', {}],
  ['T, no metering, get_contact reads nothing', 'tollgate.ts', { BENCH_EXP: 'free,const' }, 0],
  ['T, no metering', 'tollgate.ts', { BENCH_EXP: 'free' }],
  ['T', 'tollgate.ts', {}],
];
const started: BenchServer[] = [];
try {
  for (const [name, script, env] of configs) started.push(await startBenchServer(name, path.join(servers, script), env));
  for (const s of started) await runLoad(s.ready, { connections: 50, seconds: 10 }); // warm, as npm run bench measures
  const cpu = started.map(() => [] as number[]);
  const rps = started.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of started.entries()) {
      const c0 = serverCpuMs(s);
      const res = await runLoad(s.ready, { connections: 50, seconds });
      cpu[i].push(((serverCpuMs(s) - c0) * 1000) / res.requests);
      rps[i].push(res.rps);
    }
  }
  const perRequest = cpu.map(median);
  for (const [i, [name, , , against = i - 1]] of configs.entries()) {
    const c = perRequest[i];
    const increment = i ? `  (+${Math.round(c - perRequest[against])} on ${configs[against][0].split(/[ ,]/)[0]})` : '';
    process.stdout.write(`${name.padEnd(45)} ${String(Math.round(median(rps[i]))).padStart(6)} req/s  ${String(Math.round(c)).padStart(4)} µs CPU/request${increment}\n`);
  }
} finally {
  for (const s of started) await s.stop();
}
