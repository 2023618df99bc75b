// (P) What a user would otherwise write: the official SDK's stateless Streamable HTTP server (a fresh McpServer and
// transport per request, as its stateless example does) behind the SDK's own requireBearerAuth middleware.
// BENCH_TOOLS=N (P20: 20) registers N tools in all, get_contact and synthetic ones of the size of a real server's, as
// Tollgate's bench server does: the stateless server registers every one of them on each request.
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { z } from 'zod';
import { benchContactResult } from '../lib/contact.ts';
import { announceReady, BENCH_CONTACT_ID, BENCH_TOKEN, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';

const toolCount = Math.max(1, Number(process.env.BENCH_TOOLS ?? 1));

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk', version: '1.0.0' });
  server.registerTool('get_contact', { description: 'Get a contact by id', inputSchema: { id: z.string() } }, async () => benchContactResult());
  for (let i = 1; i < toolCount; i++) {
    server.registerTool(
      `bench_tool_${String(i).padStart(3, '0')}`,
      { title: `Bench tool ${i}`, description: `A synthetic tool (${i}) that only makes the registry bigger.`, inputSchema: { query: z.string().max(200).optional(), limit: z.number().int().min(1).max(100).optional() } },
      async () => ({ content: [{ type: 'text', text: `tool ${i}` }] }),
    );
  }
  return server;
}

const verifier = {
  async verifyAccessToken(token: string) {
    if (token !== BENCH_TOKEN) throw Object.assign(new Error('invalid token'), { name: 'InvalidTokenError' });
    return { token, clientId: 'bench', scopes: ['mcp:read'], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
  },
};

const app = express();
app.use(express.json());
app.post('/mcp', requireBearerAuth({ verifier }), async (req, res) => {
  const server = buildServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

const listener = app.listen(0, '127.0.0.1', () => {
  const { port } = listener.address() as { port: number };
  announceReady({ url: `http://127.0.0.1:${port}/mcp`, headers: { ...MCP_HEADERS, authorization: `Bearer ${BENCH_TOKEN}` }, body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }) });
});
