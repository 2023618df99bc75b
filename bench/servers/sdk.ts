// (P) What a user would otherwise write: the official SDK's stateless Streamable HTTP server (a fresh McpServer and
// transport per request, as its stateless example does) behind the SDK's own requireBearerAuth middleware.
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { z } from 'zod';
import { announceReady, BENCH_CONTACT_ID, BENCH_TOKEN, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';

const contact = { id: BENCH_CONTACT_ID, name: 'Ada Lovelace', email: 'ada@example.com', company: 'Analytical Engines' };

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-sdk', version: '1.0.0' });
  server.registerTool(
    'get_contact',
    { description: 'Get a contact by id', inputSchema: { id: z.string() } },
    async () => ({ content: [{ type: 'text', text: JSON.stringify(contact) }], structuredContent: contact }),
  );
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
