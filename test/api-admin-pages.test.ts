// Issue 19 §2 and §3 — the admin pages create (shown once), list and revoke API keys, and set prices and plans.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server.ts';
import { getPage, postForm, signIn, submit, textOf, type CookieJar } from './helpers/web-pages.ts';

let server: TestServer;
let jar: CookieJar;
before(async () => {
  server = await startTestServer();
  jar = await signIn(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
});
after(async () => server.stop());

const apiStatus = async (key: string) => (await fetch(`${server.url}/api/v1/workspaces`, { headers: { authorization: `Bearer ${key}` } })).status;

test('an operator creates a key (shown once), it works on the API, and revoking it ends it', async () => {
  const created = await submit(jar, `${server.url}/admin/api-keys`, '/admin/api-keys', { name: 'CRM sync', access: 'read', workspace: 'demo', expires: '30' });
  assert.equal(created.status, 200);
  const secret = /tgk_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}/.exec(created.body)?.[0];
  assert.ok(secret, 'the new key is on the page');
  assert.equal(await apiStatus(secret), 200);
  const list = await getPage(jar, `${server.url}/admin/api-keys`);
  assert.ok(!list.body.includes(secret), 'shown once: not on the list');
  const text = textOf(list.body);
  assert.match(text, new RegExp(`${secret.slice(4, 20)} CRM sync read demo`));
  const revoked = await submit(jar, `${server.url}/admin/api-keys`, `/admin/api-keys/${secret.slice(4, 20)}/revoke`);
  assert.equal(revoked.status, 303);
  assert.equal(await apiStatus(secret), 401);
  const bad = await submit(jar, `${server.url}/admin/api-keys`, '/admin/api-keys', { name: '', access: 'write', expires: 'never' });
  assert.equal(bad.status, 400);
  const forged = await postForm(jar, `${server.url}/admin/api-keys`, { name: 'no csrf', access: 'write', expires: 'never' });
  assert.equal(forged.status, 403);
  assert.equal((await server.services.api.keys.listKeys()).length, 1, 'neither the bad nor the forged form created a key');
});

test('an operator sets a price and a plan; the credits module uses them', async () => {
  const priced = await submit(jar, `${server.url}/admin/pricing`, '/admin/pricing/prices', { tool: 'search_contacts', cost: '12' });
  assert.equal(priced.status, 303);
  assert.equal(await server.services.credits.costOf({ name: 'search_contacts', cost: 1 }), 12);
  const planned = await submit(jar, `${server.url}/admin/pricing`, '/admin/pricing/plans', { name: 'team', workspace_per_minute: '300', grant_per_minute: '30' });
  assert.equal(planned.status, 303);
  const page = textOf((await getPage(jar, `${server.url}/admin/pricing`)).body);
  assert.match(page, /search_contacts 1 12/);
  assert.match(page, /team 300 30 set here/);
  assert.equal((await submit(jar, `${server.url}/admin/pricing`, '/admin/pricing/plans', { name: 'Team!', workspace_per_minute: '1', grant_per_minute: '1' })).status, 400);
  assert.equal((await submit(jar, `${server.url}/admin/pricing`, '/admin/pricing/plans/default/delete')).status, 400);
  assert.equal((await submit(jar, `${server.url}/admin/pricing`, '/admin/pricing/plans/team/delete')).status, 303);
  assert.equal((await submit(jar, `${server.url}/admin/pricing`, '/admin/pricing/prices', { tool: 'search_contacts', cost: '12', clear: '1' })).status, 303);
  assert.equal(await server.services.credits.costOf({ name: 'search_contacts', cost: 1 }), 1);
});
