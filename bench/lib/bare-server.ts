// The request handling L and D share, so that they differ in nothing but D's durable write: a bare node:http
// JSON-RPC server with an in-memory bearer-token check and a fixed get_contact answer (the same contact and deal every
// bench server answers, lib/contact.ts), no framework.
import { createServer, type ServerResponse } from 'node:http';
import { benchContactResult } from './contact.ts';
import { announceReady, BENCH_CONTACT_ID, BENCH_TOKEN, MCP_HEADERS, toolCallBody } from './protocol.ts';

const tokens = new Set([BENCH_TOKEN]);

/** Sends a JSON answer (for `answer` to call, at once or later). */
export function sendJson(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

/** Starts the server on loopback and announces it; each authenticated call's answer goes to `answer`. */
export function startBareServer(answer: (res: ServerResponse, body: string) => void) {
  const server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (req.method !== 'POST' || !auth?.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg: { id?: unknown; method?: string };
      try {
        msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      answer(res, JSON.stringify({ jsonrpc: '2.0', id: msg.id ?? null, result: benchContactResult() }));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    announceReady({ url: `http://127.0.0.1:${port}/mcp`, headers: { ...MCP_HEADERS, authorization: `Bearer ${BENCH_TOKEN}` }, body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }) });
  });
  return server;
}
