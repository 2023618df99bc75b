// Issue 19 §3 (plans are data, on the admin page too): an operator sets a workspace's plan on /admin/workspaces in a
// real browser — a form with the plans as a select, CSRF-protected like the page's other forms, recorded in the audit
// trail as the operator with before and after. A forged POST without the token is refused; a plan that does not
// exist comes back on the page as an error. Headless Chromium (/usr/bin/chromium) through playwright-core.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('admin page: a workspace\'s plan, in a browser', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let srv: TestServer;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let acmeId: string;

  before(async () => {
    [srv, browser] = await Promise.all([startTestServer({ env: { TOLLGATE_RATE_PLANS: 'pro:600/120' } }), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    const owner = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    acmeId = (await srv.services.createWorkspace({ slug: 'acme', name: 'Acme Corp', ownerUserId: owner.id })).id;
    await srv.services.credits.upsertPlan({ name: 'enterprise', workspacePerMinute: 5000, grantPerMinute: 500 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective}`)));
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.goto(`${srv.url}/login`);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await Promise.all([page.waitForURL(`${srv.url}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
  });
  after(async () => {
    await browser?.close();
    await srv?.stop();
  });

  test('the operator picks a workspace and a plan from the selects; the table, the plan in force and the audit trail follow', async () => {
    await page.goto(`${srv.url}/admin/workspaces`);
    const panel = page.getByRole('region', { name: "Set a workspace's plan" });
    const options = await panel.getByLabel('Plan').locator('option').evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    assert.deepEqual(options, ['default', 'enterprise', 'pro'], 'every plan, configured and defined as data');
    await panel.getByLabel('Workspace').selectOption('acme');
    await panel.getByLabel('Plan').selectOption('enterprise');
    await Promise.all([page.waitForURL(/\/admin\/workspaces\?done=plan$/), panel.getByRole('button', { name: 'Set plan' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /Plan set/);
    const row = page.getByRole('row').filter({ hasText: 'acme' }).first();
    assert.match(await row.innerText(), /enterprise/);
    assert.equal((await srv.services.credits.planInfo(acmeId)).name, 'enterprise');

    const operator = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    const [record] = (await srv.services.audit.list({ action: 'plan.changed', workspaceId: acmeId })).records;
    assert.ok(record, 'plan.changed recorded');
    assert.deepEqual([record.actor.type, record.actor.id, record.actor.label], ['user', operator.id, ADMIN_EMAIL]);
    assert.deepEqual([record.before, record.after], [{ plan: 'default' }, { plan: 'enterprise' }]);
    assert.equal(record.ip, '127.0.0.1');
    assert.deepEqual(problems, []);
  });

  test('a POST without the page\'s CSRF token is refused and changes nothing; an unknown plan is an error on the page', async () => {
    const forged = await page.request.post(`${srv.url}/admin/workspaces/plan`, { form: { workspace: 'acme', plan: 'pro' }, maxRedirects: 0 });
    assert.equal(forged.status(), 403);
    assert.equal((await srv.services.credits.planInfo(acmeId)).name, 'enterprise');

    await page.goto(`${srv.url}/admin/workspaces`);
    const panel = page.getByRole('region', { name: "Set a workspace's plan" });
    await panel.getByLabel('Workspace').selectOption('acme');
    // A plan deleted after the page was loaded (or a tampered form): the option's value no longer names a plan.
    await panel.getByLabel('Plan').evaluate((el) => {
      (el as HTMLSelectElement).options[0].value = 'gone';
    });
    await panel.getByLabel('Plan').selectOption('gone');
    await Promise.all([page.waitForLoadState('load'), panel.getByRole('button', { name: 'Set plan' }).click()]);
    await page.waitForSelector('[role=alert]');
    assert.match(await page.getByRole('alert').innerText(), /No plan named "gone"/);
    assert.equal((await srv.services.credits.planInfo(acmeId)).name, 'enterprise');
    assert.equal((await srv.services.audit.list({ action: 'plan.changed', workspaceId: acmeId })).records.length, 1);
  });
});
