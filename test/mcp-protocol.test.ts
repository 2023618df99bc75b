// Requirements (MCP endpoints §4, §5): JSON-RPC over POST for revisions 2025-03-26, 2025-06-18, 2025-11-25 (initialize,
// notifications → 202, ping, tools/list with pagination, tools/call, no session) and 2026-07-28 (`_meta`, Mcp-Method /
// Mcp-Name / Mcp-Param-* headers checked against the body, server/discover); batches per revision; JSON or SSE
// answers; JSON-RPC errors for bad bodies; body limit; malformed input never a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { legacyCall, mcpRequest, MODERN, modernCall, modernMeta } from './helpers/mcp-http.ts';
import type { ToolDefinition } from '../src/tools/tool-types.ts';

const LEGACY = ['2025-03-26', '2025-06-18', '2025-11-25'];
const EXTRA_TOOLS = 230;

const extraTools: ToolDefinition[] = [
  ...Array.from({ length: EXTRA_TOOLS }, (_, i): ToolDefinition => ({
    name: `zz_filler_${String(i).padStart(3, '0')}`,
    description: 'A filler tool for pagination tests.',
    inputSchema: { type: 'object', properties: {} },
    scope: 'mcp:read',
    cost: 0,
    handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }),
  })),
  {
    name: 'routed_echo',
    description: 'Echoes its arguments; region is mirrored in the Mcp-Param-Region header (2026-07-28).',
    inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, priority: { type: 'integer', 'x-mcp-header': 'Priority' } } },
    scope: 'mcp:read',
    cost: 0,
    handler: async (args) => ({ content: [{ type: 'text', text: JSON.stringify(args) }], structuredContent: args }),
  },
];

describe('MCP protocol', () => {
  let srv: TestServer;
  let url: string;
  let token: string;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000', TOLLGATE_BODY_LIMIT_BYTES: '4096' }, extraTools });
    url = `${srv.url}/demo/mcp`;
    token = (await mintAccessToken(srv.services)).accessToken;
  });
  after(async () => srv.stop());

  test('initialize negotiates each 2025 revision (an unknown one gets the latest), without a session', async () => {
    for (const requested of [...LEGACY, '2024-11-05', '2026-07-28']) {
      const r = await legacyCall(url, token, 'initialize', { protocolVersion: requested, capabilities: {}, clientInfo: { name: 't', version: '1' } }, null);
      assert.equal(r.status, 200, requested);
      assert.equal(r.body.result.protocolVersion, LEGACY.includes(requested) ? requested : '2025-11-25', requested);
      assert.deepEqual(r.body.result.capabilities, { tools: { listChanged: false } });
      assert.equal(r.body.result.serverInfo.name, 'tollgate');
      assert.equal(r.headers.get('mcp-session-id'), null);
    }
    const noVersion = await legacyCall(url, token, 'initialize', { capabilities: {} }, null);
    assert.equal(noVersion.body.error.code, -32602);
  });

  test('every 2025 revision: notifications → 202 without a body, ping, tools/list, tools/call', async () => {
    for (const v of LEGACY) {
      const n = await mcpRequest(url, { token, headers: { 'mcp-protocol-version': v }, body: { jsonrpc: '2.0', method: 'notifications/initialized' } });
      assert.equal(n.status, 202, v);
      assert.equal(n.text, '', v);
      assert.deepEqual((await legacyCall(url, token, 'ping', undefined, v, 'p1')).body, { jsonrpc: '2.0', id: 'p1', result: {} });
      const list = await legacyCall(url, token, 'tools/list', undefined, v);
      assert.ok(list.body.result.tools.some((t: { name: string }) => t.name === 'search_contacts'), v);
      assert.equal(list.body.result.resultType, undefined);
      const call = await legacyCall(url, token, 'tools/call', { name: 'search_contacts', arguments: { query: 'okafor' } }, v);
      assert.equal(call.body.result.structuredContent.contacts[0].name, 'Maria Okafor', v);
      assert.equal(call.body.result.resultType, undefined);
    }
    // No MCP-Protocol-Version header means 2025-03-26.
    assert.equal((await legacyCall(url, token, 'ping', undefined, null)).status, 200);
    const bad = await legacyCall(url, token, 'ping', undefined, '2099-13-45');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, -32022);
  });

  test('tools/list paginates with opaque cursors and no page is lost or repeated', async () => {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await legacyCall(url, token, 'tools/list', cursor ? { cursor } : {});
      assert.equal(r.status, 200);
      names.push(...r.body.result.tools.map((t: { name: string }) => t.name));
      cursor = r.body.result.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names.filter((n) => n.startsWith('zz_filler_')).length, EXTRA_TOOLS);
    assert.equal((await legacyCall(url, token, 'tools/list', { cursor: 'forged' })).body.error.code, -32602);
    assert.equal((await legacyCall(url, token, 'tools/list', { cursor: 7 })).body.error.code, -32602);
  });

  test('2026-07-28: server/discover, result types, cache hints and the server identity on results', async () => {
    const d = await modernCall(url, token, 'server/discover');
    assert.equal(d.status, 200);
    const r = d.body.result;
    assert.equal(r.resultType, 'complete');
    assert.deepEqual(r.supportedVersions, [MODERN]);
    assert.ok(r.capabilities.tools);
    assert.equal(r._meta['io.modelcontextprotocol/serverInfo'].name, 'tollgate');
    assert.ok(Number.isInteger(r.ttlMs) && ['public', 'private'].includes(r.cacheScope));
    const list = (await modernCall(url, token, 'tools/list')).body.result;
    assert.equal(list.resultType, 'complete');
    assert.equal(list.cacheScope, 'private');
    const call = await modernCall(url, token, 'tools/call', { name: 'get_contact', arguments: { id: 'ct_doesnotexist' } });
    assert.equal(call.status, 200);
    assert.equal(call.body.result.resultType, 'complete');
    assert.equal(call.body.result.isError, true);
    assert.match(call.body.result.content[0].text, /No contact with id ct_doesnotexist/);
    assert.equal(call.body.result._meta['io.modelcontextprotocol/serverInfo'].name, 'tollgate');
    const note = await mcpRequest(url, { token, headers: { 'mcp-protocol-version': MODERN }, body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: modernMeta } } });
    assert.equal(note.status, 202);
  });

  test('2026-07-28: removed and unknown methods are 404 with -32601, keeping the request id', async () => {
    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/list', 'no/such']) {
      const r = await modernCall(url, token, method, {}, {}, `id-${method}`);
      assert.equal(r.status, 404, method);
      assert.equal(r.body.error.code, -32601, method);
      assert.equal(r.body.id, `id-${method}`);
    }
  });

  test('2026-07-28: headers must agree with the body (400, -32020), the envelope must be whole (400, -32602), versions must be served (400, -32022)', async () => {
    const cases: [string, () => ReturnType<typeof mcpRequest>, number][] = [
      ['Mcp-Method mismatch', () => modernCall(url, token, 'tools/list', {}, { 'mcp-method': 'prompts/list' }), -32020],
      ['Mcp-Name mismatch', () => modernCall(url, token, 'tools/call', { name: 'search_contacts', arguments: {} }, { 'mcp-name': 'get_contact' }), -32020],
      ['MCP-Protocol-Version missing', () => mcpRequest(url, { token, headers: { 'mcp-method': 'tools/list' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: modernMeta } } }), -32020],
      ['envelope missing', () => mcpRequest(url, { token, headers: { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }, body: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} } }), -32602],
      ['unsupported version', () => modernCall(url, token, 'tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2030-01-01' } }, { 'mcp-protocol-version': '2030-01-01' }), -32022],
      ['Mcp-Param header missing', () => modernCall(url, token, 'tools/call', { name: 'routed_echo', arguments: { region: 'eu-west1' } }), -32020],
      ['Mcp-Param header differs', () => modernCall(url, token, 'tools/call', { name: 'routed_echo', arguments: { region: 'eu-west1' } }, { 'mcp-param-region': 'us-east1' }), -32020],
      ['Mcp-Param bad base64', () => modernCall(url, token, 'tools/call', { name: 'routed_echo', arguments: { region: 'eu' } }, { 'mcp-param-region': '=?base64?ZX!!?=' }), -32020],
    ];
    for (const [why, send, code] of cases) {
      const r = await send();
      assert.equal(r.status, 400, why);
      assert.equal(r.body.error.code, code, why);
      assert.equal(r.body.id, 1, why);
    }
    const ok = await modernCall(url, token, 'tools/call', { name: 'routed_echo', arguments: { region: 'Zürich', priority: 3 } }, { 'mcp-param-region': `=?base64?${Buffer.from('Zürich').toString('base64')}?=`, 'mcp-param-priority': '3', 'MCP-NAME': '  routed_echo ' });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body.result.structuredContent, { region: 'Zürich', priority: 3 });
  });

  test('batches: accepted in 2025-03-26 (no initialize inside), refused in later revisions and in 2026-07-28', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search_contacts', arguments: { query: 'tanaka' } } },
      { jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: '2025-03-26' } },
      { jsonrpc: '2.0', id: 4, method: 'nope' },
      { bad: true },
    ];
    const r = await mcpRequest(url, { token, body: batch });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
    const byId = new Map(r.body.map((m: { id: unknown }) => [m.id, m]));
    assert.deepEqual((byId.get(1) as any).result, {});
    assert.equal((byId.get(2) as any).result.structuredContent.contacts[0].name, 'Aiko Tanaka');
    assert.equal((byId.get(3) as any).error.code, -32600);
    assert.equal((byId.get(4) as any).error.code, -32601);
    assert.equal((byId.get(null) as any).error.code, -32600);
    assert.equal(r.body.length, 5);
    assert.equal((await mcpRequest(url, { token, body: [{ jsonrpc: '2.0', method: 'notifications/initialized' }] })).status, 202);
    for (const [why, headers, body] of [
      ['2025-06-18', { 'mcp-protocol-version': '2025-06-18' }, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]],
      ['2025-11-25', { 'mcp-protocol-version': '2025-11-25' }, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]],
      ['2026-07-28 header', { 'mcp-protocol-version': MODERN }, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]],
      ['2026-07-28 element', {}, [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: modernMeta } }]],
      ['empty', {}, []],
    ] as const) {
      const x = await mcpRequest(url, { token, headers, body: body as unknown });
      assert.equal(x.status, 400, why);
      assert.equal(x.body.error.code, -32600, why);
    }
  });

  test('JSON-RPC errors: -32700 parse, -32600 invalid request, -32601 unknown method, -32602 invalid params', async () => {
    const parse = await mcpRequest(url, { token, raw: '{"jsonrpc":"2.0",' });
    assert.deepEqual([parse.status, parse.body.error.code, parse.body.id], [400, -32700, null]);
    const invalid = await mcpRequest(url, { token, body: { jsonrpc: '1.0', id: 9, method: 'ping' } });
    assert.deepEqual([invalid.status, invalid.body.error.code, invalid.body.id], [400, -32600, 9]);
    const unknown = await legacyCall(url, token, 'resources/list');
    assert.deepEqual([unknown.status, unknown.body.error.code], [200, -32601]);
    const noName = await legacyCall(url, token, 'tools/call', { arguments: {} });
    assert.deepEqual([noName.status, noName.body.error.code], [200, -32602]);
    const unknownTool = await legacyCall(url, token, 'tools/call', { name: 'nope', arguments: {} });
    assert.equal(unknownTool.body.error.code, -32602);
    assert.match(unknownTool.body.error.message, /unknown tool: nope/);
    const badArgs = await legacyCall(url, token, 'tools/call', { name: 'search_contacts', arguments: [1] });
    assert.equal(badArgs.body.error.code, -32602);
  });

  test('answers are JSON, or one SSE message when that is all the client accepts; other media types are refused', async () => {
    const body = { jsonrpc: '2.0', id: 5, method: 'ping' };
    const sse = await mcpRequest(url, { token, body, headers: { accept: 'text/event-stream' } });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(sse.text, 'event: message\ndata: {"jsonrpc":"2.0","id":5,"result":{}}\n\n');
    const json = await mcpRequest(url, { token, body, headers: { accept: 'application/json' } });
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal((await mcpRequest(url, { token, body, headers: { accept: 'text/html' } })).status, 406);
    assert.equal((await mcpRequest(url, { token, body, headers: { 'content-type': 'text/plain' } })).status, 415);
  });

  test('a body over the limit is 413, with or without Content-Length', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(8000) } });
    assert.equal((await mcpRequest(url, { token, raw: big })).status, 413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write(big.slice(i * 1000, (i + 1) * 1000));
      req.end(big.slice(8000));
    });
    assert.equal(chunked, 413);
  });

  test('malformed bodies and hostile values never produce a 500', async () => {
    const bodies = [
      '', 'null', '1', '"x"', 'true', '[1,2]', '{}', '{"jsonrpc":"2.0"}', '{"jsonrpc":"2.0","id":{},"method":"ping"}',
      '{"jsonrpc":"2.0","id":1,"method":7}', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":{"a":1}}}', `{"jsonrpc":"2.0","id":1e999,"method":"ping"}`,
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_contacts","arguments":{"query":"\\u0000%_\'"}}}',
      '['.repeat(2000) + ']'.repeat(2000), '{"jsonrpc":"2.0","id":1,"method":"__proto__","params":{"__proto__":{"x":1}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":{}}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":[]}}',
    ];
    for (const raw of bodies) {
      const r = await mcpRequest(url, { token, raw });
      assert.ok(r.status < 500, `${raw.slice(0, 60)} → ${r.status}`);
    }
    const invalidUtf8 = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    assert.ok(invalidUtf8.status < 500);
    for (const [name, value] of [['mcp-protocol-version', 'x'.repeat(500)], ['mcp-method', '\t'], ['mcp-name', '=?base64?????=']]) {
      const r = await mcpRequest(url, { token, headers: { [name]: value }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_contacts', _meta: modernMeta } } });
      assert.ok(r.status < 500, name);
    }
    assert.ok(!srv.logs.some((l) => l.includes('"level":"error"')), 'no unexpected errors were logged');
  });
});
