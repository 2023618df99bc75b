// Requirements (issue 22 §3): the device authorization grant (RFC 8628) — the device authorization endpoint, the
// /device page in headless Chromium (the code, the app, the workspace picker; approve and deny), and the token
// endpoint's answers while polling: authorization_pending, slow_down (the interval grows), access_denied,
// expired_token, single use, another client's code. Advertised in metadata.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { postForm, registerClient } from './helpers/oauth-flow.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, ROOT, runCli } from './helpers/cli.ts';
import { forEachDialect } from './helpers/databases.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('OAuth device authorization (RFC 8628) and the /device page', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let srv: TestServer;
  let browser: Browser;
  let clientId: string;

  before(async () => {
    [srv, browser] = await Promise.all([startTestServer(), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    const owner = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    await srv.services.createWorkspace({ slug: 'acme', name: 'Acme Corp', ownerUserId: owner.id });
    clientId = (await registerClient(srv.url, { client_name: 'Terminal CLI', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })).client_id as string;
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  const authorizeDevice = async (form: Record<string, string> = {}) => postForm(`${srv.url}/device_authorization`, { client_id: clientId, ...form });
  const poll = (deviceCode: string, id = clientId) => postForm(`${srv.url}/token`, { grant_type: GRANT, device_code: deviceCode, client_id: id });
  /** Lets the poll interval pass, by moving the last poll back in time (no sleeping in tests). */
  const forgetLastPoll = (deviceCode: string) =>
    srv.services.store.typed<{ oauth_device_codes: { last_poll_at: number | null; device_code_hash: string } }>().updateTable('oauth_device_codes').set({ last_poll_at: null }).where('device_code_hash', '=', sha256(deviceCode)).execute();

  async function signedInPage(): Promise<Page> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${srv.url}/login`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: 'Sign in' }).click()]);
    return page;
  }

  test('metadata advertises the device endpoint and grant; the endpoint answers RFC 8628 §3.2', async () => {
    const meta = await (await fetch(`${srv.url}/.well-known/oauth-authorization-server`)).json();
    assert.equal(meta.device_authorization_endpoint, `${srv.url}/device_authorization`);
    assert.ok(meta.grant_types_supported.includes(GRANT));
    const r = await authorizeDevice({ scope: 'mcp:read', resource: `${srv.url}/acme/mcp` });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(r.body.verification_uri, `${srv.url}/device`);
    assert.equal(r.body.verification_uri_complete, `${srv.url}/device?user_code=${encodeURIComponent(r.body.user_code)}`);
    assert.equal(r.body.expires_in, 600);
    assert.equal(r.body.interval, 5);
    assert.ok(r.body.device_code.length >= 40);
  });

  test('device endpoint refusals: unknown client invalid_client, foreign resource invalid_target', async () => {
    const unknown = await postForm(`${srv.url}/device_authorization`, { client_id: 'nope' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error, 'invalid_client');
    const foreign = await authorizeDevice({ resource: 'https://elsewhere.example/mcp' });
    assert.equal(foreign.body.error, 'invalid_target');
    const missing = await authorizeDevice({ resource: `${srv.url}/no-such-ws/mcp` });
    assert.equal(missing.body.error, 'invalid_target');
  });

  test('in the browser: the page shows the code, the app and the picker; approve; pending → slow_down → tokens, once', async () => {
    const d = (await authorizeDevice({ scope: 'mcp:read mcp:write' })).body;
    const pending = await poll(d.device_code);
    assert.equal(pending.status, 400);
    assert.equal(pending.body.error, 'authorization_pending');
    const fast = await poll(d.device_code);
    assert.equal(fast.body.error, 'slow_down', 'polling again at once');
    const page = await signedInPage();
    await page.goto(`${srv.url}/device`);
    await page.getByLabel('Code').fill(d.user_code.toLowerCase().replace('-', ' '));
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.equal((await page.locator('#device-code').textContent())?.trim(), d.user_code);
    assert.match(await page.locator('h1').innerText(), /Terminal CLI/);
    assert.match(await page.content(), /unverified app/);
    const options = await page.locator('#workspace option').allInnerTexts();
    assert.deepEqual(options.sort(), ['Acme Corp (acme)', 'Demo workspace (demo)'].sort());
    await page.selectOption('#workspace', 'acme');
    await page.getByRole('button', { name: 'Approve' }).click();
    assert.match(await page.locator('h1').innerText(), /Device connected/);
    await forgetLastPoll(d.device_code);
    const tokens = await poll(d.device_code);
    assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
    assert.ok(tokens.body.refresh_token);
    const p = decodeJwt(tokens.body.access_token)!.payload;
    assert.equal(p.workspace, 'acme');
    assert.deepEqual(p.aud, [`${srv.url}/acme/mcp`, `${srv.url}/mcp`]);
    await forgetLastPoll(d.device_code);
    const again = await poll(d.device_code);
    assert.equal(again.body.error, 'invalid_grant', 'a device code is used once');
    // The slow_down raised the interval by 5 s (RFC 8628 §3.5).
    const row = await srv.services.store.typed<{ oauth_device_codes: { interval_s: number; device_code_hash: string } }>().selectFrom('oauth_device_codes').select('interval_s').where('device_code_hash', '=', sha256(d.device_code)).executeTakeFirst();
    assert.equal(row?.interval_s, 10);
    // The decided code no longer opens the page.
    await page.goto(`${srv.url}/device?user_code=${encodeURIComponent(d.user_code)}`);
    assert.match(await page.content(), /not valid or has expired/);
    await page.context().close();
  });

  test('deny is access_denied; an expired code expired_token; another client\'s code invalid_grant; an unknown one invalid_grant', async () => {
    const d = (await authorizeDevice()).body;
    const page = await signedInPage();
    await page.goto(d.verification_uri_complete);
    await page.getByRole('button', { name: 'Deny' }).click();
    assert.match(await page.locator('h1').innerText(), /Access denied/);
    await page.context().close();
    const denied = await poll(d.device_code);
    assert.equal(denied.body.error, 'access_denied');

    const e = (await authorizeDevice()).body;
    await srv.services.store.typed<{ oauth_device_codes: { expires_at: number; device_code_hash: string } }>().updateTable('oauth_device_codes').set({ expires_at: Date.now() - 1000 }).where('device_code_hash', '=', sha256(e.device_code)).execute();
    assert.equal((await poll(e.device_code)).body.error, 'expired_token');

    const other = (await registerClient(srv.url, { client_name: 'Other', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })).client_id as string;
    const f = (await authorizeDevice()).body;
    assert.equal((await poll(f.device_code, other)).body.error, 'invalid_grant');
    assert.equal((await poll('not-a-device-code')).body.error, 'invalid_grant');
    assert.equal((await postForm(`${srv.url}/token`, { grant_type: GRANT, client_id: clientId })).body.error, 'invalid_request');
  });

  test('the page asks to sign in first, keeps the code through sign-in, and refuses a POST without its CSRF token', async () => {
    const d = (await authorizeDevice()).body;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(d.verification_uri_complete);
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/device');
    assert.equal((await page.locator('#device-code').textContent())?.trim(), d.user_code);
    const forged = await page.evaluate(async (code) => (await fetch('/device', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user_code=${code}&decision=approve&workspace=demo` })).status, d.user_code);
    assert.equal(forged, 403);
    assert.equal((await poll(d.device_code)).body.error, 'authorization_pending', 'the forged approval changed nothing');
    await context.close();
  });

  test('tollgate mcp login --device: prints the code, polls (slowing down when told), and is signed in once approved', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-device-'));
    // The polling interval's seconds shortened to 20 ms: the server still says slow_down, which the client obeys.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TOLLGATE_CLIENT_DIR: dir, TOLLGATE_BROWSER: 'none', TOLLGATE_DEVICE_POLL_SCALE_MS: '20', NODE_COMPILE_CACHE: path.join(tmpdir(), 'tollgate-test-compile-cache') };
    try {
      assert.equal((await runCli(['mcp', 'add', 'dev', '--url', `${srv.url}/demo/mcp`], { env })).code, 0);
      const child = spawn(process.execPath, [CLI, 'mcp', 'login', 'dev', '--device'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      const closed = new Promise<number | null>((r) => child.on('close', r));
      const shown = await new Promise<{ uri: string; code: string }>((resolve, reject) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          const m = /open (http\S+\/device) on any device and enter the code ([A-Z]{4}-[A-Z]{4})/.exec(stderr);
          if (m) resolve({ uri: m[1], code: m[2] });
        });
        void closed.then((code) => reject(new Error(`the login ended (${code}) before showing a code:\n${stderr}`)));
      });
      assert.equal(shown.uri, `${srv.url}/device`);
      const page = await signedInPage();
      await page.goto(`${shown.uri}?user_code=${shown.code}`);
      // The CLI named the workspace endpoint: the page shows that workspace, with nothing to pick.
      assert.match(await page.locator('dl.facts').innerText(), /Demo workspace \(demo\)/);
      assert.equal(await page.locator('select#workspace').count(), 0);
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.context().close();
      const code = await closed;
      clearTimeout(timer);
      assert.equal(code, 0, stderr);
      assert.match(stdout, /Signed in to dev/);
      assert.match(stderr, /poll more slowly/);
      const tools = await runCli(['mcp', 'tools', 'dev'], { env, timeoutMs: 90_000 });
      assert.equal(tools.code, 0, tools.stderr);
      assert.match(tools.stdout, /check_credit_balance/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// RFC 8628 §5.2 / RFC 6749 §5.2: the device authorization endpoint's per-IP limit (30 a minute, a constant in
// src/oauth/device-authorization.ts, no env var). Behind one trusted proxy, so each test address is its own counter.
forEachDialect('OAuth device authorization: the per-IP rate limit', (dialect) => {
  let srv: TestServer;
  let clientId: string;
  const LIMIT = 30;

  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_TRUSTED_PROXY_HOPS: '1' } });
    clientId = (await registerClient(srv.url, { client_name: 'Flooding CLI', redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })).client_id as string;
  });
  after(async () => srv?.stop());

  const authorizeFrom = async (ip: string, id = clientId) => {
    const res = await fetch(`${srv.url}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip }, body: new URLSearchParams({ client_id: id }).toString() });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
  };
  const deviceCodeRows = async () => Number((await srv.services.store.typed<{ oauth_device_codes: { client_id: string } }>().selectFrom('oauth_device_codes').select((eb) => eb.fn.countAll().as('n')).where('client_id', '=', clientId).executeTakeFirstOrThrow()).n);

  // RFC 8628 §3.5 defines slow_down for polling the token endpoint only; the device authorization endpoint's own limit
  // answers as /register's does: 429 temporarily_unavailable with Retry-After.
  test(`the ${LIMIT + 1}st request from one address in a minute is 429 temporarily_unavailable (not slow_down) with Retry-After, and makes no code`, async () => {
    const ip = '203.0.113.7';
    for (let i = 1; i <= LIMIT; i++) {
      const r = await authorizeFrom(ip);
      assert.equal(r.status, 200, `request ${i} of ${LIMIT} is within the limit: ${JSON.stringify(r.body)}`);
    }
    assert.equal(await deviceCodeRows(), LIMIT);
    const over = await authorizeFrom(ip);
    assert.equal(over.status, 429, JSON.stringify(over.body));
    assert.equal(over.body.error, 'temporarily_unavailable');
    assert.match(over.body.error_description, /Too many device authorization requests/);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${over.headers.get('retry-after')}`);
    assert.equal(over.headers.get('cache-control'), 'no-store');
    assert.equal(await deviceCodeRows(), LIMIT, 'the refused request created no device code');
    // The limit is counted before client authentication: an unknown client from that address is refused the same way.
    const unknown = await authorizeFrom(ip, 'no-such-client');
    assert.equal(unknown.status, 429);
    assert.equal(unknown.body.error, 'temporarily_unavailable');
    // Per address: another one is still served.
    const other = await authorizeFrom('203.0.113.8');
    assert.equal(other.status, 200, JSON.stringify(other.body));
    assert.equal(await deviceCodeRows(), LIMIT + 1);
  });
});

function sha256(v: string): string {
  return createHash('sha256').update(v).digest('hex');
}
import { createHash } from 'node:crypto';
