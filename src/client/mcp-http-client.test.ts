import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeHeaderValue, McpHttpClient } from './mcp-http-client.ts';

interface Seen {
  headers: IncomingHttpHeaders;
  body: { id?: number; method: string; params?: Record<string, unknown> };
}

/** A tiny MCP server: `modern` speaks 2026-07-28 (server/discover); otherwise a 2025 server with sessions. */
async function serve(modern: boolean): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const body = JSON.parse(text) as Seen['body'];
      seen.push({ headers: req.headers, body });
      const answer = (status: number, msg: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(msg));
      if (body.id === undefined) return res.writeHead(202).end();
      const ok = (result: unknown, headers?: Record<string, string>) => answer(200, { jsonrpc: '2.0', id: body.id, result }, headers);
      if (modern) {
        if (body.method === 'server/discover') return ok({ resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, serverInfo: { name: 'modern', version: '2' } });
        if (body.method === 'tools/call') return ok({ content: [{ type: 'text', text: 'called' }] });
        return ok({ tools: [] });
      }
      // As the SDK's stateful server: anything before initialize is a 400 with id null.
      if (body.method === 'initialize') return ok({ protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'legacy', version: '1' } }, { 'mcp-session-id': 's-1' });
      if (req.headers['mcp-session-id'] !== 's-1') return answer(400, { jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Server not initialized' } });
      return ok({ tools: [{ name: 't' }] });
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mcp`, seen, close: () => new Promise((r) => srv.close(() => r())) };
}

test('connect() speaks stateless 2026-07-28 where offered: _meta envelope, MCP-Protocol-Version, Mcp-Method, Mcp-Name; no session', async () => {
  const s = await serve(true);
  try {
    const c = new McpHttpClient(s.url);
    await c.connect();
    assert.equal(c.protocolVersion, '2026-07-28');
    assert.equal(c.stateless, true);
    assert.equal(c.serverInfo?.name, 'modern');
    await c.callTool('résumé', { a: 1, region: 'eu-west', n: 2 }, undefined, { name: 'résumé', inputSchema: { properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, n: { type: 'number', 'x-mcp-header': 'N' }, a: {} } } });
    const call = s.seen.at(-1)!;
    assert.equal(call.headers['mcp-param-region'], 'eu-west');
    assert.equal(call.headers['mcp-param-n'], '2');
    assert.equal(call.headers['mcp-method'], 'tools/call');
    assert.equal(call.headers['mcp-protocol-version'], '2026-07-28');
    assert.equal(call.headers['mcp-name'], encodeHeaderValue('résumé'));
    assert.match(String(call.headers['mcp-name']), /^=\?base64\?/);
    const meta = call.body.params!._meta as Record<string, unknown>;
    assert.equal(meta['io.modelcontextprotocol/protocolVersion'], '2026-07-28');
    assert.deepEqual(meta['io.modelcontextprotocol/clientCapabilities'], {});
    assert.ok(!s.seen.some((m) => m.body.method === 'initialize' || m.body.method === 'notifications/initialized'));
    assert.equal(s.seen[0].headers['mcp-method'], 'server/discover');
  } finally {
    await s.close();
  }
});

test('connect() falls back to the 2025-11-25 handshake when server/discover is refused (a 400 with id null)', async () => {
  const s = await serve(false);
  try {
    const c = new McpHttpClient(s.url);
    await c.connect();
    assert.equal(c.stateless, false);
    assert.equal(c.protocolVersion, '2025-11-25');
    assert.equal(c.sessionId, 's-1');
    const tools = await c.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['t']);
    const list = s.seen.at(-1)!;
    assert.equal(list.headers['mcp-method'], undefined, 'no 2026 headers after the fallback');
    assert.equal(list.body.params, undefined);
    assert.deepEqual(s.seen.map((m) => m.body.method), ['server/discover', 'initialize', 'notifications/initialized', 'tools/list']);
  } finally {
    await s.close();
  }
});

test('encodeHeaderValue: printable ASCII as is, the rest base64 (SEP-2243)', () => {
  assert.equal(encodeHeaderValue('search_contacts'), 'search_contacts');
  assert.equal(encodeHeaderValue(' padded'), `=?base64?${Buffer.from(' padded').toString('base64')}?=`);
  assert.equal(encodeHeaderValue('line\nbreak'), `=?base64?${Buffer.from('line\nbreak').toString('base64')}?=`);
});
