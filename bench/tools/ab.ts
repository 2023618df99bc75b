// A/B of two bench servers (e.g. Tollgate from a snapshot of the tree before a change, and from the tree now),
// interleaved round by round, with each server's CPU time per request (from /proc, so less sensitive to other load
// on the machine than req/s). Usage:
//   node bench/tools/ab.ts <serverA.ts> <serverB.ts> [rounds=5] [seconds=4] [envJSON] [refresh]
// With `refresh`, both drive the refresh_token grant at /token instead of tools/call (give them tokens with
// envJSON, e.g. '{"BENCH_REFRESH":"6000"}').
import { serverCpuMs, startBenchServer } from '../lib/processes.ts';
import { median, runLoad } from '../lib/load.ts';

const [a, b, roundsArg, secondsArg, envArg, mode] = process.argv.slice(2);
const refresh = mode === 'refresh';
const rounds = Number(roundsArg ?? 5);
const seconds = Number(secondsArg ?? 4);
const env = JSON.parse(envArg ?? '{}') as Record<string, string>;
const servers = [await startBenchServer('A', a, env), await startBenchServer('B', b, env)];
const rows: { rps: number[]; cpu: number[] }[] = servers.map(() => ({ rps: [], cpu: [] }));
try {
  // Warm, as npm run bench measures (refresh: a short warm-up, every refresh token is used once).
  for (const s of servers) await runLoad(s.ready, { connections: 50, seconds: refresh ? 2 : 10, refresh });
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of servers.entries()) {
      const c0 = serverCpuMs(s);
      const res = await runLoad(s.ready, { connections: 50, seconds, refresh });
      const cpu = ((serverCpuMs(s) - c0) * 1000) / res.requests;
      rows[i].rps.push(res.rps);
      rows[i].cpu.push(cpu);
      process.stdout.write(`round ${r + 1} ${s.name}: ${Math.round(res.rps)} req/s, p50 ${res.p50} ms, p99 ${res.p99} ms, ${Math.round(cpu)} µs CPU/request${res.non2xx || res.errors ? `, ${res.non2xx} non-2xx, ${res.errors} errors` : ''}\n`);
    }
  }
} finally {
  for (const s of servers) await s.stop();
}
const ratio = (k: 'rps' | 'cpu') => median(rows[1][k].map((v, i) => v / rows[0][k][i]));
process.stdout.write(`B/A req/s ${ratio('rps').toFixed(2)} · B/A CPU per request ${ratio('cpu').toFixed(2)} · median CPU/request A ${Math.round(median(rows[0].cpu))} µs, B ${Math.round(median(rows[1].cpu))} µs\n`);
