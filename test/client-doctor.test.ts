// `tollgate doctor <url>`: against Tollgate every client sequence passes; against a small server with deliberate
// interop mistakes each client's first divergence is reported and the exit code is 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { runCli as run } from './helpers/cli.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Node's compile cache (stripped TypeScript and bytecode) shortens each CLI start.
// A loaded machine can make one run take long; the default 30 s kill would read as a failure.
const runCli = (args: string[]) => run(args, { env: { NODE_COMPILE_CACHE: path.join(tmpdir(), 'tollgate-test-compile-cache') }, timeoutMs: 120_000 });

let tollgate: TestServer;
let broken: Server;
let brokenUrl: string;

/**
 * An MCP server with one typical mistake per client: auth checked after method dispatch (GET → 405), an error code
 * on the anonymous challenge, a trailing slash on the PRM resource, authorization-server metadata only under the
 * issuer's path, no CORS, an authorization request without scope refused, a registration endpoint that refuses private-use schemes, unknown scopes refused.
 */
function startBrokenServer(): Promise<void> {
  broken = createServer((req, res) => {
    const origin = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    const url = new URL(req.url ?? '/', origin);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const challenge = { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` };
      if (url.pathname === '/mcp' || url.pathname === '/mcp/') {
        if (req.method === 'GET') return json(405, { error: 'method not allowed' });
        return json(401, { error: 'unauthorized' }, challenge);
      }
      if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
        return json(200, { resource: `${origin}/mcp/`, authorization_servers: [`${origin}/auth`], scopes_supported: ['mcp'] });
      }
      if (url.pathname === '/.well-known/oauth-authorization-server/auth') {
        return json(200, {
          issuer: `${origin}/auth`,
          authorization_endpoint: `${origin}/auth/authorize`,
          token_endpoint: `${origin}/auth/token`,
          registration_endpoint: `${origin}/auth/register`,
          code_challenge_methods_supported: ['S256'],
          scopes_supported: ['mcp'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
        });
      }
      if (url.pathname === '/auth/register' && req.method === 'POST') {
        const meta = JSON.parse(body) as { redirect_uris: string[] };
        if (meta.redirect_uris.some((u) => !/^https?:/.test(u))) return json(400, { error: 'invalid_redirect_uri', error_description: 'redirect URIs must be http or https' });
        return json(201, { client_id: `c${Math.random().toString(36).slice(2)}`, redirect_uris: meta.redirect_uris });
      }
      if (url.pathname === '/auth/authorize') {
        const scope = url.searchParams.get('scope') ?? '';
        // "scope must not be empty": what broke ChatGPT's reconnect (it authorizes again without scope).
        if (!scope) return res.writeHead(302, { location: `${url.searchParams.get('redirect_uri')}?error=invalid_request&error_description=scope+is+required&state=${url.searchParams.get('state')}` }).end();
        if (scope.split(' ').some((s) => s && s !== 'mcp')) {
          return res.writeHead(302, { location: `${url.searchParams.get('redirect_uri')}?error=invalid_scope&state=${url.searchParams.get('state')}` }).end();
        }
        return res.writeHead(302, { location: '/login' }).end();
      }
      if (url.pathname === '/auth/token') return json(400, { error: 'invalid_grant' });
      json(404, { error: 'not_found' });
    });
  });
  return new Promise((r) => broken.listen(0, '127.0.0.1', () => r()));
}

before(async () => {
  [tollgate] = await Promise.all([startTestServer(), startBrokenServer()]);
  brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/mcp`;
});
after(async () => {
  await tollgate?.stop();
  await new Promise((r) => broken?.close(r));
});

/** The outcome of each client in the text report: ✓/✗ and its first divergence. */
function outcomes(report: string): Map<string, { ok: boolean; divergence?: string }> {
  const out = new Map<string, { ok: boolean; divergence?: string }>();
  let current: { ok: boolean; divergence?: string } | undefined;
  for (const line of report.split('\n')) {
    const client = /^([✓✗]) (.+?) — /.exec(line);
    if (client) out.set(client[2], (current = { ok: client[1] === '✓' }));
    const d = /^\s+first divergence: (.*)$/.exec(line);
    if (d && current) current.divergence = d[1];
  }
  return out;
}

test('against Tollgate every client sequence passes (per-workspace and shared endpoints)', async () => {
  for (const url of [`${tollgate.url}/demo/mcp`, `${tollgate.url}/mcp`]) {
    // A generous per-request timeout: a loaded test machine must not read as a slow server.
    const r = await runCli(['doctor', url, '--timeout', '60']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const o = outcomes(r.stdout);
    assert.deepEqual([...o.keys()], ['MCP SDKs (TypeScript, Python) and the spec', 'Claude Code', 'claude.ai and Claude Desktop connectors', 'ChatGPT connectors (developer mode, apps)', 'VS Code', 'Cursor', 'mcp-remote', 'MCP Inspector (browser)', 'Every client: endpoint hygiene']);
    assert.ok([...o.values()].every((c) => c.ok), r.stdout);
    assert.match(r.stdout, /All 9 client sequences pass/);
    assert.doesNotMatch(r.stdout, /✗/);
    // RFC 7592: every client the run registered is deleted again.
    assert.match(r.stdout, /9 clients registered, 9 deleted again \(RFC 7592\)/);
  }
  const left = (await tollgate.services.oauth.clients.listClients({ kind: 'dynamic' })).filter((c) => c.name.endsWith('(tollgate doctor)'));
  assert.deepEqual(left.map((c) => c.name), [], 'no "(tollgate doctor)" client is left on the server');
});

test('against a broken server: the first divergence of each client, a passing client still listed, exit 1', async () => {
  const r = await runCli(['doctor', brokenUrl]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const o = outcomes(r.stdout);
  const expect: Record<string, RegExp | null> = {
    'MCP SDKs (TypeScript, Python) and the spec': /GET without a token → 405/,
    'Claude Code': /oauth-authorization-server → 404/,
    'claude.ai and Claude Desktop connectors': /error=invalid_scope .*scope="claudeai"/,
    'ChatGPT connectors (developer mode, apps)': /error=invalid_request \(scope is required\) for .*no scope/,
    'VS Code': /resource is ".*\/mcp\/", the client used ".*\/mcp"/,
    Cursor: /400 invalid_redirect_uri/,
    'mcp-remote': null,
    'MCP Inspector (browser)': /no Access-Control-Allow-Origin/,
    'Every client: endpoint hygiene': /anonymous request got error="invalid_token"/,
  };
  for (const [client, divergence] of Object.entries(expect)) {
    const got = o.get(client);
    assert.ok(got, `${client} is in the report`);
    if (divergence === null) assert.equal(got.ok, true, `${client} passes:\n${r.stdout}`);
    else {
      assert.equal(got.ok, false, client);
      assert.match(got.divergence ?? '', divergence, `${client}: ${got.divergence}`);
    }
  }
  // Passing steps are listed before the divergence; later steps are counted, not run.
  assert.match(r.stdout, /✓ authorization-server metadata \(path-aware variants, then the root\)/);
  assert.match(r.stdout, /later steps? not run/);
  assert.match(r.stdout, /8 of 9 client sequences diverge/);
  assert.match(r.stdout, /clients registered, 0 deleted again; the server offers no RFC 7592 deletion, so they are named "… \(tollgate doctor\)"/);
});

test('a challenge without resource_metadata is judged alike on POST, GET and DELETE: the first divergence is the real one', async () => {
  // Every method gets a bare `Bearer` challenge (allowed: clients fall back to the well-known URLs); the metadata has
  // no registration endpoint, which is where an SDK client really gets stuck.
  const quiet = createServer((req, res) => {
    const origin = `http://127.0.0.1:${(quiet.address() as AddressInfo).port}`;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', origin).pathname;
      if (path === '/mcp') return json(401, { error: 'unauthorized' }, { 'www-authenticate': req.headers.authorization ? 'Bearer error="invalid_token"' : 'Bearer' });
      if (path === '/.well-known/oauth-protected-resource/mcp') return json(200, { resource: `${origin}/mcp`, authorization_servers: [origin] });
      if (path === '/.well-known/oauth-authorization-server') {
        return json(200, { issuer: origin, authorization_endpoint: `${origin}/authorize`, token_endpoint: `${origin}/token`, code_challenge_methods_supported: ['S256'] });
      }
      json(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((r) => quiet.listen(0, '127.0.0.1', r));
  try {
    const r = await runCli(['doctor', `http://127.0.0.1:${(quiet.address() as AddressInfo).port}/mcp`, '--json', '--client', 'sdk']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const steps = JSON.parse(r.stdout).clients[0].steps as { title: string; status: string; detail?: string }[];
    assert.equal(steps.find((s) => s.title.startsWith('GET and DELETE'))?.status, 'pass', JSON.stringify(steps));
    const failed = steps.find((s) => s.status === 'fail');
    assert.equal(failed?.title, 'dynamic client registration as an SDK client');
    assert.match(failed?.detail ?? '', /no registration_endpoint/);
  } finally {
    await new Promise((r) => quiet.close(r));
  }
});

test('a server that refuses the connection: "no answer", without a hint about 403', async () => {
  // Port 3 on loopback: a privileged port nothing listens on and fetch does not block (as it does 1), which no suite
  // running beside this one can take, as it could an ephemeral port freed just before the run.
  const r = await runCli(['doctor', 'http://127.0.0.1:3/mcp', '--client', 'sdk']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const o = outcomes(r.stdout).get('MCP SDKs (TypeScript, Python) and the spec');
  assert.match(o?.divergence ?? '', /no answer \(ECONNREFUSED\)/);
  assert.doesNotMatch(r.stdout, /403|forbidden/);
});

test('--json gives the same report as data; --client runs a subset; a bad URL is a usage error', async () => {
  const r = await runCli(['doctor', brokenUrl, '--json', '--client', 'vscode', '--client', 'mcp-remote']);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(report.clients.map((c: { id: string; passed: boolean }) => [c.id, c.passed]), [['vscode', false], ['mcp-remote', true]]);
  assert.equal(report.clients[0].steps.find((s: { status: string }) => s.status === 'fail').title, 'PRM resource is byte-identical to the URL the client used (RFC 9728 §3.3)');
  assert.equal((await runCli(['doctor', 'not a url'])).code, 2);
  assert.equal((await runCli(['doctor', brokenUrl, '--client', 'netscape'])).code, 2);
});
