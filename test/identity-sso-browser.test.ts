// Issue 18 in a real browser (headless Chromium): the sign-in page with its connection buttons (no CSP violation,
// no console error), and a click on "Sign in with …" through a real OpenID Connect provider's own pages and back,
// signed in. `TOLLGATE_SCREENSHOTS=1` also writes docs/screenshots/sign-in-connections.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startTestProvider, type TestProvider } from './helpers/oidc-provider.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = process.env.TOLLGATE_SCREENSHOTS ? path.resolve(import.meta.dirname, '..', 'docs', 'screenshots') : undefined;

describe('sign-in connections in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let srv: TestServer;
  let provider: TestProvider;
  let browser: Browser;

  before(async () => {
    [srv, browser] = await Promise.all([startTestServer({ env: { TOLLGATE_SSO_ALLOW_HTTP: 'true', TOLLGATE_SSO_ALLOW_PRIVATE_ADDRESSES: 'true' } }), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    provider = await startTestProvider({
      accounts: { dana: { email: 'dana@acme.com', email_verified: true, name: 'Dana' } },
      redirectUris: (clientId) => [`${srv.url}/login/sso/${clientId === 'tollgate-rs' ? 'acme' : 'entra'}/callback`],
    });
    const [rs, es] = provider.clients;
    await srv.services.identity.connections.addConnection({ name: 'acme', label: 'Acme Okta', issuer: provider.issuer, clientId: rs.client_id, clientSecret: rs.client_secret });
    await srv.services.identity.connections.addConnection({ name: 'entra', label: 'Microsoft Entra ID', issuer: provider.issuer, clientId: es.client_id, clientSecret: es.client_secret });
  });
  after(async () => {
    await browser?.close();
    await provider?.stop();
    await srv?.stop();
  });

  test('the sign-in page shows a button per connection; a click signs in through the provider', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, reducedMotion: 'reduce' });
    try {
      await context.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
      });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && page.url().startsWith(srv.url)) problems.push(m.text());
      });
      await page.goto(`${srv.url}/login`);
      const acme = page.getByRole('link', { name: 'Sign in with Acme Okta' });
      await acme.waitFor();
      assert.ok(await page.getByRole('link', { name: 'Sign in with Microsoft Entra ID' }).isVisible());
      assert.ok(await page.getByLabel('Password').isVisible());
      if (SCREENSHOTS) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SCREENSHOTS, 'sign-in-connections.png') });
      }
      await acme.click();
      // The provider's own sign-in page, then its consent page.
      await page.waitForURL((u) => u.toString().startsWith(provider.issuer));
      await page.locator('input[name="login"]').fill('dana');
      await page.locator('input[name="password"]').fill('anything');
      await page.locator('button[type="submit"]').first().click();
      await page.waitForURL((u) => u.toString().startsWith(srv.url) || /interaction/.test(u.toString()));
      if (page.url().startsWith(provider.issuer)) await page.locator('button[type="submit"]').first().click();
      await page.waitForURL(`${srv.url}/`);
      assert.match((await page.locator('main').innerText()).replace(/\s+/g, ' '), /signed in as dana@acme\.com/i);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
