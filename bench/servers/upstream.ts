// (U) An MCP server a company already runs: the official SDK v2's Streamable HTTP handler (`createMcpHandler`, a
// fresh server per request, stateless) on node:http, with one tool, checking a static bearer token. Called directly
// it is U; with Tollgate's gateway in front of it (bench/servers/tollgate.ts, BENCH_UPSTREAM_URL) it is G's upstream.
// BENCH_UPSTREAM_TOKEN: the token it accepts (default: the baselines' BENCH_TOKEN); `any` accepts every bearer token
// (what an upstream behind the gateway sees is Tollgate's forwarded JWT, which this server does not verify: the
// verification is the upstream's own cost, not the gateway's).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { announceReady, BENCH_CONTACT_ID, BENCH_TOKEN, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';

const accepted = process.env.BENCH_UPSTREAM_TOKEN ?? BENCH_TOKEN;
const contact = { id: BENCH_CONTACT_ID, name: 'Ada Lovelace', email: 'ada@example.com', company: 'Analytical Engines' };

const handler = createMcpHandler((() => {
  const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  server.registerTool('get_contact', { description: 'Get a contact by id', inputSchema: z.object({ id: z.string() }), annotations: { readOnlyHint: true } }, async () => ({
    content: [{ type: 'text', text: JSON.stringify(contact) }],
    structuredContent: contact,
  }));
  return server;
}) as never);

let url = '';
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ') || (accepted !== 'any' && auth.slice(7) !== accepted)) {
    res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end('{"error":"invalid_token"}');
    return;
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
  const request = new Request(url, { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
  const response = await handler.fetch(request, { authInfo: { token: auth.slice(7), clientId: 'bench', scopes: ['mcp:read'] } } as never);
  const out: Record<string, string> = {};
  response.headers.forEach((v, k) => (out[k] = v));
  res.writeHead(response.status, out);
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.BENCH_UPSTREAM_PORT ?? 0), '127.0.0.1', () => {
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  announceReady({ url, headers: { ...MCP_HEADERS, authorization: `Bearer ${BENCH_TOKEN}` }, body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }) });
});
