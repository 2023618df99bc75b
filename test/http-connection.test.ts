// Requirements (defects issue, items 2 and 3): a body over the limit gets 413 with `Connection: close` (RFC 9112
// §9.6), so the client's next request goes on a fresh connection instead of dying on a closed one — on /token,
// /register, /login and the MCP endpoint; a client that hangs up mid-body is logged as a client abort (info, no
// stack), never as an unhandled server error or a 500.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';

let srv: TestServer;
let token: string;
before(async () => {
  srv = await startTestServer({ env: { TOLLGATE_BODY_LIMIT_BYTES: '2048' } });
  token = (await mintAccessToken(srv.services)).accessToken;
});
after(async () => srv.stop());

function send(agent: Agent, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: Record<string, unknown>; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.url}${path}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_MCP = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

test('a body over the limit: 413 with Connection: close, and the next request on the same agent succeeds', async () => {
  const big = 'x'.repeat(64 * 1024);
  for (const [path, headers, next] of [
    ['/token', FORM, 'grant_type=refresh_token&client_id=nobody&refresh_token=x'],
    ['/register', { 'content-type': 'application/json' }, '{"redirect_uris":["http://127.0.0.1/cb"]}'],
    ['/login', FORM, 'email=a%40b.example&password=x'],
    ['/demo/mcp', { ...JSON_MCP, authorization: `Bearer ${token}` }, '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'],
  ] as const) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Warm the connection so that the oversized request travels on a kept-alive socket.
      await send(agent, path, headers, next);
      const refused = await send(agent, path, headers, `${path === '/register' || path === '/demo/mcp' ? '{"a":"' : 'a='}${big}`);
      assert.equal(refused.status, 413, path);
      assert.equal(refused.headers.connection, 'close', `${path}: the 413 says the connection ends`);
      const after = await send(agent, path, headers, next);
      assert.notEqual(after.status, 413, `${path}: the next request is answered`);
      assert.equal(after.reused, false, `${path}: on a fresh connection`);
    } finally {
      agent.destroy();
    }
  }
});

/** Sends the headers and part of the body, then hangs up. */
function hangUpMidBody(path: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(srv.url);
    const socket = connect(Number(port), '127.0.0.1', () => {
      const head = Object.entries({ host: `127.0.0.1:${port}`, ...headers, 'content-length': '1500' }).map(([k, v]) => `${k}: ${v}`).join('\r\n');
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n\r\n{"client_name":"half`);
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
    socket.on('error', reject);
  });
}

test('a client that hangs up mid-body is a client abort in the log, not an unhandled error or a 500', async () => {
  const before = srv.logs.length;
  await hangUpMidBody('/register', { 'content-type': 'application/json' });
  await hangUpMidBody('/demo/mcp', { ...JSON_MCP, authorization: `Bearer ${token}` });
  await hangUpMidBody('/token', FORM);
  await new Promise((r) => setTimeout(r, 300));
  const lines = srv.logs.slice(before).map((l) => JSON.parse(l) as { level: string; msg: string; status?: number; err?: unknown; path?: string });
  assert.deepEqual(lines.filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 'warn'), [], 'no error-level line');
  assert.ok(!lines.some((l) => l.msg === 'request' && (l.status ?? 0) >= 500), 'no 5xx in the request log');
  const aborts = lines.filter((l) => /client closed/.test(l.msg));
  assert.deepEqual(aborts.map((l) => l.path).sort(), ['/demo/mcp', '/register', '/token']);
  assert.ok(aborts.every((l) => l.level === 'info' && l.err === undefined), `at info, without a stack: ${JSON.stringify(aborts)}`);
});
