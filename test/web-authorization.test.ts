// Requirements (web UI, authorization): dashboards are for members only (another workspace's is a 404, exactly like
// one that does not exist); owners and admins manage apps and clients, members only look; only owners manage
// members; only operators reach the admin pages; every state-changing form needs its CSRF token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { CookieJar, csrfOf, getPage, postForm, signIn, submit, textOf } from './helpers/web-pages.ts';
import type { AppEnv } from '../src/http/env.ts';

const PW = 'a long enough password';

forEachDialect('Web UI authorization', (dialect) => {
  let srv: TestServer;
  let app: Hono<AppEnv>;
  const jars: Record<'owner' | 'admin' | 'member' | 'outsider', CookieJar> = {} as never;
  let ownerClientId: string;
  let adminGrantId: string;
  let memberGrantId: string;
  let memberId: string;

  before(async () => {
    srv = await startTestServer({ dialect, configureApp: (a) => void (app = a as Hono<AppEnv>) });
    const { users, workspaces } = srv.services.accounts;
    await users.createUser({ email: 'admin@example.com', password: PW });
    memberId = (await users.createUser({ email: 'member@example.com', password: PW })).id;
    const outsider = await users.createUser({ email: 'outsider@example.com', password: PW });
    await workspaces.addMember('demo', 'admin@example.com', 'admin');
    await workspaces.addMember('demo', 'member@example.com', 'member');
    await srv.services.createWorkspace({ slug: 'elsewhere', name: 'Elsewhere', ownerUserId: outsider.id });
    jars.owner = await signIn(srv.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    jars.admin = await signIn(srv.url, 'admin@example.com', PW);
    jars.member = await signIn(srv.url, 'member@example.com', PW);
    jars.outsider = await signIn(srv.url, 'outsider@example.com', PW);
    adminGrantId = (await mintAccessToken(srv.services, { email: 'admin@example.com', clientId: 'client-of-admin' })).grantId;
    memberGrantId = (await mintAccessToken(srv.services, { email: 'member@example.com', clientId: 'client-of-member' })).grantId;
    const created = await submit(jars.owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', { name: 'Back office', redirect_uris: 'https://app.example.com/cb', auth_method: 'client_secret_basic' });
    assert.equal(created.status, 200);
    ownerClientId = /id="client-id">([^<]+)</.exec(created.body)![1];
  });
  after(async () => srv?.stop());

  const dashboardPaths = () => ['', '/ledger', '/apps', '/clients', '/members', `/clients/${ownerClientId}`, '/apps/log?client_id=client-of-member'];

  test('a member of another workspace gets the same 404 as for a workspace that does not exist', async () => {
    for (const path of dashboardPaths()) {
      const r = await getPage(jars.outsider, `${srv.url}/dashboard/demo${path}`);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /Demo workspace|Back office|1,000/, path);
      const missing = await getPage(jars.outsider, `${srv.url}/dashboard/no-such-ws${path}`);
      assert.equal(missing.status, 404, path);
      assert.equal(textOf(r.body).replace(/Request id: \S+/, ''), textOf(missing.body).replace(/Request id: \S+/, ''), 'no way to tell the two apart');
    }
    // Their own workspace works, and the switcher lists only theirs.
    const own = await getPage(jars.outsider, `${srv.url}/dashboard/elsewhere`);
    assert.equal(own.status, 200);
    assert.doesNotMatch(own.body, /\/dashboard\/demo/);
  });

  test('signed out, every page sends the browser to sign in and back', async () => {
    for (const path of ['/', '/dashboard/demo', '/dashboard/demo/ledger?before=x', '/admin/workspaces']) {
      const r = await getPage(new CookieJar(), srv.url + path);
      assert.equal(r.status, 303, path);
      const to = new URL(r.location!);
      assert.equal(to.pathname, '/login', path);
      if (path !== '/') assert.equal(to.searchParams.get('next'), path);
    }
    const post = await postForm(new CookieJar(), `${srv.url}/dashboard/demo/clients`, { name: 'x' });
    assert.equal(post.status, 401);
  });

  test('members see the dashboard but cannot manage apps, clients or members', async () => {
    for (const path of dashboardPaths().slice(0, 6)) assert.equal((await getPage(jars.member, `${srv.url}/dashboard/demo${path}`)).status, 200, path);
    const clients = await getPage(jars.member, `${srv.url}/dashboard/demo/clients`);
    assert.doesNotMatch(clients.body, /Create client/);
    const token = csrfOf(clients);
    const create = await postForm(jars.member, `${srv.url}/dashboard/demo/clients`, { csrf_token: token, name: 'Sneaky', redirect_uris: 'https://evil.example/cb', auth_method: 'client_secret_basic' });
    assert.equal(create.status, 403);
    assert.doesNotMatch(create.body, /client_secret|id="client-secret"/);
    assert.equal((await postForm(jars.member, `${srv.url}/dashboard/demo/clients/${ownerClientId}/rotate`, { csrf_token: token })).status, 403);
    assert.equal((await postForm(jars.member, `${srv.url}/dashboard/demo/clients/${ownerClientId}/delete`, { csrf_token: token })).status, 403);
    assert.ok(await srv.services.oauth.clients.getClient(ownerClientId), 'the client is still there');
    // Someone else's app: refused. Their own: allowed.
    assert.equal((await postForm(jars.member, `${srv.url}/dashboard/demo/apps/${adminGrantId}/revoke`, { csrf_token: token })).status, 403);
    assert.equal(await srv.services.oauth.grants.isGrantActive(adminGrantId), true);
    const own = await postForm(jars.member, `${srv.url}/dashboard/demo/apps/${memberGrantId}/revoke`, { csrf_token: token });
    assert.equal(own.status, 303);
    assert.equal(await srv.services.oauth.grants.isGrantActive(memberGrantId), false);
    // Members pages: no forms, and the POSTs are refused.
    const members = await getPage(jars.member, `${srv.url}/dashboard/demo/members`);
    assert.doesNotMatch(members.body, /Add member|Change role/);
    assert.equal((await postForm(jars.member, `${srv.url}/dashboard/demo/members`, { csrf_token: token, email: 'outsider@example.com', role: 'owner' })).status, 403);
    assert.equal((await postForm(jars.member, `${srv.url}/dashboard/demo/members/${memberId}/role`, { csrf_token: token, role: 'owner' })).status, 403);
    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, memberId), 'member');
  });

  test('admins manage apps and clients but not members; owners manage members', async () => {
    const page = await getPage(jars.admin, `${srv.url}/dashboard/demo/members`);
    assert.doesNotMatch(page.body, /Add member/);
    const token = csrfOf(page);
    assert.equal((await postForm(jars.admin, `${srv.url}/dashboard/demo/members`, { csrf_token: token, email: 'outsider@example.com', role: 'member' })).status, 403);
    assert.equal((await postForm(jars.admin, `${srv.url}/dashboard/demo/members/${memberId}/remove`, { csrf_token: token })).status, 403);
    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, memberId), 'member');
    // Managing apps is allowed for admins.
    const other = await mintAccessToken(srv.services, { email: 'member@example.com', clientId: 'another-client' });
    assert.equal((await postForm(jars.admin, `${srv.url}/dashboard/demo/apps/${other.grantId}/revoke`, { csrf_token: token })).status, 303);
    assert.equal(await srv.services.oauth.grants.isGrantActive(other.grantId), false);
    // The owner changes a role, adds and removes a member.
    const add = await submit(jars.owner, `${srv.url}/dashboard/demo/members`, '/dashboard/demo/members', { email: 'outsider@example.com', role: 'member' });
    assert.equal(add.status, 303);
    const outsiderId = (await srv.services.accounts.users.findUserByEmail('outsider@example.com'))!.id;
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, outsiderId), 'member');
    assert.equal((await submit(jars.owner, `${srv.url}/dashboard/demo/members`, `/dashboard/demo/members/${outsiderId}/role`, { role: 'admin' })).status, 303);
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, outsiderId), 'admin');
    assert.equal((await submit(jars.owner, `${srv.url}/dashboard/demo/members`, `/dashboard/demo/members/${outsiderId}/remove`)).status, 303);
    assert.equal(await srv.services.accounts.workspaces.getRole(ws.id, outsiderId), undefined);
    // The last owner cannot demote themselves: a message, not an error page.
    const ownerId = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!.id;
    const demote = await submit(jars.owner, `${srv.url}/dashboard/demo/members`, `/dashboard/demo/members/${ownerId}/role`, { role: 'member' });
    assert.equal(demote.status, 400);
    assert.match(textOf(demote.body), /at least one owner/);
    // Adding an unknown email says so.
    const unknown = await submit(jars.owner, `${srv.url}/dashboard/demo/members`, '/dashboard/demo/members', { email: 'nobody@example.com', role: 'member' });
    assert.equal(unknown.status, 400);
    assert.match(textOf(unknown.body), /No user with the email nobody@example\.com/);
  });

  test('only operators reach the admin pages, and their forms', async () => {
    for (const who of ['admin', 'member', 'outsider'] as const) {
      for (const path of ['/admin/workspaces', '/admin/users', '/admin/clients', '/admin/keys', '/admin/api-keys', '/admin/pricing']) assert.equal((await getPage(jars[who], srv.url + path)).status, 403, `${who} ${path}`);
    }
    const home = await getPage(jars.member, `${srv.url}/`);
    assert.doesNotMatch(home.body, /href="\/admin"/);
    const token = csrfOf(home);
    const jwksBefore = await srv.services.oauth.keys.jwks();
    const balanceBefore = await srv.services.credits.getBalance((await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id);
    const attempts: [string, Record<string, string>][] = [
      ['/admin/workspaces', { slug: 'hijack', name: 'Hijack', owner: 'member@example.com' }],
      ['/admin/credits', { workspace: 'demo', amount: '1000000', reason: 'free money' }],
      ['/admin/users', { email: 'new-operator@example.com', password: PW, is_admin: '1' }],
      ['/admin/keys/rotate', {}],
      [`/admin/clients/${ownerClientId}/delete`, {}],
      ['/admin/api-keys', { name: 'stolen', access: 'write', expires: 'never' }],
      ['/admin/pricing/prices', { tool: 'search_contacts', cost: '0' }],
      ['/admin/pricing/plans', { name: 'free-ride', workspace_per_minute: '1000000', grant_per_minute: '1000000' }],
    ];
    for (const [path, fields] of attempts) assert.equal((await postForm(jars.member, srv.url + path, { csrf_token: token, ...fields })).status, 403, path);
    assert.equal(await srv.services.accounts.workspaces.getWorkspaceBySlug('hijack'), undefined);
    assert.equal(await srv.services.accounts.users.findUserByEmail('new-operator@example.com'), undefined);
    assert.deepEqual(await srv.services.api.keys.listKeys(), []);
    assert.deepEqual(await srv.services.credits.listPrices(), []);
    assert.equal(await srv.services.credits.getPlan('free-ride'), undefined);
    assert.deepEqual(await srv.services.oauth.keys.jwks(), jwksBefore);
    assert.equal(await srv.services.credits.getBalance((await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id), balanceBefore);
    // The operator's own pages work.
    for (const path of ['/admin/workspaces', '/admin/users', '/admin/clients', '/admin/keys']) assert.equal((await getPage(jars.owner, srv.url + path)).status, 200, path);
    assert.ok(await srv.services.oauth.clients.getClient(ownerClientId), 'no client was deleted');
  });

  test('every POST route of the web UI refuses a missing, forged or another session\'s CSRF token', async () => {
    const grant = (await mintAccessToken(srv.services, { clientId: 'csrf-client' })).grantId;
    const owner = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!.id;
    const fill = (path: string) =>
      path.replace(':ws', 'demo').replace(':grant', grant).replace(':id', ownerClientId).replace(':user', owner);
    const fields: Record<string, Record<string, string>> = {
      '/admin/workspaces': { slug: 'csrf-made', owner: ADMIN_EMAIL },
      '/admin/credits': { workspace: 'demo', amount: '5', reason: 'csrf' },
      '/admin/users': { email: 'csrf@example.com', password: PW },
      '/dashboard/:ws/clients': { name: 'CSRF', redirect_uris: 'https://x.example/cb', auth_method: 'client_secret_basic' },
      '/dashboard/:ws/members': { email: 'outsider@example.com', role: 'member' },
      '/dashboard/:ws/members/:user/role': { role: 'member' },
    };
    // Every POST route the web module serves (read from the app, so a new form cannot slip past this test).
    const posts = [...new Set(app.routes.filter((r) => r.method === 'POST' && /^\/(admin|dashboard|consent|logout|login)/.test(r.path)).map((r) => r.path))];
    for (const expected of ['/login', '/logout', '/consent', '/admin/keys/rotate', '/dashboard/:ws/apps/:grant/revoke', '/dashboard/:ws/clients/:id/rotate', '/dashboard/:ws/clients/:id/delete', '/dashboard/:ws/members/:user/remove']) {
      assert.ok(posts.includes(expected), `${expected} is a POST route`);
    }
    const otherToken = csrfOf(await getPage(jars.admin, `${srv.url}/`));
    for (const route of posts) {
      const url = srv.url + fill(route);
      for (const token of [undefined, 'forged', otherToken]) {
        const form = { ...(fields[route] ?? {}), ...(token ? { csrf_token: token } : {}), ...(route === '/consent' ? { decision: 'approve', request: 'x' } : {}) };
        const r = await postForm(jars.owner, url, form);
        assert.ok([400, 403].includes(r.status), `${route} with token ${token ?? '(none)'}: HTTP ${r.status}`);
        assert.equal(r.location, undefined, route);
      }
    }
    // Nothing happened.
    assert.equal(await srv.services.accounts.workspaces.getWorkspaceBySlug('csrf-made'), undefined);
    assert.equal(await srv.services.accounts.users.findUserByEmail('csrf@example.com'), undefined);
    assert.equal(await srv.services.oauth.grants.isGrantActive(grant), true);
    assert.ok(await srv.services.oauth.clients.getClient(ownerClientId));
    assert.match((await getPage(jars.owner, `${srv.url}/`)).body, /signed in as/, 'still signed in');
  });
});
