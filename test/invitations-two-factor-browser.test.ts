// Requirements (issue 18 §4–§6, in a real browser): the invitation page signs a new person up and lands them on the
// workspace; the two-factor enrolment page shows the key, a QR code and the otpauth:// link, takes a code and shows
// the recovery codes; the next sign-in asks for a code. No CSP violation or console error on these pages.
// Headless Chromium (Debian's /usr/bin/chromium) through playwright-core; `TOLLGATE_SCREENSHOTS=1` also writes
// docs/screenshots/invitation.png and two-factor-enrol.png.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, ADMIN_EMAIL, type TestServer } from './helpers/server.ts';
import { base32Decode, hotp, totpStep } from '../src/accounts/totp.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = process.env.TOLLGATE_SCREENSHOTS ? path.resolve(import.meta.dirname, '..', 'docs', 'screenshots') : undefined;

describe('invitation and two-factor pages in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let srv: TestServer;
  let browser: Browser;
  before(async () => {
    [srv, browser] = await Promise.all([startTestServer(), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    const owner = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    await srv.services.accounts.users.setPassword(owner.id, 'owner password 1');
    await srv.services.accounts.users.createUser({ email: 'ada@example.com', password: 'ada password 1', name: 'Ada' });
    await srv.services.createWorkspace({ slug: 'acme', name: 'Acme Corp', ownerUserId: owner.id });
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  async function open(): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, reducedMotion: 'reduce' });
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    return { page, problems, close: () => context.close() };
  }
  async function shot(page: Page, name: string): Promise<void> {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  test('the invitation page signs a new person up and lands on the workspace', async () => {
    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('acme'))!;
    const owner = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    const { token } = await srv.services.invitations.createInvitation({ workspace: ws, email: 'grace@example.com', role: 'admin', invitedBy: owner.id });
    const { page, problems, close } = await open();
    await page.goto(`${srv.url}/invite?token=${token}`);
    await page.getByRole('heading', { name: 'Join Acme Corp' }).waitFor();
    assert.match(await page.locator('main').innerText(), /invited grace@example\.com to the workspace Acme Corp/);
    await shot(page, 'invitation');
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.locator('#password').fill('grace password 1');
    await page.locator('#password2').fill('grace password 1');
    await page.getByRole('button', { name: 'Create account and join' }).click();
    await page.waitForURL(`${srv.url}/dashboard/acme`);
    assert.match(await page.locator('.topbar').innerText(), /grace@example\.com/);
    assert.deepEqual(problems, []);
    await close();
  });

  test('two-factor enrolment: key, QR code and link; a code turns it on; the next sign-in asks for a code', async () => {
    const { page, problems, close } = await open();
    await page.goto(`${srv.url}/login`);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('ada password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${srv.url}/`);
    await page.goto(`${srv.url}/account/two-factor`);
    await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).waitFor();
    assert.ok(await page.getByRole('img', { name: 'QR code of the two-factor key' }).isVisible());
    const key = base32Decode(await page.locator('#totp-key').innerText());
    assert.match((await page.locator('a[href^="otpauth://"]').getAttribute('href'))!, /^otpauth:\/\/totp\//);
    await shot(page, 'two-factor-enrol');
    const step = totpStep(Date.now());
    await page.locator('#code').fill(hotp(key, step - 1));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.equal(await page.locator('.recovery-codes li').count(), 10);
    // Sign out, then in again: the password is followed by the code.
    await page.goto(`${srv.url}/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('ada password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${srv.url}/login/two-factor`);
    await page.locator('#code').fill(hotp(key, step));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${srv.url}/`);
    assert.deepEqual(problems, []);
    await close();
  });
});
