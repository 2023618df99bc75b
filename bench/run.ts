// `npm run bench`: starts the baseline servers and Tollgate on loopback in one run, drives each with the same
// bounded load, interleaved over several rounds, and prints req/s, p50, p99 and the ratios T/L and T/P (median of
// per-round ratios), then the other targets. Writes bench/results/<time>.json and bench/results/latest.md.
// Options: --rounds N (3), --seconds N (5), --connections N (50), --only throughput|extras.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { median, runLoad, type LoadResult } from './lib/load.ts';
import { canPin, CORES, startBenchServer, type BenchServer } from './lib/processes.ts';
import { extraMeasurements, type Measurement } from './extras.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
  },
});
const rounds = Math.max(1, Number(values.rounds));
const seconds = Math.max(1, Number(values.seconds));
const connections = Math.max(1, Number(values.connections));
const here = import.meta.dirname;

interface Target {
  key: string;
  label: string;
  script: string;
  env?: Record<string, string>;
}

const targets: Target[] = [
  { key: 'L', label: 'L: bare node:http + in-memory token check', script: path.join(here, 'servers', 'limit.ts') },
  { key: 'P', label: 'P: official SDK stateless server + requireBearerAuth', script: path.join(here, 'servers', 'sdk.ts') },
  { key: 'T', label: 'T: Tollgate (JWT, demo CRM tool, metering, usage) on SQLite', script: path.join(here, 'servers', 'tollgate.ts') },
];
if (process.env.TOLLGATE_TEST_PG_URL) {
  targets.push({ key: 'T_pg', label: 'T on PostgreSQL', script: path.join(here, 'servers', 'tollgate.ts'), env: { BENCH_DATABASE: 'postgres' } });
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function throughput() {
  process.stdout.write(`\nThroughput: ${rounds} rounds × ${seconds} s, ${connections} connections, tools/call; ${canPin ? `servers pinned to core ${CORES - 1}, load to core 0` : 'no CPU pinning (one core or no taskset)'}\n`);
  const servers = new Map<string, BenchServer>();
  for (const t of targets) servers.set(t.key, await startBenchServer(t.key, t.script, t.env));
  const perRound: Record<string, LoadResult>[] = [];
  try {
    for (const s of servers.values()) await runLoad(s.ready, { connections, seconds: 1 }); // warm-up
    for (let r = 0; r < rounds; r++) {
      const row: Record<string, LoadResult> = {};
      for (const t of targets) {
        const res = await runLoad(servers.get(t.key)!.ready, { connections, seconds });
        if (res.non2xx || res.errors) throw new Error(`${t.key}: ${res.non2xx} non-2xx responses and ${res.errors} errors: the run is invalid`);
        row[t.key] = res;
        process.stdout.write(`  round ${r + 1} ${t.key.padEnd(4)} ${fmt(res.rps).padStart(7)} req/s  p50 ${res.p50} ms  p99 ${res.p99} ms\n`);
      }
      perRound.push(row);
    }
  } finally {
    for (const s of servers.values()) await s.stop();
  }
  const summary = Object.fromEntries(
    targets.map((t) => [t.key, { label: t.label, rps: median(perRound.map((r) => r[t.key].rps)), p50: median(perRound.map((r) => r[t.key].p50)), p99: median(perRound.map((r) => r[t.key].p99)) }]),
  );
  const ratio = (a: string, b: string) => median(perRound.map((r) => r[a].rps / r[b].rps));
  const ratios = { 'T/L': ratio('T', 'L'), 'T/P': ratio('T', 'P'), 'P/L': ratio('P', 'L'), ...(summary.T_pg ? { 'T_pg/L': ratio('T_pg', 'L') } : {}) };
  const checks: Measurement[] = [
    { name: 'authenticated, metered tools/call: T/L', value: ratios['T/L'], unit: '×', target: '≥ 0.5', met: ratios['T/L'] >= 0.5 },
    { name: 'authenticated, metered tools/call: T/P', value: ratios['T/P'], unit: '×', target: '≥ 6', met: ratios['T/P'] >= 6 },
    { name: 'p99 at 50 connections: T p99 / L p99', value: summary.T.p99 / Math.max(1, summary.L.p99), unit: '×', target: '≤ 3', met: summary.T.p99 <= 3 * Math.max(1, summary.L.p99) },
  ];
  return { summary, ratios, perRound, checks };
}

const started = new Date();
const result: Record<string, unknown> = { started: started.toISOString(), node: process.version, cores: CORES, pinned: canPin, rounds, seconds, connections };
const md: string[] = [];
let checks: Measurement[] = [];

if (values.only !== 'extras') {
  const t = await throughput();
  result.throughput = t;
  checks = checks.concat(t.checks);
  md.push('| server | req/s | p50 ms | p99 ms |', '|---|---:|---:|---:|');
  for (const [, s] of Object.entries(t.summary)) md.push(`| ${s.label} | ${fmt(s.rps)} | ${s.p50} | ${s.p99} |`);
  md.push('', Object.entries(t.ratios).map(([k, v]) => `${k} = ${fmt(v, 2)}`).join(' · '), '');
}
if (values.only !== 'throughput') {
  process.stdout.write('\nOther targets:\n');
  const extras = await extraMeasurements((line) => process.stdout.write(`  ${line}\n`));
  result.extras = extras;
  checks = checks.concat(extras);
}

md.push('| target | measured | goal | |', '|---|---:|---|---|');
for (const c of checks) md.push(`| ${c.name} | ${fmt(c.value, c.unit === '×' ? 2 : c.unit === 'ms' ? 1 : 0)} ${c.unit} | ${c.target} | ${c.met ? 'met' : '**not met**'} |`);
const header = `Measured ${started.toISOString().slice(0, 10)} on ${CORES} cores, Node ${process.version}; ${rounds} rounds × ${seconds} s at ${connections} connections.`;
const table = [header, '', ...md].join('\n');

process.stdout.write(`\n${table}\n`);
const dir = path.join(here, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ ...result, checks }, null, 2));
writeFileSync(path.join(dir, 'latest.md'), table + '\n');
process.stdout.write(`\nResults written to bench/results/ (latest.md and a JSON file).\n`);
