// Requirements (web UI, in a real browser): sign-in (and a wrong password); consent approve and deny; the workspace
// picker at the shared endpoint; keyboard-only consent; revoking an app, after which its token gets 401; creating a
// client and seeing its secret only once (with a working copy button); rotating a secret; a form POST without its
// CSRF token refused; no CSP violation or console error on any page; no page over 150 KB of assets.
// Headless Chromium (Debian's /usr/bin/chromium) through playwright-core: one browser for the file, a fresh context
// per test. `TOLLGATE_SCREENSHOTS=1` also writes docs/screenshots/*.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { authorizeUrl, exchangeCode, obtainTokens, pkcePair, registerClient } from './helpers/oauth-flow.ts';
import { legacyCall } from './helpers/mcp-http.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';
import { seedUsageDataset } from '../src/credits/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const PAGE_BUDGET = 150 * 1024;
const HOSTED = 'https://claude.ai/api/mcp/auth_callback';
const SCREENSHOTS = process.env.TOLLGATE_SCREENSHOTS ? path.resolve(import.meta.dirname, '..', 'docs', 'screenshots') : undefined;

interface Watched {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

describe('Web UI in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let srv: TestServer;
  let browser: Browser;
  let callbacks: Server;
  let callbackBase: string;
  const received: URL[] = [];
  const contexts: BrowserContext[] = [];

  before(async () => {
    callbacks = createServer((req, res) => {
      received.push(new URL(req.url ?? '/', callbackBase));
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>App</title><p>Signed in. You can close this tab.</p>');
    });
    await new Promise<void>((r) => callbacks.listen(0, '127.0.0.1', r));
    callbackBase = `http://127.0.0.1:${(callbacks.address() as AddressInfo).port}`;
    [srv, browser] = await Promise.all([startTestServer(), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    const { users } = srv.services.accounts;
    const owner = (await users.findUserByEmail(ADMIN_EMAIL))!;
    const stranger = await users.createUser({ email: 'stranger@example.com', password: 'a long enough password' });
    await srv.services.createWorkspace({ slug: 'acme', name: 'Acme Corp', ownerUserId: owner.id });
    await srv.services.createWorkspace({ slug: 'not-yours', name: 'Not yours', ownerUserId: stranger.id });
    // Usage for the dashboard's charts, attributed to real (self-registered) clients.
    const names = ['Claude', 'Cursor', 'Visual Studio Code', 'MCP Inspector'];
    const clientIds = await Promise.all(names.map(async (n) => (await registerClient(srv.url, { client_name: n, redirect_uris: [HOSTED] })).client_id));
    const demo = (await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    await seedUsageDataset(srv.services.store, { workspaceId: demo.id, events: 48_000, days: 30, tools: ['search_contacts', 'get_contact', 'create_contact', 'search_deals', 'pipeline_summary', 'move_deal_stage'], clients: clientIds });
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await srv?.stop();
    callbacks?.closeAllConnections();
    await new Promise((r) => callbacks?.close(r));
  });

  async function open(options: { signedIn?: boolean; clipboard?: boolean } = {}): Promise<Watched> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    contexts.push(context);
    if (options.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    if (options.signedIn) await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    return { page, context, problems };
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${srv.url}/login`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await Promise.all([page.waitForURL(`${srv.url}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
  }

  const shot = async (page: Page, name: string, fullPage = false) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
  };

  /** A public client with a loopback redirect on the test's callback server, and its authorization URL. */
  async function loopbackAuthorization(resource: string, name = 'Claude Code') {
    const redirect = `${callbackBase}/callback`;
    const clientId = (await registerClient(srv.url, { client_name: name, redirect_uris: [redirect] })).client_id;
    const pkce = pkcePair();
    const state = `st-${Math.random().toString(36).slice(2)}`;
    const url = authorizeUrl(srv.url, { client_id: clientId, redirect_uri: redirect, code_challenge: pkce.challenge, resource, scope: 'mcp:read mcp:write', state });
    const arrived = async () => {
      for (let i = 0; i < 100 && !received.some((u) => u.searchParams.get('state') === state); i++) await new Promise((r) => setTimeout(r, 50));
      const back = received.find((u) => u.searchParams.get('state') === state);
      assert.ok(back, 'the browser reached the app\'s loopback callback');
      return back;
    };
    const exchange = async (code: string) => {
      const t = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: redirect, code_verifier: pkce.verifier });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      return t.body;
    };
    return { clientId, url, arrived, exchange };
  }

  test('sign-in: a wrong password gets a friendly error, the right one lands on the workspace list', async () => {
    const { page, problems } = await open();
    await page.goto(`${srv.url}/login`);
    await shot(page, 'sign-in');
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('[role=alert]');
    assert.equal(await page.getByRole('alert').innerText(), 'The email or password is incorrect.');
    assert.equal(await page.getByLabel('Email').inputValue(), ADMIN_EMAIL, 'the email is kept');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password', 'focus is on the password to retry');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(`${srv.url}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
    await page.getByRole('link', { name: /Demo workspace/ }).waitFor();
    await page.getByRole('link', { name: /Acme Corp/ }).waitFor();
    assert.equal(await page.getByText('Not yours').count(), 0);
    // The one expected complaint: the failed sign-in's page is a 401.
    assert.deepEqual(problems, ['console: Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  });

  test('consent: Approve hands the code to the app on its loopback callback; Deny tells a hosted app', async () => {
    const { page, problems } = await open({ signedIn: true });
    const flow = await loopbackAuthorization(`${srv.url}/demo/mcp`);
    await page.goto(flow.url);
    await page.getByRole('heading', { name: /Claude Code wants to use your Tollgate account/ }).waitFor();
    assert.equal(await page.locator('.redirect-host').innerText(), callbackBase.replace('http://', ''));
    assert.equal(await page.locator('.redirect-host').evaluate((e) => getComputedStyle(e).fontWeight), '700', 'the redirect host is bold');
    assert.match(await page.locator('.badge').first().innerText(), /unverified app/i);
    assert.deepEqual(await page.locator('ul.scopes li').allInnerTexts(), ['Read data through the MCP server’s tools', 'Change data through the MCP server’s tools']);
    await page.getByRole('button', { name: 'Approve' }).click();
    const back = await flow.arrived();
    assert.ok(back.searchParams.get('code'));
    assert.equal(back.searchParams.get('iss'), srv.url);
    await page.getByText('Signed in. You can close this tab.').waitFor();
    const tokens = await flow.exchange(back.searchParams.get('code')!);
    assert.equal(decodeJwt(tokens.access_token)!.payload.workspace, 'demo');

    assert.deepEqual(problems, []);

    // Deny, for a hosted callback: the browser is sent to the app with access_denied and its state (the request is
    // observed, not answered: there is no network here).
    const hosted = (await registerClient(srv.url, { client_name: 'Claude', redirect_uris: [HOSTED] })).client_id;
    await page.goto(authorizeUrl(srv.url, { client_id: hosted, redirect_uri: HOSTED, code_challenge: pkcePair().challenge, resource: `${srv.url}/demo/mcp`, state: 'deny-me' }));
    const [request] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(HOSTED)), page.getByRole('button', { name: 'Deny' }).click()]);
    const denied = new URL(request.url());
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 'deny-me');
    assert.equal(denied.searchParams.get('code'), null);
  });

  test('the shared endpoint\'s workspace picker offers only the user\'s workspaces and binds the choice into the token', async () => {
    const { page, problems } = await open({ signedIn: true });
    const flow = await loopbackAuthorization(`${srv.url}/mcp`, 'Cursor');
    await page.goto(flow.url);
    const picker = page.getByLabel(/Workspace/);
    assert.deepEqual(await picker.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), ['acme', 'demo']);
    await shot(page, 'consent');
    await picker.selectOption('acme');
    await page.getByRole('button', { name: 'Approve' }).click();
    const back = await flow.arrived();
    const tokens = await flow.exchange(back.searchParams.get('code')!);
    const claims = decodeJwt(tokens.access_token)!.payload;
    assert.equal(claims.workspace, 'acme');
    assert.equal(claims.aud, `${srv.url}/mcp`);
    assert.deepEqual(problems, []);
  });

  test('keyboard only: Tab reaches the picker, then Deny, then Approve, each with a visible focus ring; Enter approves', async () => {
    const { page, problems } = await open({ signedIn: true });
    const flow = await loopbackAuthorization(`${srv.url}/mcp`, 'Keyboard app');
    await page.goto(flow.url);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        return { id: el.tagName === 'SELECT' ? 'select' : (el.textContent ?? '').trim(), outline: getComputedStyle(el).outlineStyle };
      });
      seen.push(focused.id);
      assert.notEqual(focused.outline, 'none', `focus is visible on ${focused.id}`);
      if (focused.id === 'select') await page.keyboard.press('ArrowDown'); // acme → demo
      if (focused.id === 'Approve') break;
    }
    assert.ok(seen.indexOf('select') >= 0 && seen.indexOf('select') < seen.indexOf('Deny') && seen.indexOf('Deny') < seen.indexOf('Approve'), seen.join(' → '));
    await page.keyboard.press('Enter');
    const back = await flow.arrived();
    const tokens = await flow.exchange(back.searchParams.get('code')!);
    assert.equal(decodeJwt(tokens.access_token)!.payload.workspace, 'demo', 'the arrow key chose the second workspace');
    assert.deepEqual(problems, []);
  });

  test('revoking a connected app on the dashboard: its next MCP call gets 401', async () => {
    const { tokens, clientId } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource: `${srv.url}/demo/mcp` });
    const endpoint = `${srv.url}/demo/mcp`;
    assert.equal((await legacyCall(endpoint, tokens.access_token, 'tools/list')).status, 200);
    const { page, problems } = await open({ signedIn: true });
    await page.goto(`${srv.url}/dashboard/demo/apps`);
    const grant = (await srv.services.oauth.directory.listWorkspaceGrants((await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id)).find((g) => g.clientId === clientId)!;
    await Promise.all([page.waitForURL(/done=revoked/), page.locator(`form[action$="/apps/${grant.id}/revoke"] button`).click()]);
    await page.getByText('Access revoked').waitFor();
    assert.equal((await legacyCall(endpoint, tokens.access_token, 'tools/list')).status, 401);
    assert.deepEqual(problems, []);
  });

  test('creating a client shows its secret once, with a working copy button; rotating shows a new one', async () => {
    const { page, problems } = await open({ signedIn: true, clipboard: true });
    await page.goto(`${srv.url}/dashboard/demo/clients`);
    await page.getByLabel(/^Name/).fill('Nightly sync');
    await page.getByLabel(/^Redirect URIs/).fill('https://sync.example.com/oauth/callback');
    await page.getByRole('button', { name: 'Create client' }).click();
    const secret = (await page.locator('#client-secret').innerText()).trim();
    const clientId = (await page.locator('#client-id').innerText()).trim();
    assert.match(secret, /^[A-Za-z0-9_-]{40,}$/);
    await page.locator('button[data-copy-target="client-secret"]').click();
    await page.locator('#client-secret-status').getByText('Copied').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    assert.ok(await srv.services.oauth.clients.verifySecret(clientId, secret));
    await shot(page, 'client-secret');
    // Never again: not on the list, not on the client's page, not after going back.
    await page.goto(`${srv.url}/dashboard/demo/clients`);
    assert.ok(!(await page.content()).includes(secret));
    await page.getByRole('link', { name: 'Nightly sync' }).click();
    assert.ok(!(await page.content()).includes(secret));
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = (await page.locator('#client-secret').innerText()).trim();
    assert.notEqual(rotated, secret);
    await page.getByText(/The previous secret keeps working until/).waitFor();
    assert.ok(await srv.services.oauth.clients.verifySecret(clientId, rotated));
    assert.ok(await srv.services.oauth.clients.verifySecret(clientId, secret), 'the old secret still works in the overlap');
    await page.goto(`${srv.url}/dashboard/demo/clients/${clientId}`);
    assert.ok(!(await page.content()).includes(rotated));
    assert.deepEqual(problems, []);
  });

  test('a form submitted without its CSRF token is refused', async () => {
    const { page } = await open({ signedIn: true });
    await page.goto(`${srv.url}/dashboard/demo/members`);
    await page.getByLabel(/^Email/).fill('stranger@example.com');
    await page.locator('form[action="/dashboard/demo/members"] input[name=csrf_token]').evaluate((el) => el.remove());
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Add member' }).click()]);
    assert.equal(response.status(), 403);
    await page.getByRole('heading', { name: 'Form expired' }).waitFor();
    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    const stranger = (await srv.services.accounts.users.findUserByEmail('stranger@example.com'))!;
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, stranger.id), undefined);
  });

  test('every page loads without CSP violations or console errors and weighs under 150 KB', async () => {
    const clientId = (await srv.services.oauth.directory.listClients()).find((c) => c.kind === 'static')?.clientId;
    const flow = await loopbackAuthorization(`${srv.url}/mcp`, 'Weighed app');
    const pages = [
      '/', '/dashboard/demo', '/dashboard/demo?days=90', '/dashboard/demo/ledger', '/dashboard/demo/apps', '/dashboard/demo/clients',
      ...(clientId ? [`/dashboard/demo/clients/${clientId}`] : []), '/dashboard/demo/members', '/admin/workspaces', '/admin/users', '/admin/clients', '/admin/keys', flow.url.slice(srv.url.length),
    ];
    // Every byte of the document and what it loads (uncompressed). Routing disables the HTTP cache, so each page is
    // weighed with all of its assets.
    const routed = new WeakSet<BrowserContext>();
    const weigh = async (w: Watched, url: string) => {
      if (!routed.has(w.context)) await w.context.route('**/*', (route) => route.continue());
      routed.add(w.context);
      const sizes: Promise<number>[] = [];
      const onResponse = (r: import('playwright-core').Response) => void sizes.push(r.body().then((b) => b.length, () => 0));
      w.page.on('response', onResponse);
      await w.page.goto(url, { waitUntil: 'load' });
      w.page.off('response', onResponse);
      return (await Promise.all(sizes)).reduce((a, b) => a + b, 0);
    };
    const signedIn = await open({ signedIn: true });
    const { page, problems } = signedIn;
    const weights: Record<string, number> = {};
    for (const p of pages) weights[p.slice(0, 40)] = await weigh(signedIn, srv.url + p);
    await page.goto(`${srv.url}/dashboard/demo`, { waitUntil: 'load' });
    assert.equal(await page.locator('[data-chart] canvas').count(), 1, 'the per-day uPlot chart drawn');
    assert.equal(await page.locator('[data-chart].hbars').count(), 2, 'the per-tool and per-client bars drawn');
    await shot(page, 'dashboard', true);
    // Signed out: the sign-in page.
    const fresh = await open();
    weights['/login'] = await weigh(fresh, `${srv.url}/login`);
    for (const [p, w] of Object.entries(weights)) assert.ok(w > 0 && w < PAGE_BUDGET, `${p} weighs ${w} bytes`);
    assert.deepEqual([...problems, ...fresh.problems], []);
    if (process.env.TOLLGATE_REPORT_WEIGHTS) console.log(JSON.stringify(weights));
  });
});
