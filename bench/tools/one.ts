// One bench server on its own: `node bench/tools/one.ts <server.ts> [seconds] [KEY=VALUE…]` starts it pinned as the
// bench does (a peer gets its token through its own authorization server first, and must refuse an altered one),
// prints one tools/call's status and answer size, then, with `seconds`, one load run's req/s, p50 and p99.
import path from 'node:path';
import { runLoad } from '../lib/load.ts';
import { startBenchServer } from '../lib/processes.ts';

const [script, seconds, ...pairs] = process.argv.slice(2);
if (!script) throw new Error('usage: node bench/tools/one.ts <server.ts> [seconds] [KEY=VALUE…]');
const env = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
const s = await startBenchServer(path.basename(script, '.ts'), path.resolve(script), env);
try {
  const res = await fetch(s.ready.url, { method: 'POST', headers: s.ready.headers, body: s.ready.body });
  const text = await res.text();
  console.log(`${s.name}: HTTP ${res.status}, ${text.length} bytes (${res.headers.get('content-type')})`);
  if (Number(seconds) > 0) console.log(await runLoad(s.ready, { connections: 50, seconds: Number(seconds) }));
} finally {
  await s.stop();
}
