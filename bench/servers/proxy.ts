// (LP) The floor of any gateway written in Node: L's request handling (lib/bare-server.ts), its answer fetched from
// the upstream U over the same HTTP/1.1 socket pool Tollgate's gateway uses (src/gateway/http1-client.ts), read as
// JSON or SSE and relayed. No OAuth, no metering, no log: what the extra HTTP exchange alone costs, so that the
// gateway section can tell that cost (LP − L) from Tollgate's own (G − T).
import { sendJson, startBareServer } from '../lib/bare-server.ts';
import { Http1Pool } from '../../src/gateway/http1-client.ts';
import { readSse } from '../../src/client/sse.ts';

const upstream = new URL(process.env.BENCH_UPSTREAM_URL ?? '');
const pool = new Http1Pool(upstream);
const headers = { authorization: 'Bearer bench', 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
let nextId = 1;

startBareServer(async (res, _body) => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name: 'get_contact', arguments: { id: 'c' } } });
  try {
    const r = await pool.post(upstream.pathname, headers, body);
    let text = '';
    if ((r.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      for await (const ev of readSse(r.body)) if (ev.data.trim()) { text = ev.data; break; }
    } else text = await r.text();
    const answer = JSON.parse(text) as { result?: unknown };
    sendJson(res, JSON.stringify({ jsonrpc: '2.0', id: 1, result: answer.result }));
  } catch {
    res.writeHead(502).end();
  }
});
