// `tollgate mcp` end to end against Tollgate's own server: headless sign-in by paste-back (the test plays the
// user: it opens the printed URL with the sign-in/consent driver and pastes where the browser ended up), tools,
// a tool call, proactive and reactive refresh, the stdio proxy, sign-out with revocation, re-registration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { registry } from '../src/observability/metrics.ts';
import { runCli as run, CLI, ROOT } from './helpers/cli.ts';
import { approveAuthorization } from './helpers/oauth-flow.ts';
import { CredentialStore, type Credentials } from '../src/client/credential-store.ts';

let srv: TestServer;
let dir: string;
let env: Record<string, string>;
let mcpUrl: string;

before(async () => {
  srv = await startTestServer();
  dir = mkdtempSync(path.join(tmpdir(), 'tollgate-client-'));
  // No display here; TOLLGATE_BROWSER=none makes sure no browser is ever started.
  env = { TOLLGATE_CLIENT_DIR: dir, TOLLGATE_BROWSER: 'none', NODE_COMPILE_CACHE: path.join(tmpdir(), 'tollgate-test-compile-cache') };
  mcpUrl = `${srv.url}/demo/mcp`;
});
after(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A loaded machine can make one CLI run take long; the default 30 s kill would read as a failure.
const runCli = (args: string[], options: { env: Record<string, string>; input?: string }) => run(args, { ...options, timeoutMs: 90_000 });
const store = () => new CredentialStore(dir);
const creds = async (): Promise<Credentials> => {
  const c = await store().readCredentials(mcpUrl);
  assert.ok(c, 'credentials on disk');
  return c;
};
const editCreds = async (fn: (c: Credentials) => void) => {
  const c = await creds();
  fn(c);
  writeFileSync(store().credentialsFile(mcpUrl), JSON.stringify(c));
};

/**
 * Runs `tollgate mcp login <name>` with stdin as a pipe. `answer` gets the printed authorization URL and returns
 * the lines to paste (the test approves the sign-in itself with the driver).
 */
async function login(name: string, answer: (authorizeUrl: string) => Promise<string[]>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'mcp', 'login', name], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let answered = false;
  child.stdout.on('data', (d) => (stdout += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  child.stderr.on('data', (d) => {
    stderr += d;
    const m = /^\s+(http\S+\/authorize\?\S+)$/m.exec(stderr);
    if (m && !answered) {
      answered = true;
      void answer(m[1]).then(
        async (lines) => {
          for (const line of lines) {
            child.stdin.write(line + '\n');
            await new Promise((r) => setTimeout(r, 150));
          }
        },
        (err) => {
          stderr += `\n[test] ${err}`;
          child.kill();
        },
      );
    }
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const approve = (url: string) => approveAuthorization(url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });

test('add, then sign in headless by pasting the full return URL', async () => {
  const added = await runCli(['mcp', 'add', 'demo', '--url', mcpUrl], { env });
  assert.equal(added.code, 0, added.stderr);

  let redirect = '';
  const r = await login('demo', async (url) => {
    const u = new URL(url);
    // What the client asked for: PKCE S256, state, the exact resource, a loopback redirect on 127.0.0.1.
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(u.searchParams.get('state'));
    assert.equal(u.searchParams.get('resource'), mcpUrl);
    assert.match(u.searchParams.get('redirect_uri') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    redirect = (await approve(url)).href;
    return [redirect];
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Signed in to demo/);
  assert.match(r.stderr, /ssh -L \d+:127\.0\.0\.1:\d+/, 'the SSH port-forward hint');
  assert.match(r.stderr, /paste here/);
  // RFC 9207: Tollgate's answer carries iss, which the client checked.
  assert.equal(new URL(redirect).searchParams.get('iss'), srv.config.publicUrl);

  const c = await creds();
  assert.equal(c.issuer, srv.config.publicUrl);
  assert.equal(c.resource, mcpUrl);
  assert.equal(c.client?.source, 'dynamic');
  assert.ok(c.tokens?.refreshToken);
  for (const secret of [c.tokens!.accessToken, c.tokens!.refreshToken!]) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'tokens are never printed');
  }
  if (process.platform !== 'win32') assert.equal(statSync(store().credentialsFile(mcpUrl)).mode & 0o777, 0o600);

  const list = await runCli(['mcp', 'list', '--json'], { env });
  const [entry] = JSON.parse(list.stdout);
  assert.equal(entry.signedIn, true);
  assert.ok(!list.stdout.includes(c.tokens!.accessToken) && !list.stdout.includes('refresh'), '--json carries no credentials');
});

test('tools, and a call with key=value arguments (readable) and --json (raw, no credentials)', async () => {
  const tools = await runCli(['mcp', 'tools', 'demo'], { env });
  assert.equal(tools.code, 0, tools.stderr);
  assert.match(tools.stdout, /^search_contacts {2}— .*\n {4}price: 1 credit · scope: mcp:read$/m);
  assert.match(tools.stdout, /^create_contact {2}— .*\n {4}price: 3 credits · scope: mcp:write$/m);
  assert.match(tools.stdout, /^check_credit_balance {2}— .*\n {4}price: free · scope: mcp:read$/m);
  assert.match(tools.stdout, /limit \(integer\)/);

  const call = await runCli(['mcp', 'call', 'demo', 'search_contacts', 'query=a', 'limit=1'], { env });
  assert.equal(call.code, 0, call.stderr);
  assert.match(call.stdout, /"contacts": \[/, 'JSON text is indented');

  const raw = await runCli(['mcp', 'call', 'demo', 'search_contacts', '--args', '{"limit":2}', '--json'], { env });
  assert.equal(raw.code, 0, raw.stderr);
  const result = JSON.parse(raw.stdout);
  assert.equal(result.structuredContent.contacts.length, 2);
  assert.ok(!raw.stdout.includes((await creds()).tokens!.accessToken));

  const missing = await runCli(['mcp', 'call', 'demo', 'no_such_tool'], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no tool "no_such_tool".*search_contacts/);
});

test('an access token about to expire is refreshed before use; the rotated refresh token is saved', async () => {
  const before = await creds();
  // 30 s left of a one-hour token: inside the refresh margin.
  await editCreds((c) => {
    c.tokens!.expiresAt = Date.now() + 30_000;
    c.tokens!.obtainedAt = c.tokens!.expiresAt - 3600_000;
  });
  const r = await runCli(['mcp', 'call', 'demo', 'check_credit_balance'], { env });
  assert.equal(r.code, 0, r.stderr);
  const after = await creds();
  assert.notEqual(after.tokens!.accessToken, before.tokens!.accessToken);
  assert.notEqual(after.tokens!.refreshToken, before.tokens!.refreshToken);
  assert.ok(after.tokens!.expiresAt! > Date.now() + 600_000);
});

test('a token the server refuses (401) is refreshed transparently and the request retried', async () => {
  const before = await creds();
  await editCreds((c) => (c.tokens!.accessToken = 'eyJhbGciOiJFUzI1NiJ9.e30.invalid'));
  const r = await runCli(['mcp', 'tools', 'demo'], { env });
  assert.equal(r.code, 0, r.stderr);
  const after = await creds();
  assert.notEqual(after.tokens!.refreshToken, before.tokens!.refreshToken);
});

test('the stdio proxy bridges JSON-RPC lines both ways', async (t) => {
  const child = spawn(process.execPath, [CLI, 'mcp', 'proxy', 'demo'], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  const responses: Record<string, any>[] = [];
  const waitFor = (id: number) =>
    new Promise<Record<string, any>>((resolve) => {
      const found = responses.find((m) => m.id === id);
      if (found) return resolve(found);
      lines.on('line', function onLine() {
        const hit = responses.find((m) => m.id === id);
        if (hit) {
          lines.off('line', onLine);
          resolve(hit);
        }
      });
    });
  lines.on('line', (l) => responses.push(JSON.parse(l)));
  const send = (m: object) => child.stdin.write(JSON.stringify(m) + '\n');
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'stdio-test', version: '1' } } });
  const init = await waitFor(1);
  assert.equal(init.result?.serverInfo?.name, 'tollgate', stderr);
  // Tollgate offers 2026-07-28: the proxy answered the stdio client's initialize from server/discover, in the
  // revision the client asked for, and speaks stateless 2026-07-28 to the server (counted by revision below).
  assert.equal(init.result.protocolVersion, '2025-06-18');
  const callsIn2026 = async () => {
    const text = await registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith('tollgate_mcp_tool_calls_total{') && l.includes('tool="check_credit_balance"') && l.includes('revision="2026-07-28"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const before2026 = await callsIn2026();
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'check_credit_balance', arguments: {} } });
  const [list, call] = await Promise.all([waitFor(2), waitFor(3)]);
  assert.ok(list.result.tools.some((t: { name: string }) => t.name === 'search_contacts'));
  assert.equal(call.result.isError, undefined);
  assert.equal(await callsIn2026(), before2026 + 1, 'the proxied tools/call reached the server in 2026-07-28');
  child.stdin.write('not json\n');
  assert.equal((await new Promise<Record<string, any>>((r) => lines.once('line', () => r(responses.at(-1)!)))).error.code, -32700);
  child.stdin.end();
  assert.equal(await new Promise((r) => child.on('close', r)), 0, stderr);
});

test('logout revokes at the server and deletes the local credentials; the proxy then asks for a login', async () => {
  const old = await creds();
  const r = await runCli(['mcp', 'logout', 'demo'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /tokens revoked/);
  assert.equal(await store().readCredentials(mcpUrl), undefined);
  const probe = await fetch(mcpUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${old.tokens!.accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(probe.status, 401, 'the revoked access token no longer works');

  const proxied = await runCli(['mcp', 'proxy', 'demo'], { env, input: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) + '\n' });
  assert.equal(proxied.code, 0);
  const answer = JSON.parse(proxied.stdout.trim());
  assert.equal(answer.id, 7);
  assert.equal(answer.error.code, -32001);
  assert.match(answer.error.message, /run `tollgate mcp login demo`/);

  const tools = await runCli(['mcp', 'tools', 'demo'], { env });
  assert.equal(tools.code, 1);
  assert.match(tools.stderr, /Not signed in.*tollgate mcp login demo/);
});

test('paste-back takes the query string alone; an answer for another sign-in is refused and the prompt waits', async () => {
  const r = await login('demo', async (url) => {
    const back = await approve(url);
    const wrongState = new URL(back);
    wrongState.searchParams.set('state', 'from-another-attempt');
    return [wrongState.href, 'nonsense', back.search];
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /state mismatch/);
  assert.match(r.stderr, /not a callback URL/);
  assert.ok((await creds()).tokens);
});

test('a client the server no longer knows (invalid_client) is registered again at the next sign-in; paste-back of the bare code', async () => {
  const first = (await creds()).client!.clientId;
  await editCreds((c) => {
    c.client!.clientId = 'client-the-server-forgot';
    c.tokens!.expiresAt = Date.now() - 1000;
  });
  const tools = await runCli(['mcp', 'tools', 'demo'], { env });
  assert.equal(tools.code, 1);
  assert.match(tools.stderr, /tollgate mcp login demo/);
  assert.equal((await creds()).client, undefined, 'the dead registration is dropped');

  const r = await login('demo', async (url) => [(await approve(url)).searchParams.get('code')!]);
  assert.equal(r.code, 0, r.stderr);
  const c = await creds();
  assert.ok(c.client && c.client.clientId !== first && c.client.clientId !== 'client-the-server-forgot', 'a new registration');
  const call = await runCli(['mcp', 'call', 'demo', 'check_credit_balance'], { env });
  assert.equal(call.code, 0, call.stderr);
});

test('remove signs out and forgets the server; add refuses plain http to a remote host', async () => {
  const removed = await runCli(['mcp', 'remove', 'demo'], { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(await store().readCredentials(mcpUrl), undefined);
  assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'servers.json'), 'utf8')).servers, {});
  const insecure = await runCli(['mcp', 'add', 'x', '--url', 'http://mcp.example.com/mcp'], { env });
  assert.equal(insecure.code, 1);
  assert.match(insecure.stderr, /plain http/);
  const usage = await runCli(['mcp', 'add', 'x'], { env });
  assert.equal(usage.code, 2);
});

test('a pre-registered client_secret_post client (--client-id/--client-secret): the CLI finds its method (RFC 7591 §2: only the registered one is accepted) and keeps it', async () => {
  const { validateClientMetadata } = await import('../src/oauth/client-metadata.ts');
  const { metadata } = validateClientMetadata({ client_name: 'Pre-registered CLI', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'client_secret_post' });
  const { client, clientSecret } = await srv.services.oauth.clients.createClient(metadata, 'static');
  const added = await runCli(['mcp', 'add', 'pre', '--url', mcpUrl, '--client-id', client.clientId, '--client-secret', clientSecret!], { env });
  assert.equal(added.code, 0, added.stderr);
  const r = await login('pre', async (url) => [(await approve(url)).href]);
  assert.equal(r.code, 0, r.stderr);
  const c = await creds();
  assert.equal(c.client?.source, 'pre-registered');
  assert.equal(c.client?.clientId, client.clientId);
  assert.equal(c.client?.authMethod, 'client_secret_post', 'the method the server accepted is saved');
  assert.ok(!r.stdout.includes(clientSecret!) && !r.stderr.includes(clientSecret!), 'the secret is never printed');
  // A refresh (the token made to look expired) authenticates by client_secret_post straight away.
  await editCreds((x) => {
    x.tokens!.expiresAt = Date.now() - 1000;
  });
  const before = (await creds()).tokens!.refreshToken;
  const call = await runCli(['mcp', 'call', 'pre', 'check_credit_balance'], { env });
  assert.equal(call.code, 0, call.stderr);
  assert.notEqual((await creds()).tokens!.refreshToken, before, 'refreshed');
  const removed = await runCli(['mcp', 'remove', 'pre'], { env });
  assert.equal(removed.code, 0, removed.stderr);
});
