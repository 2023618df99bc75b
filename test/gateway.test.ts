// Requirement (issue 17, the gateway §1–§6): real MCP servers from npm put behind Tollgate — server-everything over
// stdio and over its Streamable HTTP mode, server-memory over stdio, and an official SDK v2 server that trusts only
// the forwarded JWT (verified against Tollgate's JWKS). The official SDK clients list and call their tools through
// Tollgate (metered), read resources and prompts on an upstream's own URL, and see: a token for one upstream refused
// by another (RFC 8707), no client token ever reaching an upstream, an upstream killed mid-call (clear error, refund,
// circuit breaker, recovery), a crashed stdio upstream restarted, a timeout refunded, a price change and a removal
// taking effect without a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken, type MintedToken } from './helpers/tokens.ts';
import { callTool, legacyCall, mcpRequest, modernCall } from './helpers/mcp-http.ts';
import { startJwtUpstream, type JwtUpstream } from './helpers/jwt-upstream.ts';
import { ROOT } from './helpers/cli.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/server.ts';
import { authorizeUrl, obtainTokens, pkcePair, registerClient } from './helpers/oauth-flow.ts';
import { getPage, postForm, signIn, submit, textOf as pageText } from './helpers/web-pages.ts';

const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const MEMORY = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
// server-everything's HTTP mode listens on a fixed PORT (it cannot report an ephemeral one): a free one of the test
// range 41000–41099, starting from one that depends on the process so that parallel runs rarely probe the same.
async function freeTestPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 41000 + ((process.pid + i) % 100);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createNetServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 41000–41099');
}
let EVERYTHING_HTTP_PORT = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, last?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last()}` : ''}`);
    await sleep(50);
  }
}

function startEverythingHttp(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { PATH: process.env.PATH, PORT: String(EVERYTHING_HTTP_PORT) }, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (c) => {
      err += c;
      if (/listening on port/i.test(err)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server-everything (HTTP) exited ${code}: ${err.slice(0, 300)}`)));
  });
}

/** An upstream that speaks MCP until a tool is called, then answers garbage (of the kind `mode` names). */
function startGarbageUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const msg = body ? JSON.parse(body) : {};
    const reply = (result: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
    if (msg.method === 'initialize') return reply({ protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'garbage', version: '1' } });
    if (msg.id === undefined) return res.writeHead(202).end();
    if (msg.method === 'tools/list') return reply({ tools: [{ name: 'broken', inputSchema: { type: 'object', properties: { mode: { type: 'string' } } } }] });
    switch (msg.params?.arguments?.mode) {
      case 'json':
        return res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0", this is not json');
      case 'shape':
        return reply({ content: 'not an array' });
      default:
        return res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal Server Error</h1><pre>stack trace with /srv/secret/path</pre>');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  })));
}

const textOf = (result: any): string => (result?.content ?? []).map((c: any) => c.text ?? '').join('\n');

describe('gateway: real upstream MCP servers behind Tollgate', () => {
  let srv: TestServer;
  let jwt: JwtUpstream;
  let http: ChildProcess | undefined;
  let dir: string;
  let ws: MintedToken;
  let mcpUrl: string;

  const balance = async () => (await srv.services.credits.getAccount(ws.workspaceId)).balance;
  const toolNames = async (url: string, token: string): Promise<string[]> => ((await legacyCall(url, token, 'tools/list')).body?.result?.tools ?? []).map((t: any) => t.name);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-gw-'));
    EVERYTHING_HTTP_PORT = await freeTestPort();
    srv = await startTestServer({
      env: { TOLLGATE_DEMO: 'false', TOLLGATE_GATEWAY_POLL_MS: '100', TOLLGATE_GATEWAY_BREAKER_FAILURES: '3', TOLLGATE_GATEWAY_BREAKER_COOLDOWN_MS: '600', TOLLGATE_INITIAL_CREDITS: '10000' },
    });
    [jwt, http] = await Promise.all([startJwtUpstream(srv.url), startEverythingHttp()]);
    const store = srv.services.gateway.store;
    await store.addUpstream({ name: 'everything', target: { transport: 'stdio', command: [process.execPath, EVERYTHING, 'stdio'], env: {} }, defaultPrice: 2, timeoutMs: null });
    await store.addUpstream({ name: 'memory', target: { transport: 'stdio', command: [process.execPath, MEMORY], env: { MEMORY_FILE_PATH: path.join(dir, 'memory.jsonl') } }, defaultPrice: 1, timeoutMs: null });
    await store.addUpstream({ name: 'evhttp', target: { transport: 'http', url: `http://127.0.0.1:${EVERYTHING_HTTP_PORT}/mcp`, headers: { 'X-Api-Key': 'sk-upstream-shared-secret' } }, defaultPrice: 3, timeoutMs: null });
    await store.addUpstream({ name: 'jwt', target: { transport: 'http', url: jwt.url, headers: {} }, defaultPrice: 1, timeoutMs: 1500 });
    ws = await mintAccessToken(srv.services);
    mcpUrl = `${srv.url}/demo/mcp`;
    let names: string[] = [];
    await until('every upstream\'s tools on the workspace endpoint', async () => {
      names = await toolNames(mcpUrl, ws.accessToken);
      return ['everything__echo', 'memory__read_graph', 'evhttp__echo', 'jwt__whoami'].every((n) => names.includes(n)) ? names : undefined;
    }, 60_000).catch((err) => {
      throw new Error(`${err.message}: listed ${names.join(' ')}; log: ${srv.logs.filter((l) => /upstream/.test(l)).slice(-8).join('\n')}`);
    });
  });

  after(async () => {
    await srv?.stop();
    await jwt?.close();
    http?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('the demo CRM is off with TOLLGATE_DEMO=false: only the credits tools and the upstreams\' are listed', async () => {
    const names = await toolNames(mcpUrl, ws.accessToken);
    assert.ok(!names.includes('search_contacts'));
    assert.ok(names.includes('check_credit_balance'));
  });

  test('an SDK v2 client lists and calls upstream tools (echo, add, a long-running one) through the workspace endpoint, metered', async () => {
    const client = new ClientV2({ name: 'gw-v2', version: '1.0.0' });
    await client.connect(new TransportV2(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${ws.accessToken}` } } }));
    try {
      const { tools } = await client.listTools();
      const sum = tools.find((t) => t.name === 'everything__get-sum')!;
      assert.equal(sum._meta?.['tollgate/price'], 2);
      // readOnlyHint: true → mcp:read; anything else → mcp:write.
      const upstreamTools = tools.filter((t) => t.name.startsWith('everything__'));
      for (const t of upstreamTools) assert.equal(t._meta?.['tollgate/scope'], t.annotations?.readOnlyHint === true ? 'mcp:read' : 'mcp:write', t.name);
      assert.ok(upstreamTools.some((t) => t._meta?.['tollgate/scope'] === 'mcp:read') && upstreamTools.some((t) => t._meta?.['tollgate/scope'] === 'mcp:write'));
      const before = await balance();
      assert.equal(textOf(await client.callTool({ name: 'everything__echo', arguments: { message: 'through the gate' } })), 'Echo: through the gate');
      assert.match(textOf(await client.callTool({ name: 'everything__get-sum', arguments: { a: 19, b: 23 } })), /42/);
      assert.match(textOf(await client.callTool({ name: 'evhttp__get-sum', arguments: { a: 1, b: 2 } })), /3/);
      const long = await client.callTool({ name: 'everything__trigger-long-running-operation', arguments: { duration: 0.4, steps: 2 } });
      assert.match(textOf(long), /completed/i);
      assert.equal(await balance(), before - 2 - 2 - 3 - 2);
    } finally {
      await client.close();
    }
  });

  test('progress of a long-running upstream tool is relayed to the client as SSE, then the result (stdio and HTTP upstreams)', async () => {
    const client = new ClientV1({ name: 'gw-progress', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${ws.accessToken}` } } }));
    try {
      for (const tool of ['everything__trigger-long-running-operation', 'evhttp__trigger-long-running-operation']) {
        const seen: { progress: number; total?: number }[] = [];
        const result = await client.callTool({ name: tool, arguments: { duration: 0.6, steps: 3 } }, undefined, { onprogress: (p) => void seen.push(p) });
        assert.match(textOf(result), /completed/i, tool);
        assert.deepEqual(seen.map((p) => p.progress), [1, 2, 3], tool);
        assert.equal(seen[0].total, 3);
      }
    } finally {
      await client.close();
    }
  });

  test('server-memory over stdio keeps what it is told', async () => {
    const created = await callTool(mcpUrl, ws.accessToken, 'memory__create_entities', { entities: [{ name: 'Tollgate', entityType: 'gateway', observations: ['fronts MCP servers'] }] });
    assert.notEqual(created.body.result.isError, true, created.text);
    const graph = await callTool(mcpUrl, ws.accessToken, 'memory__read_graph', {});
    assert.match(graph.text, /fronts MCP servers/);
  });

  test('an upstream\'s own URL serves its tools under their own names, and passes resources and prompts through (SDK v1 client)', async () => {
    const own = await mintAccessToken(srv.services, { resource: `${srv.url}/demo/mcp/everything` });
    const client = new ClientV1({ name: 'gw-v1', version: '1.0.0' });
    await client.connect(new TransportV1(new URL(`${srv.url}/demo/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${own.accessToken}` } } }));
    try {
      const caps = client.getServerCapabilities();
      assert.ok(caps?.resources && caps?.prompts && caps?.tools);
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'));
      assert.ok(!tools.some((t) => t.name.startsWith('memory__') || t.name === 'check_credit_balance'));
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { message: 'own url' } })), 'Echo: own url');
      // Charged and charted under the same name as on the workspace endpoint.
      const latest = (await srv.services.credits.listLedger(ws.workspaceId, { limit: 1 })).entries[0];
      assert.equal(latest.tool, 'everything__echo');
      const { resources } = await client.listResources();
      assert.ok(resources.length > 0);
      const read = await client.readResource({ uri: resources[0].uri });
      assert.ok(read.contents.length > 0);
      const { prompts } = await client.listPrompts();
      assert.ok(prompts.some((p) => p.name === 'simple-prompt'));
      const prompt = await client.getPrompt({ name: 'simple-prompt', arguments: {} });
      assert.ok(prompt.messages.length > 0);
    } finally {
      await client.close();
    }
    // memory has no prompts: its own URL does not advertise them, and prompts/list is not a method there.
    const mem = await mintAccessToken(srv.services, { resource: `${srv.url}/demo/mcp/memory` });
    const init = await legacyCall(`${srv.url}/demo/mcp/memory`, mem.accessToken, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } });
    assert.ok(init.body.result.capabilities.tools);
    assert.equal(init.body.result.capabilities.prompts, undefined);
    const modern = await modernCall(`${srv.url}/demo/mcp/memory`, mem.accessToken, 'prompts/list');
    assert.equal(modern.body.error.code, -32601);
  });

  test('RFC 8707: a token for upstream A is refused by upstream B and by the workspace endpoint, and the reverse', async () => {
    const a = await mintAccessToken(srv.services, { resource: `${srv.url}/demo/mcp/everything` });
    for (const url of [`${srv.url}/demo/mcp/memory`, mcpUrl]) {
      const r = await legacyCall(url, a.accessToken, 'tools/list');
      assert.equal(r.status, 401, url);
      assert.match(r.headers.get('www-authenticate') ?? '', /invalid_token/);
    }
    const r = await legacyCall(`${srv.url}/demo/mcp/everything`, ws.accessToken, 'tools/list');
    assert.equal(r.status, 401);
    // Its own protected-resource metadata names its own resource.
    const prm = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource/demo/mcp/everything`)).json();
    assert.equal(prm.resource, `${srv.url}/demo/mcp/everything`);
    // An upstream that is not configured is not an endpoint.
    const none = await mintAccessToken(srv.services, { resource: `${srv.url}/demo/mcp/nosuch` });
    assert.equal((await legacyCall(`${srv.url}/demo/mcp/nosuch`, none.accessToken, 'tools/list')).status, 404);
  });

  test('RFC 8707 at /authorize: a client gets a token for a served upstream\'s own endpoint, and invalid_target for one not served', async () => {
    const resource = `${srv.url}/demo/mcp/memory`;
    const { tokens } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource });
    assert.equal((await legacyCall(resource, tokens.access_token, 'tools/list')).status, 200);
    const redirectUri = 'http://127.0.0.1:9/callback';
    const client = await registerClient(srv.url, { client_name: 'Gateway test', redirect_uris: [redirectUri] });
    const res = await fetch(authorizeUrl(srv.url, { client_id: client.client_id, redirect_uri: redirectUri, code_challenge: pkcePair().challenge, resource: `${srv.url}/demo/mcp/nosuch`, state: 'st' }), { redirect: 'manual' });
    const back = new URL(res.headers.get('location') ?? 'http://none/');
    assert.equal(back.searchParams.get('error'), 'invalid_target');
    assert.match(back.searchParams.get('error_description') ?? '', /no MCP server named nosuch/);
  });

  test('W3C trace context: a caller\'s traceparent reaches the upstream with the call', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
    const r = await mcpRequest(mcpUrl, { token: ws.accessToken, headers: { 'mcp-protocol-version': '2025-11-25', traceparent }, body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'jwt__whoami', arguments: {} } } });
    assert.equal(r.status, 200);
    assert.ok(jwt.traceparents.some((t) => t.split('-')[1] === traceId), `the upstream saw ${JSON.stringify(jwt.traceparents)}`);
  });

  test('no token passthrough: the upstream gets a signed JWT for the caller, verifies it against the JWKS, never sees the client token', async () => {
    const r = await callTool(mcpUrl, ws.accessToken, 'jwt__whoami', {});
    const claims = r.body.result.structuredContent;
    assert.equal(claims.sub, ws.userId);
    assert.equal(claims.workspace, 'demo');
    assert.equal(claims.workspace_id, ws.workspaceId);
    assert.equal(claims.gid, ws.grantId);
    assert.equal(claims.client_id, 'test-client');
    assert.equal(claims.aud, jwt.url);
    assert.match(claims.scope, /mcp:read/);
    assert.ok(typeof claims.jti === 'string' && claims.jti.length > 8);
    assert.ok(jwt.authorizations.length > 0);
    assert.ok(jwt.authorizations.every((a) => a.startsWith('Bearer ') && !a.includes(ws.accessToken)));
    assert.equal(jwt.refused, 0);
    // The shared secret is sealed at rest and never logged.
    const row = await srv.services.store.db.selectFrom('gateway_upstreams').select('headers_sealed').where('name', '=', 'evhttp').executeTakeFirst();
    assert.ok(row?.headers_sealed && !row.headers_sealed.includes('sk-upstream-shared-secret'));
    assert.ok(!srv.logs.some((l) => l.includes('sk-upstream-shared-secret') || l.includes(ws.accessToken)));
  });

  test('an upstream that speaks only 2026-07-28 (no initialize, no session) is reached too, from a 2025-era client', async () => {
    const modern = await startJwtUpstream(srv.url, { modernOnly: true });
    try {
      await srv.services.gateway.store.addUpstream({ name: 'modern', target: { transport: 'http', url: modern.url, headers: {} }, defaultPrice: 1, timeoutMs: null });
      await until('modern listed', async () => ((await toolNames(mcpUrl, ws.accessToken)).includes('modern__whoami') ? true : undefined));
      const r = await callTool(mcpUrl, ws.accessToken, 'modern__whoami', {}, '2025-06-18');
      assert.notEqual(r.body.result.isError, true, r.text);
      assert.equal(r.body.result.structuredContent.sub, ws.userId);
      assert.equal(r.body.result.structuredContent.aud, modern.url);
      assert.equal(modern.refused, 0);
    } finally {
      await srv.services.gateway.store.removeUpstream('modern');
      await modern.close();
    }
  });

  test('notifications/cancelled from the client cancels the upstream call: it ends at once, refunded', async () => {
    for (const tool of ['everything__trigger-long-running-operation', 'evhttp__trigger-long-running-operation']) {
      const before = await balance();
      const started = Date.now();
      const pending = legacyCall(mcpUrl, ws.accessToken, 'tools/call', { name: tool, arguments: { duration: 8, steps: 4 } }, '2025-11-25', 'call-77');
      await sleep(500);
      const note = await mcpRequest(mcpUrl, { token: ws.accessToken, body: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'call-77', reason: 'user pressed stop' } }, headers: { 'mcp-protocol-version': '2025-11-25' } });
      assert.equal(note.status, 202);
      const r = await pending;
      assert.ok(Date.now() - started < 6000, `${tool} ended at once`);
      assert.equal(r.body.result.isError, true, tool);
      assert.match(textOf(r.body.result), /was cancelled by the client/, tool);
      assert.equal(await balance(), before, tool);
    }
  });

  test('a slow upstream times out: a tool error naming the upstream and the request id, refunded', async () => {
    const before = await balance();
    const r = await callTool(mcpUrl, ws.accessToken, 'jwt__slow', { ms: 3000 });
    assert.equal(r.status, 200);
    assert.equal(r.body.result.isError, true);
    assert.match(textOf(r.body.result), /upstream jwt did not answer within 1500 ms; request id \S+/);
    assert.ok(textOf(r.body.result).includes(r.headers.get('x-request-id') ?? '(no request id header)'));
    assert.equal(await balance(), before);
  });

  test('an HTTP upstream killed mid-call: clear error and refund, then the circuit breaker, then recovery', async () => {
    const before = await balance();
    const pending = callTool(mcpUrl, ws.accessToken, 'evhttp__trigger-long-running-operation', { duration: 5, steps: 5 });
    await sleep(400);
    http!.kill('SIGKILL');
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body.result.isError, true);
    assert.match(textOf(r.body.result), /The upstream evhttp .*request id/);
    assert.equal(await balance(), before, 'the failed call is refunded');
    // Down: two more failures open the breaker (3 in a row), which then answers at once without calling.
    for (let i = 0; i < 2; i++) assert.match(textOf((await callTool(mcpUrl, ws.accessToken, 'evhttp__echo', { message: 'x' })).body.result), /evhttp is unreachable/);
    const open = await callTool(mcpUrl, ws.accessToken, 'evhttp__echo', { message: 'x' });
    assert.match(textOf(open.body.result), /circuit breaker open/);
    assert.equal(await balance(), before);
    // Back up (a new process: the old session is gone, so Tollgate re-initialises on its 404).
    http = await startEverythingHttp();
    let seen = '';
    const ok = await until('evhttp answering again', async () => {
      const res = await callTool(mcpUrl, ws.accessToken, 'evhttp__echo', { message: 'back' });
      seen = res.text;
      return res.body.result.isError ? undefined : res;
    }, 20_000, () => seen);
    assert.equal(textOf(ok.body.result), 'Echo: back');
  });

  test('an upstream answering garbage (invalid JSON, a malformed result, HTTP 500): tool errors, refunded, never a 500 or its internals', async () => {
    const garbage = await startGarbageUpstream();
    try {
      await srv.services.gateway.store.addUpstream({ name: 'garbage', target: { transport: 'http', url: garbage.url, headers: {} }, defaultPrice: 4, timeoutMs: null });
      await until('garbage listed', async () => ((await toolNames(mcpUrl, ws.accessToken)).includes('garbage__broken') ? true : undefined));
      const before = await balance();
      const expected: Record<string, RegExp> = { json: /garbage answered with invalid JSON/, shape: /garbage answered tools\/call with something that is not a tool result/, html: /garbage answered HTTP 500/ };
      for (const [mode, message] of Object.entries(expected)) {
        const r = await callTool(mcpUrl, ws.accessToken, 'garbage__broken', { mode });
        assert.equal(r.status, 200, mode);
        assert.equal(r.body.result.isError, true, mode);
        assert.match(textOf(r.body.result), message, mode);
        assert.match(textOf(r.body.result), /request id \S+/);
        assert.doesNotMatch(r.text, /secret\/path|Internal Server Error/);
      }
      // Three failures in a row: the circuit opens and says so.
      assert.match(textOf((await callTool(mcpUrl, ws.accessToken, 'garbage__broken', { mode: 'json' })).body.result), /circuit breaker open/);
      assert.equal(await balance(), before);
      // Anonymous and bad-token requests to an upstream's own URL get RFC 6750 challenges naming its own metadata.
      const anon = await legacyCall(`${srv.url}/demo/mcp/garbage`, '', 'tools/list');
      assert.equal(anon.status, 401);
      assert.equal(anon.headers.get('www-authenticate'), `Bearer resource_metadata="${srv.url}/.well-known/oauth-protected-resource/demo/mcp/garbage"`);
      const bad = await legacyCall(`${srv.url}/demo/mcp/garbage`, 'not-a-token', 'tools/list');
      assert.equal(bad.status, 401);
      assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      const otherWs = await legacyCall(`${srv.url}/nosuch/mcp/garbage`, ws.accessToken, 'tools/list');
      assert.equal(otherWs.status, 404);
    } finally {
      await srv.services.gateway.store.removeUpstream('garbage');
      await garbage.close();
    }
  });

  test('a crashed stdio upstream is restarted with backoff, and serves again', async () => {
    const pid = srv.services.gateway.health().find((h) => h.name === 'everything')?.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    let seen = '';
    const ok = await until('everything restarted', async () => {
      const res = await callTool(mcpUrl, ws.accessToken, 'everything__echo', { message: 'again' });
      seen = res.text;
      return res.body.result.isError ? undefined : res;
    }, 20_000, () => seen);
    assert.equal(textOf(ok.body.result), 'Echo: again');
    assert.notEqual(srv.services.gateway.health().find((h) => h.name === 'everything')?.pid, pid);
  });

  test('a price change and a removal take effect within seconds, without a restart', async () => {
    await srv.services.gateway.store.setToolPrice('everything', 'echo', 7);
    await until('the new price listed', async () => {
      const tools = (await legacyCall(mcpUrl, ws.accessToken, 'tools/list')).body.result.tools;
      return tools.find((t: any) => t.name === 'everything__echo')?._meta['tollgate/price'] === 7 ? true : undefined;
    });
    const before = await balance();
    await callTool(mcpUrl, ws.accessToken, 'everything__echo', { message: 'pricey' });
    assert.equal(await balance(), before - 7);
    await srv.services.gateway.store.removeUpstream('memory');
    await until('memory gone', async () => ((await toolNames(mcpUrl, ws.accessToken)).some((n) => n.startsWith('memory__')) ? undefined : true));
    const mem = await mintAccessToken(srv.services, { resource: `${srv.url}/demo/mcp/memory` });
    assert.equal((await legacyCall(`${srv.url}/demo/mcp/memory`, mem.accessToken, 'tools/list')).status, 404);
  });

  test('the admin page lists upstreams and tools, adds, prices and removes them; secrets never shown; CSRF and bad input refused', async () => {
    const jar = await signIn(srv.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const page = await getPage(jar, `${srv.url}/admin/upstreams`);
    assert.equal(page.status, 200);
    const text = pageText(page.body);
    assert.match(text, /evhttp/);
    assert.match(text, /X-Api-Key/);
    assert.match(text, /everything__get-sum/);
    assert.ok(!page.body.includes('sk-upstream-shared-secret'));
    // Authorization is Tollgate's: refused on the page (400), nothing added.
    const refused = await submit(jar, `${srv.url}/admin/upstreams`, '/admin/upstreams', { name: 'web', url: 'http://127.0.0.1:9/mcp', headers: 'Authorization: Bearer x', command: '', env: '', price: '1' });
    assert.equal(refused.status, 400);
    assert.match(pageText(refused.body), /carries the forwarded JWT/);
    // A web session never makes the server run a program: stdio is CLI-only.
    const stdio = await submit(jar, `${srv.url}/admin/upstreams`, '/admin/upstreams', { name: 'web', url: '', command: 'touch /tmp/pwned', price: '1' });
    assert.equal(stdio.status, 400);
    assert.match(pageText(stdio.body), /tollgate upstream add/);
    const added = await submit(jar, `${srv.url}/admin/upstreams`, '/admin/upstreams', { name: 'web', url: 'http://127.0.0.1:9/mcp', headers: 'X-Token: web-secret-value', command: '', env: '', price: '3' });
    assert.equal(added.status, 303);
    assert.equal((await srv.services.gateway.store.getUpstream('web'))?.defaultPrice, 3);
    const after = await getPage(jar, `${srv.url}/admin/upstreams?done=added`);
    assert.ok(!after.body.includes('web-secret-value'));
    const priced = await submit(jar, `${srv.url}/admin/upstreams`, '/admin/upstreams/everything/price', { tool: 'get-sum', price: '9' });
    assert.equal(priced.status, 303);
    assert.equal((await srv.services.gateway.store.listTools('everything')).find((t) => t.definition.name === 'get-sum')?.price, 9);
    // Without the CSRF token nothing happens.
    const forged = await postForm(jar, `${srv.url}/admin/upstreams/web/remove`, {});
    assert.notEqual(forged.status, 303);
    assert.ok(await srv.services.gateway.store.getUpstream('web'));
    const removed = await submit(jar, `${srv.url}/admin/upstreams`, '/admin/upstreams/web/remove');
    assert.equal(removed.status, 303);
    assert.equal(await srv.services.gateway.store.getUpstream('web'), undefined);
    // Not an operator's session: no page.
    assert.notEqual((await fetch(`${srv.url}/admin/upstreams`, { redirect: 'manual' })).status, 200);
  });
});
