// `npm run bench`: starts the baseline servers (L, the durable-write reference D, P and P20), the real peers (WOP, FMCP,
// BA: each gets its access token through its own authorization server first, see lib/oauth-client.ts) and Tollgate on
// loopback in one run, drives each with the same bounded load, interleaved over several rounds, and prints req/s, p50,
// p99 and the ratios T/L, D/L, T/D and T/<each peer> (medians of per-round ratios; with TOLLGATE_TEST_PG_URL, T on
// PostgreSQL follows in rounds of its own with L and P), then every target of issues 8 and 21, each as met or not met,
// and the peers that could not run here with their error. Writes bench/results/<time>.json (gitignored) and
// bench/results/latest.md (the table the README shows; latest-quick.md for --quick, latest-partial.md for --only).
//
// Options: --quick (short rounds, smaller scaling sizes: for development, not for the README), --rounds N (5; --quick 3),
// --seconds N (5), --warmup N (seconds of load per server before its rounds, throughput and scaling: 10; --quick 2),
// --connections N (50), --only throughput,gateway,scaling,refresh,analytics,coldstart, and for scaling
// --cases tools,workspaces,workspaces-spread,grants.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { assertClean, median, runLoad, type LoadResult } from './lib/load.ts';
import { canPin, CORES, LOAD_CORE, repin, SERVER_CORE, serverCpuMs, startBenchServer, type BenchServer } from './lib/processes.ts';
import { EXTRA_SECTIONS, extraMeasurements, fmt, type ExtraSection, type Measurement } from './extras.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    cases: { type: 'string' },
  },
});
const quick = values.quick;
// Five rounds: on a shared machine one round in three can catch L or T in a slow spell; the median of five rarely does.
const rounds = Math.max(1, Number(values.rounds ?? (quick ? 3 : 5)));
const seconds = Math.max(1, Number(values.seconds ?? (quick ? 2 : 5)));
const connections = Math.max(1, Number(values.connections));
// Every server is measured warm: Tollgate's request path takes several seconds of load to reach its steady state (the
// JIT, SQLite's page cache, the WAL's size), the baselines a second or two. Long-running servers spend their life warm.
const warmup = Math.max(1, Number(values.warmup ?? (quick ? 2 : 10)));
const SECTIONS = ['throughput', 'gateway', ...EXTRA_SECTIONS] as const;
const only = values.only ? values.only.split(',').map((s) => s.trim()) : [...SECTIONS];
for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section "${s}" (sections: ${SECTIONS.join(', ')})`);
const here = import.meta.dirname;
const PG = process.env.TOLLGATE_TEST_PG_URL;

interface Target {
  key: string;
  label: string;
  script: string;
  env?: Record<string, string>;
  /** A real peer (issue 21): it gets its token through its own authorization server; one that cannot run here is reported, not fatal. */
  peer?: boolean;
}

const targets: Target[] = [
  { key: 'L', label: 'L: bare node:http + in-memory token check', script: path.join(here, 'servers', 'limit.ts') },
  { key: 'D', label: 'D: L + one durable SQLite write per call (group commit)', script: path.join(here, 'servers', 'durable.ts') },
  { key: 'P', label: 'P: official SDK v1 stateless server + requireBearerAuth, 1 tool (fixed token, not metered)', script: path.join(here, 'servers', 'sdk.ts') },
  { key: 'P20', label: 'P20: P with 20 registered tools (fixed token, not metered)', script: path.join(here, 'servers', 'sdk.ts'), env: { BENCH_TOOLS: '20' } },
  { key: 'WOP', label: 'WOP: workers-oauth-provider + agents createMcpHandler in workerd (miniflare), tokens in KV (cannot meter: no metering)', script: path.join(here, 'servers', 'wop.ts'), peer: true },
  { key: 'FMCP', label: 'FMCP: fastmcp with its OAuth proxy, stateless (cannot meter: no metering)', script: path.join(here, 'servers', 'fastmcp.ts'), peer: true },
  { key: 'BA', label: 'BA: better-auth + oauth-provider (JWT) on SQLite, mcp-handler (cannot meter: no metering)', script: path.join(here, 'servers', 'better-auth.ts'), peer: true },
  { key: 'T', label: 'T: Tollgate (JWT, demo CRM tool, metering, usage) on SQLite', script: path.join(here, 'servers', 'tollgate.ts') },
];
if (PG) targets.push({ key: 'T_pg', label: 'T on PostgreSQL (rounds of its own with L and P, after T\'s; CPU/call without PostgreSQL\'s own)', script: path.join(here, 'servers', 'tollgate.ts'), env: { BENCH_DATABASE: 'postgres' } });
/** What T is compared with: P as today and the real stacks a user would pick instead (issue 21). */
const PEERS = ['P', 'P20', 'WOP', 'FMCP', 'BA'];

const say = (line: string) => process.stdout.write(`${line}\n`);
/** One server's load run in a round, with the CPU time it cost the server per call. */
type Round = LoadResult & { cpuUs: number };

/**
 * `rounds` rounds over these servers, interleaved, and in a different order each round, so that a change in the
 * machine's load hits all alike; each run with the CPU time it cost the server per call.
 */
/** One measured load run of `server` (at `rate` req/s at most, when given), printed as `key`. */
async function measureRound(server: BenchServer, key: string, label: string, round: number, rate?: number): Promise<Round> {
  const cpu0 = serverCpuMs(server);
  const res = await runLoad(server.ready, { connections, seconds, rate });
  assertClean(key, res);
  // CPU time per call (µs): what the call costs the server, whatever share of the cores the machine's other load left it.
  const cpuUs = ((serverCpuMs(server) - cpu0) * 1000) / Math.max(1, res.requests);
  say(`  ${label}round ${round} ${key.padEnd(4)} ${fmt(res.rps).padStart(7)} req/s  p50 ${fmt(res.p50, 2)} ms  p99 ${fmt(res.p99, 2)} ms  ${fmt(cpuUs)} µs CPU/call`);
  return { ...res, cpuUs };
}

/** `then`, when given, adds its own runs to each round's row, right after the round's interleaved ones. */
async function interleavedRounds(servers: ReadonlyMap<string, BenchServer>, keys: string[], label: string, then?: (row: Record<string, Round>, round: number) => Promise<void>): Promise<Record<string, Round>[]> {
  const rows: Record<string, Round>[] = [];
  for (let r = 0; r < rounds; r++) {
    const row: Record<string, Round> = {};
    for (const key of keys.map((_, i) => keys[(i + r) % keys.length])) row[key] = await measureRound(servers.get(key)!, key, label, r + 1);
    await then?.(row, r + 1);
    rows.push(row);
  }
  return rows;
}

async function throughput() {
  say(`\nThroughput: ${warmup} s warm-up per server, then ${rounds} rounds × ${seconds} s, ${connections} connections, tools/call get_contact; ${canPin ? `servers pinned to core ${SERVER_CORE}, load generator to core ${LOAD_CORE}` : 'no CPU pinning (one core or no taskset)'}`);
  const servers = new Map<string, BenchServer>();
  const byKey = new Map(targets.map((t) => [t.key, t]));
  /** Peers that could not run here, with the error. */
  const failed: Record<string, string> = {};
  const start = async (key: string) => {
    const t = byKey.get(key)!;
    try {
      const s = await startBenchServer(t.key, t.script, t.env);
      servers.set(key, s);
      // The warm-up is not measured: a refused request still invalidates the run, but a request that timed out in a
      // slow spell of a shared machine only gets a note (the measured rounds stay strict).
      const w = await runLoad(s.ready, { connections, seconds: warmup });
      if (w.non2xx) assertClean(s.name, w);
      if (w.errors) say(`  ${key}: ${w.errors} of ${w.requests} warm-up requests failed or timed out (not measured)`);
    } catch (e) {
      if (!t.peer) throw e;
      await servers.get(key)?.stop();
      servers.delete(key);
      failed[key] = (e as Error).message.split('\n').slice(0, 6).join(' ').slice(0, 600);
      say(`  ${key} cannot run here: ${failed[key]}`);
    }
  };
  const interleaved = (keys: string[], label: string) => interleavedRounds(servers, keys, label);
  const first = ['L', 'D', ...PEERS, 'T'];
  let perRound: Record<string, Round>[];
  let perRoundPostgres: Record<string, Round>[] = [];
  try {
    for (const key of first) await start(key);
    perRound = await interleaved(first.filter((k) => servers.has(k)), '');
    for (const key of first.filter((k) => k !== 'L' && k !== 'P')) {
      await servers.get(key)?.stop();
      servers.delete(key);
    }
    if (PG) {
      // T on PostgreSQL in rounds of its own, against L and P again: a PostgreSQL server busy with its checkpoints and
      // vacuums after T_pg's rounds would otherwise share the disk and the cores with T on SQLite.
      await start('T_pg');
      perRoundPostgres = await interleaved(['L', 'P', 'T_pg'], 'PostgreSQL ');
    }
  } finally {
    for (const s of servers.values()) await s.stop();
  }
  const ran = (key: string) => perRound[0]?.[key] !== undefined;
  const med = (rows: Record<string, Round>[], key: string) => {
    const t = byKey.get(key)!;
    return { label: t.label, rps: median(rows.map((r) => r[key].rps)), p50: median(rows.map((r) => r[key].p50)), p99: median(rows.map((r) => r[key].p99)), cpuUs: median(rows.map((r) => r[key].cpuUs)) };
  };
  const summary: Record<string, ReturnType<typeof med>> = {};
  for (const key of first) if (ran(key)) summary[key] = med(perRound, key);
  if (PG) summary.T_pg = med(perRoundPostgres, 'T_pg');
  const ratio = (rows: Record<string, Round>[], a: string, b: string, k: 'rps' | 'p99' | 'cpuUs' = 'rps') => median(rows.map((r) => r[a][k] / Math.max(k === 'p99' ? 0.01 : 1, r[b][k])));
  const ratios: Record<string, number> = { 'T/L': ratio(perRound, 'T', 'L'), 'D/L': ratio(perRound, 'D', 'L'), 'T/D': ratio(perRound, 'T', 'D') };
  for (const key of PEERS) if (ran(key)) ratios[`T/${key}`] = ratio(perRound, 'T', key);
  if (PG) {
    Object.assign(ratios, { 'T_pg/L': ratio(perRoundPostgres, 'T_pg', 'L'), 'T_pg/P': ratio(perRoundPostgres, 'T_pg', 'P') });
    // T and T_pg run in rounds of their own: T_pg/T goes through L, which runs in both.
    ratios['T_pg/T'] = ratios['T_pg/L'] / ratios['T/L'];
  }
  const p99Ratio = ratio(perRound, 'T', 'L', 'p99');
  // CPU per call, each peer's over T's: how many times T's cost a call costs the peer (less disturbed by a busy machine).
  const cost: Record<string, number> = {};
  for (const key of ['L', 'D', ...PEERS]) if (ran(key)) cost[`${key}/T`] = ratio(perRound, key, 'T', 'cpuUs');
  const checks: Measurement[] = [
    { name: 'metered tools/call on SQLite against the durable-write reference: T/D', value: ratios['T/D'], unit: '×', target: '≥ 0.5', met: ratios['T/D'] >= 0.5 },
  ];
  for (const key of PEERS) {
    const metering = key === 'P' || key === 'P20' ? 'fixed token, no metering' : 'its own OAuth token, cannot meter';
    if (ran(key)) checks.push({ name: `T (metered) ahead of ${key} (${metering}): T/${key}`, value: ratios[`T/${key}`], unit: '×', target: '≥ 2', met: ratios[`T/${key}`] >= 2 });
    else checks.push({ name: `T (metered) ahead of ${key}: T/${key} — ${key} could not run here (see below)`, value: Number.NaN, unit: '×', target: '≥ 2', met: false });
  }
  if (PG) {
    checks.push({ name: 'T on PostgreSQL against P: T_pg/P', value: ratios['T_pg/P'], unit: '×', target: '≥ 2', met: ratios['T_pg/P'] >= 2 });
    checks.push({ name: 'T on PostgreSQL against T on SQLite: T_pg/T (through L)', value: ratios['T_pg/T'], unit: '×', target: '≥ 0.5', met: ratios['T_pg/T'] >= 0.5 });
  }
  checks.push({ name: `p99 at ${connections} connections: T p99 / L p99`, value: p99Ratio, unit: '×', target: '≤ 3', met: p99Ratio <= 3 });
  // Not targets any more (issue 21): T/L ≥ 0.5 asked for more than the durable-write ceiling D allows on this machine.
  checks.push({ name: 'for information: T/L (issue 8 asked ≥ 0.5; restated as T/D)', value: ratios['T/L'], unit: '×', target: '—', met: null });
  checks.push({ name: 'reference: D/L (bare server, one durable SQLite write per call)', value: ratios['D/L'], unit: '×', target: '(≈ 0.52 where issue 8 was written)', met: null });
  return { summary, ratios, cost, perRound, perRoundPostgres, checks, failed };
}

/**
 * The gateway's overhead (issue 17): U, an SDK v2 Streamable HTTP server with one tool called directly with a static
 * token, and G, Tollgate metered in front of that same U process (the forwarded JWT instead of the client's token,
 * credits, the ledger, the log), beside T (a built-in tool) for Tollgate's own CPU per call. Same load, same rounds.
 * U runs on the load generator's core in its own rounds and in G's, as an upstream on a host of its own would: with
 * U and G on one core, G/U measured how two processes share a core rather than what the gateway costs.
 *
 * CPU per call depends on the rate: at full speed a server handles many calls per turn of its event loop (one
 * wake-up, one log write, one ledger commit for all of them), while G runs at U's pace, a call or two per turn. So each
 * round also drives T at the rate G reached in it (T@G), evenly paced as G's calls arrive (lib/load-worker.ts), and
 * G − T is taken against that. LP, a bare node:http proxy
 * over the same socket pool, and L driven at LP's rate (L@LP) measure the floor: what the extra HTTP exchange costs
 * any gateway written in Node (LP − L), which no work on Tollgate's side can take below.
 */
async function gatewayOverhead() {
  say(`\nGateway: U (the upstream alone) and G (Tollgate in front of it), with T for Tollgate's CPU per built-in call (T@G: at G's rate) and LP − L@LP for the floor of any Node proxy; ${warmup} s warm-up, ${rounds} rounds × ${seconds} s, ${connections} connections; ${canPin ? `U on core ${LOAD_CORE} with the load generator, the others on core ${SERVER_CORE}` : 'no CPU pinning'}`);
  const servers = new Map<string, BenchServer>();
  const labels: Record<string, string> = {
    U: 'U: official SDK v2 Streamable HTTP server (createMcpHandler), 1 tool, static token',
    G: 'G: Tollgate (JWT, metering, ledger, forwarded JWT) in front of U',
    T: 'T: Tollgate, built-in tool, as fast as it answers',
    'T@G': "T@G: T driven at G's rate, evenly paced (Tollgate's CPU per built-in call at the same pace)",
    LP: 'LP: bare node:http proxy to U over the same socket pool (no OAuth, no metering, no log)',
    'L@LP': "L@LP: L (bare server, fixed answer) driven at LP's rate, evenly paced",
  };
  try {
    const u = await startBenchServer('U', path.join(here, 'servers', 'upstream.ts'), { BENCH_UPSTREAM_TOKEN: 'any' });
    repin(u, LOAD_CORE);
    servers.set('U', u);
    servers.set('G', await startBenchServer('G', path.join(here, 'servers', 'tollgate.ts'), { BENCH_UPSTREAM_URL: u.ready.url }));
    servers.set('T', await startBenchServer('T', path.join(here, 'servers', 'tollgate.ts')));
    servers.set('LP', await startBenchServer('LP', path.join(here, 'servers', 'proxy.ts'), { BENCH_UPSTREAM_URL: u.ready.url }));
    servers.set('L', await startBenchServer('L', path.join(here, 'servers', 'limit.ts')));
    for (const [key, s] of servers) {
      const w = await runLoad(s.ready, { connections, seconds: warmup });
      if (w.non2xx) assertClean(key, w);
    }
    // U, G, T and LP interleaved as every section's rounds are; then, in the same round, T and L at the rate G and
    // LP reached in it.
    const rows = await interleavedRounds(servers, ['U', 'G', 'T', 'LP'], 'gateway ', async (row, r) => {
      row['T@G'] = await measureRound(servers.get('T')!, 'T@G', 'gateway ', r, Math.round(row.G.rps));
      row['L@LP'] = await measureRound(servers.get('L')!, 'L@LP', 'gateway ', r, Math.round(row.LP.rps));
    });
    const keys = ['U', 'G', 'T', 'T@G', 'LP', 'L@LP'];
    const summary = Object.fromEntries(keys.map((k) => [k, { label: labels[k], rps: median(rows.map((r) => r[k].rps)), p50: median(rows.map((r) => r[k].p50)), p99: median(rows.map((r) => r[k].p99)), cpuUs: median(rows.map((r) => r[k].cpuUs)) }]));
    const gu = median(rows.map((r) => r.G.rps / Math.max(1, r.U.rps)));
    const extraCpu = median(rows.map((r) => r.G.cpuUs - r['T@G'].cpuUs));
    const fullSpeedExtra = median(rows.map((r) => r.G.cpuUs - r.T.cpuUs));
    const floor = median(rows.map((r) => r.LP.cpuUs - r['L@LP'].cpuUs));
    const checks: Measurement[] = [
      { name: 'gateway: G/U (Tollgate metered in front of an upstream, against the upstream alone)', value: gu, unit: '×', target: '≥ 0.8', met: gu >= 0.8 },
      { name: "gateway: Tollgate's own CPU per proxied call less its CPU per built-in call at the same rate (G − T@G)", value: extraCpu, unit: 'µs', target: '≤ 30', met: extraCpu <= 30 },
      { name: 'for information: the same against T at full speed (G − T)', value: fullSpeedExtra, unit: 'µs', target: '—', met: null },
      { name: "for information: the floor, what the HTTP exchange costs a bare Node proxy (LP − L@LP)", value: floor, unit: 'µs', target: '—', met: null },
      { name: "for information: Tollgate's gateway beyond that floor ((G − T@G) − (LP − L@LP))", value: extraCpu - floor, unit: 'µs', target: '—', met: null },
    ];
    return { summary, ratios: { 'G/U': gu, 'G−T@G CPU µs': extraCpu, 'G−T CPU µs': fullSpeedExtra, 'LP−L@LP CPU µs': floor }, perRound: rows, checks };
  } finally {
    for (const s of servers.values()) await s.stop();
  }
}

const started = new Date();
const loadBefore = loadavg();
const result: Record<string, unknown> = { started: started.toISOString(), node: process.version, cores: CORES, pinned: canPin, quick, rounds, seconds, warmup, connections, loadavgBefore: loadBefore };
const md: string[] = [];
let checks: Measurement[] = [];
let peerFailures: Record<string, string> = {};

if (only.includes('throughput')) {
  const t = await throughput();
  result.throughput = t;
  checks = checks.concat(t.checks);
  md.push('| server | req/s | p50 ms | p99 ms | CPU µs/call |', '|---|---:|---:|---:|---:|');
  for (const s of Object.values(t.summary)) md.push(`| ${s.label} | ${fmt(s.rps)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ${fmt(s.cpuUs)} |`);
  md.push('', Object.entries(t.ratios).map(([k, v]) => `${k} = ${fmt(v, 2)}`).join(' · ') + ' (medians of per-round ratios; T_pg/T = (T_pg/L) / (T/L))', '');
  md.push('CPU time per call against T\'s (the server\'s process and its children, from /proc): ' + Object.entries(t.cost).map(([k, v]) => `${k} = ${fmt(v, 2)}`).join(' · '), '');
  peerFailures = t.failed;
}
if (only.includes('gateway')) {
  const g = await gatewayOverhead();
  result.gateway = g;
  checks = checks.concat(g.checks);
  md.push('| gateway | req/s | p50 ms | p99 ms | CPU µs/call |', '|---|---:|---:|---:|---:|');
  for (const s of Object.values(g.summary)) md.push(`| ${s.label} | ${fmt(s.rps)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ${fmt(s.cpuUs)} |`);
  md.push('', `G/U = ${fmt(g.ratios['G/U'], 2)} · Tollgate's CPU per proxied call − per built-in call at the same rate (G − T@G) = ${fmt(g.ratios['G−T@G CPU µs'])} µs · the same against T at full speed = ${fmt(g.ratios['G−T CPU µs'])} µs · the floor of a bare Node proxy (LP − L@LP) = ${fmt(g.ratios['LP−L@LP CPU µs'])} µs (medians of per-round values)`, '');
}
const extraSections = only.filter((s): s is ExtraSection => (EXTRA_SECTIONS as readonly string[]).includes(s));
if (extraSections.length) {
  say('\nOther targets:');
  const cases = values.cases?.split(',').map((c) => c.trim());
  const extras = await extraMeasurements({ rounds, seconds: quick ? 2 : Math.min(seconds, 4), connections, warmup, quick, cases, log: (line) => say(`  ${line}`) }, extraSections);
  result.extras = extras;
  checks = checks.concat(extras);
}

const loadAfter = loadavg();
result.loadavgAfter = loadAfter;
const digits = (c: Measurement) => (c.unit === '×' ? 2 : c.unit === 'ms' && c.value < 100 ? 1 : c.unit === 'MB' ? 1 : 0);
md.push('| target | measured | goal | |', '|---|---:|---|---|');
for (const c of checks) md.push(`| ${c.name} | ${Number.isNaN(c.value) ? '—' : `${fmt(c.value, digits(c))} ${c.unit}`} | ${c.target} | ${c.met === null ? '(info)' : c.met ? 'met' : '**not met**'} |`);
const failures = Object.entries(peerFailures);
if (failures.length) md.push('', 'Peers that could not run here:', '', ...failures.map(([k, e]) => `- ${k}: ${e}`));
const minutes = (Date.now() - started.getTime()) / 60_000;
const header =
  `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${quick ? ' (--quick: short rounds, smaller sizes)' : ''} on ${CORES} cores, Node ${process.version}; ` +
  `${warmup} s warm-up per server, then ${rounds} interleaved rounds × ${seconds} s at ${connections} connections; ${canPin ? `servers on core ${SERVER_CORE}, load generator on core ${LOAD_CORE}` : 'no CPU pinning'}; ` +
  `load average ${loadBefore.map((x) => x.toFixed(1)).join(' / ')} before, ${loadAfter.map((x) => x.toFixed(1)).join(' / ')} after (1/5/15 min); ${fmt(minutes, 1)} min.`;
const table = [header, '', ...md].join('\n');

say(`\n${table}`);
const dir = path.join(here, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ ...result, checks }, null, 2));
// Only a full run replaces the table the README shows: --quick writes latest-quick.md, --only latest-partial.md.
const mdFile = quick ? 'latest-quick.md' : values.only ? 'latest-partial.md' : 'latest.md';
writeFileSync(path.join(dir, mdFile), table + '\n');
say(`\nResults written to bench/results/ (${mdFile} and a JSON file).`);
