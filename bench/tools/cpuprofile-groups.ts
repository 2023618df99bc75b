// Self time of a V8 .cpuprofile grouped by subsystem (HTTP, SQLite, Kysely, logging, MCP, credits, …), as a share of
// the busy (non-idle) time. Usage: node bench/tools/cpuprofile-groups.ts <file>
import { readFileSync } from 'node:fs';

const prof = JSON.parse(readFileSync(process.argv[2], 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string } }[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const groups: [string, (url: string, fn: string) => boolean][] = [
  ['idle', (_u, f) => f === '(idle)'],
  ['SQLite (native, in executeQuery)', (u) => u.includes('src/store/sqlite-dialect')],
  ['Kysely', (u) => u.includes('node_modules/kysely')],
  ['logging (pino, fs writes)', (u, f) => u.includes('node_modules/pino') || u.includes('sonic-boom') || f === 'writeString' || u.endsWith('node:fs')],
  ['fsync (thread pool kick)', (_u, f) => f === 'fdatasync' || f === 'fsync'],
  ['HTTP (node:http, net, streams, socket writes)', (u, f) => /node:(_http|net|internal\/streams|internal\/stream_base|events|buffer)/.test(u) || f === 'writeUtf8String' || f === 'utf8Slice'],
  ['Hono', (u) => u.includes('node_modules/hono') || u.includes('@hono')],
  ['MCP module (src/mcp)', (u) => u.includes('src/mcp/')],
  ['demo CRM tool (src/crm)', (u) => u.includes('src/crm/')],
  ['credits module', (u) => u.includes('src/credits/')],
  ['OAuth module', (u) => u.includes('src/oauth/')],
  ['Ajv', (u) => u.includes('node_modules/ajv')],
  ['promises, microtasks, timers', (u, f) => /task_queues|timers/.test(u) || f === 'runMicrotasks'],
  ['GC', (_u, f) => f === '(garbage collector)'],
  ['(program)', (_u, f) => f === '(program)'],
  ['start-up (module loading, keys)', (u) => /node:internal\/(modules|bootstrap|crypto\/keygen|deps\/amaro)|wasm:/.test(u)],
];
const totals = new Map<string, number>();
let all = 0;
prof.samples.forEach((id, i) => {
  const n = byId.get(id)!;
  const dt = prof.timeDeltas[i] ?? 0;
  all += dt;
  const g = groups.find(([, m]) => m(n.callFrame.url, n.callFrame.functionName))?.[0] ?? `other (${n.callFrame.url.replace(/^.*node_modules\//, '') || n.callFrame.functionName})`;
  totals.set(g, (totals.get(g) ?? 0) + dt);
});
const busy = all - (totals.get('idle') ?? 0);
console.log(`busy ${(busy / 1e6).toFixed(2)} s of ${(all / 1e6).toFixed(2)} s sampled`);
const rows = [...totals].filter(([k]) => k !== 'idle').sort((a, b) => b[1] - a[1]);
let other = 0;
for (const [k, t] of rows) {
  if (t / busy < 0.01 && k.startsWith('other')) {
    other += t;
    continue;
  }
  console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${k}`);
}
console.log(`${((100 * other) / busy).toFixed(1).padStart(5)}%  other (each < 1%)`);
