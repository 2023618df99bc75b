// Requirements (web UI on a laptop and on a phone, in a real browser): every page at 1280×800 and at 390×844 has no
// horizontal overflow of the document; every link, button and field in the main content lies inside the viewport
// (tables with actions stack as cards on a phone); a table that still scrolls shows a hint; nothing is cut with an
// ellipsis; the per-tool and per-client charts show full, non-overlapping labels; scopes never break mid-word and
// URLs break only after `/` or `.`; a workspace with no usage shows an empty state instead of empty axes.
// Screenshots of every page at both sizes go to a temporary directory removed afterwards (or, kept, to
// TOLLGATE_SCREENSHOT_DIR), and with `TOLLGATE_SCREENSHOTS=1` a few phone ones to docs/screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { forEachDialect } from './helpers/databases.ts';
import { authorizeUrl, obtainTokens, pkcePair, registerClient } from './helpers/oauth-flow.ts';
import { seedUsageDataset } from '../src/credits/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SIZES = [
  { name: 'laptop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;
const TOOLS = ['search_contacts', 'search_deals', 'search_companies_by_domain', 'get_contact', 'enrich_contact_from_linkedin_profile', 'pipeline_summary', 'move_deal_stage'];
const CLIENT_NAMES = ['Claude', 'Cursor', 'Visual Studio Code', 'MCP Inspector', 'Acme internal reporting assistant'];
const ALL_SCOPES = 'openid profile email offline_access mcp:read mcp:write';
const LONG_EMAIL = 'margaret.hamilton-lovelace@engineering.example-company.com';
const REDIRECTS = ['https://reports.internal.example-company.com/oauth/mcp/callback', 'https://sync.example.com/api/v2/integrations/tollgate/oauth/callback'];
const DOCS_SHOTS = process.env.TOLLGATE_SCREENSHOTS ? path.resolve(import.meta.dirname, '..', 'docs', 'screenshots') : undefined;

/** What the layout checks found on one page (empty: all good). Runs in the page. */
function layoutProblems(): string[] {
  const problems: string[] = [];
  const vw = window.innerWidth;
  const name = (el: Element) => `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40) || el.getAttribute('aria-label') || el.id}"`;
  const shown = (el: Element) => {
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1 && !el.closest('.visually-hidden');
  };
  if (document.documentElement.scrollWidth > vw) problems.push(`the document is ${document.documentElement.scrollWidth} px wide in a ${vw} px viewport`);
  const main = document.querySelector('main')!;
  for (const el of Array.from(main.querySelectorAll('a[href], button, summary, select, textarea, input:not([type=hidden])'))) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5) problems.push(`${name(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} px, outside the ${vw} px viewport`);
  }
  for (const wrap of Array.from(main.querySelectorAll('.table-wrap'))) {
    if (wrap.scrollWidth <= wrap.clientWidth + 1) continue;
    const style = getComputedStyle(wrap);
    if (!style.backgroundImage.includes('gradient')) problems.push(`a table scrolls sideways (${wrap.scrollWidth} in ${wrap.clientWidth} px) with no hint`);
  }
  for (const el of Array.from(main.querySelectorAll('*'))) {
    if (!shown(el) || getComputedStyle(el).textOverflow !== 'ellipsis') continue;
    if (el.scrollWidth > el.clientWidth + 1) problems.push(`${name(el)} is cut with an ellipsis`);
  }
  return problems;
}

/**
 * Scopes broken over two lines, URLs broken other than after `/` or `.`, tool names (in tables and chart labels)
 * broken other than after `_`, `-`, `.` or `/`. Runs in the page.
 */
function wrapProblems(): string[] {
  const problems: string[] = [];
  for (const el of Array.from(document.querySelectorAll('main .scope'))) {
    if (el.getClientRects().length > 1) problems.push(`scope ${el.textContent} breaks over lines`);
  }
  const breaksAt = (selector: string, allowed: string) => Array.from(document.querySelectorAll(selector)).map((el) => ({ el, allowed }));
  for (const { el, allowed } of [...breaksAt('main .url', '/.'), ...breaksAt('main .ident, main .hbar-label', '_-./ ')]) {
    // Walk the characters; where the line changes, the character before the break must be an allowed one.
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    let lastTop: number | undefined;
    let prev = '';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? '';
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (!rect) continue;
        if (lastTop !== undefined && rect.top > lastTop + 2 && !allowed.includes(prev)) problems.push(`${el.textContent} breaks after "${prev}", before "${text[i]}"`);
        lastTop = rect.top;
        prev = text[i];
      }
    }
  }
  return problems;
}

/** The bar charts' labels: text, box, and whether the box cuts the text. Runs in the page. */
function chartLabels(kind: string) {
  return Array.from(document.querySelectorAll(`[data-chart="${kind}"] .hbar-label`)).map((el) => {
    const r = el.getBoundingClientRect();
    return { text: el.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom, cut: el.scrollWidth > el.clientWidth + 1 || getComputedStyle(el).textOverflow === 'ellipsis' };
  });
}

forEachDialect('Web UI layout at laptop and phone sizes', (dialect) => {
  const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`;
  let srv: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const shots = process.env.TOLLGATE_SCREENSHOT_DIR ?? mkdtempSync(path.join(tmpdir(), 'tollgate-screens-'));
  let pages: { name: string; path: string; signedOut?: boolean }[] = [];

  before(async () => {
    if (skip) return;
    [srv, browser] = await Promise.all([startTestServer({ dialect }), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    const { users, workspaces } = srv.services.accounts;
    const owner = (await users.findUserByEmail(ADMIN_EMAIL))!;
    await srv.services.createWorkspace({ slug: 'quiet', name: 'Quiet workspace', ownerUserId: owner.id });
    await users.createUser({ email: LONG_EMAIL, name: 'Margaret Hamilton-Lovelace', password: 'a long enough password' });
    await workspaces.addMember('demo', LONG_EMAIL, 'admin');
    const clientIds = await Promise.all(CLIENT_NAMES.map(async (n) => (await registerClient(srv.url, { client_name: n, redirect_uris: ['https://claude.ai/api/mcp/auth_callback'] })).client_id));
    const demo = (await workspaces.getWorkspaceBySlug('demo'))!;
    await seedUsageDataset(srv.services.store, { workspaceId: demo.id, events: 6_000, days: 30, tools: TOOLS, clients: clientIds });
    // A connected app with every scope, so the apps page shows the longest scope list.
    const redirect = 'http://127.0.0.1:9/callback';
    const appId = (await registerClient(srv.url, { client_name: 'Visual Studio Code', redirect_uris: [redirect] })).client_id;
    await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource: `${srv.url}/demo/mcp`, scope: ALL_SCOPES, clientId: appId, redirectUri: redirect });
    // A workspace-owned client with long redirect URIs, made through its form.
    const page = await newPage(SIZES[0], true);
    await page.goto(`${srv.url}/dashboard/demo/clients`);
    await page.getByLabel(/^Name/).fill('Nightly reporting sync');
    await page.getByLabel(/^Redirect URIs/).fill(REDIRECTS.join('\n'));
    await page.getByRole('button', { name: 'Create client' }).click();
    const ownedId = (await page.locator('#client-id').innerText()).trim();
    const consent = authorizeUrl(srv.url, { client_id: appId, redirect_uri: redirect, code_challenge: pkcePair().challenge, resource: `${srv.url}/mcp`, scope: ALL_SCOPES, state: 'layout' });
    pages = [
      { name: 'sign-in', path: '/login', signedOut: true },
      { name: 'consent', path: consent.slice(srv.url.length) },
      { name: 'home', path: '/' },
      { name: 'dashboard', path: '/dashboard/demo' },
      { name: 'dashboard-empty', path: '/dashboard/quiet' },
      { name: 'ledger', path: '/dashboard/demo/ledger' },
      { name: 'apps', path: '/dashboard/demo/apps' },
      { name: 'connection-log', path: `/dashboard/demo/apps/log?client_id=${encodeURIComponent(appId)}` },
      { name: 'clients', path: '/dashboard/demo/clients' },
      { name: 'client', path: `/dashboard/demo/clients/${ownedId}` },
      { name: 'members', path: '/dashboard/demo/members' },
      { name: 'admin-workspaces', path: '/admin/workspaces' },
      { name: 'admin-users', path: '/admin/users' },
      { name: 'admin-clients', path: '/admin/clients' },
      { name: 'admin-keys', path: '/admin/keys' },
    ];
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await browser?.close();
    await srv?.stop();
    // Kept only where they were asked for; a run of the suite leaves nothing behind in the temp directory.
    if (!process.env.TOLLGATE_SCREENSHOT_DIR) rmSync(shots, { recursive: true, force: true });
  });

  async function newPage(size: (typeof SIZES)[number], signedIn: boolean): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, deviceScaleFactor: 1, reducedMotion: 'reduce' });
    contexts.push(context);
    const page = await context.newPage();
    if (signedIn) {
      await page.goto(`${srv.url}/login`);
      await page.getByLabel('Email').fill(ADMIN_EMAIL);
      await page.getByLabel('Password').fill(ADMIN_PASSWORD);
      await Promise.all([page.waitForURL(`${srv.url}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
    }
    return page;
  }

  for (const size of SIZES) {
    test(`every page at ${size.width}×${size.height}: no sideways overflow, every control in view, no text cut, scopes and URLs wrap cleanly`, { skip }, async (t) => {
      const signedIn = await newPage(size, true);
      const signedOut = await newPage(size, false);
      const found: string[] = [];
      for (const p of pages) {
        const page = p.signedOut ? signedOut : signedIn;
        await page.goto(srv.url + p.path, { waitUntil: 'load' });
        if (p.name === 'dashboard') await page.locator('[data-chart=tools] :is(canvas, .hbar-label)').first().waitFor({ timeout: 5000 });
        await page.screenshot({ path: path.join(shots, `${p.name}-${size.name}.png`), fullPage: true });
        for (const problem of [...(await page.evaluate(layoutProblems)), ...(await page.evaluate(wrapProblems))]) found.push(`${p.name}: ${problem}`);
      }
      if (process.env.TOLLGATE_SCREENSHOT_DIR) t.diagnostic(`screenshots in ${shots}`);
      assert.deepEqual(found, []);
    });

    test(`the per-tool and per-client charts at ${size.width} px: every label in full, none overlapping`, { skip }, async () => {
      const page = await newPage(size, true);
      await page.goto(`${srv.url}/dashboard/demo`, { waitUntil: 'load' });
      await page.locator('[data-chart=clients] .hbar-label').first().waitFor({ timeout: 5000 });
      for (const [kind, expected] of [['tools', TOOLS], ['clients', CLIENT_NAMES]] as const) {
        const labels = await page.evaluate(chartLabels, kind);
        assert.deepEqual(labels.map((l) => l.text).sort(), [...expected].sort(), `${kind}: every name, in full`);
        for (const l of labels) {
          assert.equal(l.cut, false, `${kind}: "${l.text}" is not cut`);
          assert.ok(l.left >= 0 && l.right <= size.width, `${kind}: "${l.text}" is inside the viewport`);
        }
        for (const [i, a] of labels.entries()) {
          for (const b of labels.slice(i + 1)) {
            const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
            assert.equal(overlap, false, `${kind}: "${a.text}" and "${b.text}" do not overlap`);
          }
        }
      }
      // The per-day chart is still a uPlot chart.
      assert.equal(await page.locator('[data-chart=daily] canvas').count(), 1);
      if (DOCS_SHOTS && size.name === 'phone') {
        mkdirSync(DOCS_SHOTS, { recursive: true });
        await page.locator('#tools-h').scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.join(DOCS_SHOTS, 'dashboard-phone.png') });
      }
    });
  }

  test('a workspace with no usage shows "No usage yet" and what to do, not empty axes', { skip }, async () => {
    const page = await newPage(SIZES[1], true);
    await page.goto(`${srv.url}/dashboard/quiet`, { waitUntil: 'load' });
    const empty = page.locator('.empty-state');
    await empty.getByRole('heading', { name: 'No usage yet' }).waitFor({ timeout: 5000 });
    assert.match(await empty.innerText(), /MCP URL/);
    assert.equal(await page.locator('[data-chart]').count(), 0, 'no chart is drawn');
    assert.equal(await page.locator('main canvas').count(), 0, 'no empty axes');
    // The period links still work from the empty state.
    assert.ok(await page.getByRole('link', { name: '90 days' }).isVisible());
  });

  test('on a phone, the Revoke, Remove and Delete buttons are on screen without scrolling sideways', { skip }, async () => {
    const page = await newPage(SIZES[1], true);
    for (const [url, button] of [['/dashboard/demo/apps', 'Revoke'], ['/dashboard/demo/members', 'Remove'], ['/admin/clients', /^Delete/]] as const) {
      await page.goto(srv.url + url, { waitUntil: 'load' });
      const buttons = page.locator('main table button').filter({ hasText: button });
      assert.ok((await buttons.count()) > 0, `${url} has ${String(button)} buttons`);
      for (const box of await buttons.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) {
        assert.ok(box.left >= 0 && box.right <= 390, `${url}: ${String(button)} spans ${box.left}–${box.right}`);
      }
      if (DOCS_SHOTS && url.endsWith('/apps')) await page.screenshot({ path: path.join(DOCS_SHOTS, 'apps-phone.png') });
    }
  });
});
