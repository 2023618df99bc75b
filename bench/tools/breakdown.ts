// Where a Tollgate request's CPU time goes, by subtraction: L, then Tollgate with no metering and a get_contact that
// reads nothing, with no metering, and whole — interleaved rounds, CPU time per request from /proc (the server's
// threads included: the thread-pool fsyncs and log writes count). Usage: node bench/tools/breakdown.ts [rounds] [seconds]
import path from 'node:path';
import { serverCpuMs, startBenchServer, type BenchServer } from '../lib/processes.ts';
import { median, runLoad } from '../lib/load.ts';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 4);
const servers = path.join(import.meta.dirname, '..', 'servers');
const configs: [string, string, Record<string, string>][] = [
  ['L (limit)', 'limit.ts', {}],
  ['T, no metering, get_contact reads nothing', 'tollgate.ts', { BENCH_EXP: 'free,const' }],
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
  let prev = 0;
  for (const [i, [name]] of configs.entries()) {
    const c = median(cpu[i]);
    process.stdout.write(`${name.padEnd(45)} ${String(Math.round(median(rps[i]))).padStart(6)} req/s  ${String(Math.round(c)).padStart(4)} µs CPU/request${i ? `  (+${Math.round(c - prev)})` : ''}\n`);
    prev = c;
  }
} finally {
  for (const s of started) await s.stop();
}
