// Requirements (web UI, pages over HTTP): consent shows a logo only for pre-registered and metadata-document clients,
// marks self-registered ones unverified and names the workspace that created a dashboard client, which may be given
// access to that workspace only; after approval to a loopback or app-scheme redirect a "return to your app" page
// hands over (https callbacks get a plain 303); a client secret appears once (creation, rotation) and never on a
// later page, the previous one working for the overlap; revoking an app ends its token on the next MCP call; the
// ledger pages; the connection log shows only the workspace's own events; hostile names are escaped everywhere; bad
// input never produces a 500 or a stack trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, browserRequest, CookieJar, obtainTokens, pkcePair, rawRequest, refreshTokens, registerClient } from './helpers/oauth-flow.ts';
import { legacyCall } from './helpers/mcp-http.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { csrfOf, getPage, postForm, signIn, submit, textOf } from './helpers/web-pages.ts';
import { jsonForScript } from '../src/web/pages/dashboard.ts';

const LOOPBACK = 'http://127.0.0.1:9/callback';
const CURSOR = 'cursor://anysphere.cursor-mcp/oauth/callback';
const HOSTED = 'https://claude.ai/api/mcp/auth_callback';
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>';

forEachDialect('Web UI pages', (dialect) => {
  let srv: TestServer;
  let docs: Server;
  let docsBase: string;
  let owner: CookieJar;

  before(async () => {
    docs = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_id: docsBase + req.url, client_name: 'Documented app', redirect_uris: [HOSTED], logo_uri: 'https://logo.example/documented.png', token_endpoint_auth_method: 'none' }));
    });
    await new Promise<void>((r) => docs.listen(0, '127.0.0.1', r));
    docsBase = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
    srv = await startTestServer({ dialect, env: { TOLLGATE_CIMD_ALLOW_HTTP: 'true', TOLLGATE_CIMD_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_SECRET_ROTATION_OVERLAP_SECONDS: '3600' } });
    owner = await signIn(srv.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  after(async () => {
    await srv?.stop();
    docs?.closeAllConnections();
    await new Promise((r) => docs?.close(r));
  });

  const consentFor = (clientId: string, redirectUri: string, extra: Record<string, string> = {}) =>
    browserRequest(owner, authorizeUrl(srv.url, { client_id: clientId, redirect_uri: redirectUri, code_challenge: pkcePair().challenge, resource: `${srv.url}/demo/mcp`, state: 's', ...extra }));

  test('consent: a logo only for pre-registered and metadata-document clients; unverified and workspace marks', async () => {
    const logo = 'https://logo.example/app.png';
    const dynamic = (await registerClient(srv.url, { client_name: 'Self made', redirect_uris: [HOSTED], logo_uri: logo })).client_id;
    const page = await consentFor(dynamic, HOSTED);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /<img/, 'no logo for a self-registered client');
    assert.match(page.body, /unverified app/);
    assert.match(page.body, /<p class="redirect-host">claude\.ai<\/p>/);
    assert.match(textOf(page.body), /Read data through the MCP server’s tools/);

    const { client } = await srv.services.oauth.clients.createClient(
      { clientName: 'Operator app', redirectUris: [HOSTED], tokenEndpointAuthMethod: 'client_secret_basic', applicationType: 'web', grantTypes: ['authorization_code', 'refresh_token'], scope: null, extra: { logo_uri: logo } },
      'static',
    );
    const operator = await consentFor(client.clientId, HOSTED);
    assert.match(operator.body, new RegExp(`<img src="${logo.replace(/[.]/g, '\\.')}" alt=""`));
    assert.match(operator.body, /pre-registered/);
    assert.doesNotMatch(operator.body, /unverified/);

    const documented = await consentFor(`${docsBase}/app.json`, HOSTED);
    assert.equal(documented.status, 200, textOf(documented.body));
    assert.match(documented.body, /<img src="https:\/\/logo\.example\/documented\.png"/);
    assert.doesNotMatch(documented.body, /unverified/);

    const created = await submit(owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', { name: 'Workspace tool', redirect_uris: HOSTED, auth_method: 'client_secret_post' });
    const wsClient = /id="client-id">([^<]+)</.exec(created.body)![1];
    const workspaceConsent = await consentFor(wsClient, HOSTED);
    assert.match(textOf(workspaceConsent.body), /workspace app Registered by the workspace Demo workspace \(demo\)/);
    assert.doesNotMatch(workspaceConsent.body, /<img/);
  });

  test('a client created on a workspace\'s dashboard can be given access to that workspace only', async () => {
    const admin = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    await srv.services.createWorkspace({ slug: 'second-ws', name: 'Second', ownerUserId: admin.id });
    const created = await submit(owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', { name: 'Demo-only tool', redirect_uris: HOSTED, auth_method: 'client_secret_post' });
    const clientId = /id="client-id">([^<]+)</.exec(created.body)![1];
    const requestOf = (page: { body: string }) => /name="request" value="([^"]+)"/.exec(page.body)![1];

    // Another workspace's endpoint: the page says why, and offers no Approve; a forged approval is refused.
    const other = await consentFor(clientId, HOSTED, { resource: `${srv.url}/second-ws/mcp` });
    assert.equal(other.status, 200);
    assert.match(textOf(other.body), /was created for the workspace "Demo workspace" and can be given access to that workspace only/);
    assert.doesNotMatch(other.body, /value="approve"/);
    const forged = await postForm(owner, `${srv.url}/consent`, { csrf_token: csrfOf(other), request: requestOf(other), decision: 'approve' });
    assert.equal(forged.status, 403);
    assert.equal(forged.location, undefined, 'no code is issued');

    // The shared endpoint: the picker offers its own workspace only, and a forged choice of another is refused.
    const shared = await consentFor(clientId, HOSTED, { resource: `${srv.url}/mcp` });
    assert.deepEqual([...shared.body.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]), ['demo']);
    const picked = await postForm(owner, `${srv.url}/consent`, { csrf_token: csrfOf(shared), request: requestOf(shared), decision: 'approve', workspace: 'second-ws' });
    assert.equal(picked.status, 403);

    // Its own workspace: approved as usual.
    const own = await consentFor(clientId, HOSTED);
    const approved = await postForm(owner, `${srv.url}/consent`, { csrf_token: csrfOf(own), request: requestOf(own), decision: 'approve' });
    assert.equal(approved.status, 303);
    assert.ok(new URL(approved.location!).searchParams.get('code'));
    // Clients that no workspace owns (self-registered, or created with the CLI) may be given access to any.
    const dynamic = (await registerClient(srv.url, { client_name: 'Anywhere', redirect_uris: [HOSTED] })).client_id;
    const anywhere = await consentFor(dynamic, HOSTED, { resource: `${srv.url}/second-ws/mcp` });
    assert.match(anywhere.body, /value="approve"/);
  });

  test('operators see every registered client with its kind and delete one, which revokes its grants', async () => {
    const dynamic = (await registerClient(srv.url, { client_name: 'Listed self-made', redirect_uris: [HOSTED] })).client_id;
    const created = await submit(owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', { name: 'Listed workspace tool', redirect_uris: HOSTED, auth_method: 'client_secret_basic' });
    const wsClient = /id="client-id">([^<]+)</.exec(created.body)![1];
    const grant = await mintAccessToken(srv.services, { clientId: dynamic });

    const page = await getPage(owner, `${srv.url}/admin/clients`);
    assert.equal(page.status, 200);
    const rowOf = (clientId: string) => textOf(page.body.split('<tr>').find((r) => r.includes(clientId)) ?? '');
    assert.match(rowOf(dynamic), /Listed self-made self-registered/);
    assert.match(rowOf(dynamic), /claude\.ai/);
    assert.match(rowOf(wsClient), /Listed workspace tool workspace demo/);
    assert.match(rowOf(wsClient), /client_secret_basic/);
    const onlyStatic = await getPage(owner, `${srv.url}/admin/clients?kind=static`);
    assert.ok(onlyStatic.body.includes(wsClient) && !onlyStatic.body.includes(dynamic), 'the filter shows pre-registered clients only');

    const deleted = await postForm(owner, `${srv.url}/admin/clients/${dynamic}/delete`, { csrf_token: csrfOf(page) });
    assert.equal(deleted.status, 303);
    assert.equal(await srv.services.oauth.clients.getClient(dynamic), undefined);
    assert.equal(await srv.services.oauth.grants.isGrantActive(grant.grantId), false, 'its grants are revoked');
    assert.match(textOf((await getPage(owner, `${srv.url}${deleted.location!.replace(srv.url, '')}`)).body), /Client deleted/);
    const again = await postForm(owner, `${srv.url}/admin/clients/${dynamic}/delete`, { csrf_token: csrfOf(page) });
    assert.equal(again.status, 400);
    assert.match(textOf(again.body), /no such client/);
  });

  test('after approval to a loopback or app-scheme redirect, a "return to your app" page hands over; https gets a 303', async () => {
    const client = (await registerClient(srv.url, { client_name: 'Cursor', redirect_uris: [LOOPBACK, CURSOR, HOSTED] })).client_id;
    for (const redirect of [LOOPBACK, CURSOR]) {
      for (const decision of ['approve', 'deny']) {
        const page = await consentFor(client, redirect);
        const token = csrfOf(page);
        const request = /name="request" value="([^"]+)"/.exec(page.body)![1];
        const r = await postForm(owner, `${srv.url}/consent`, { csrf_token: token, request, decision });
        assert.equal(r.status, 200, `${redirect} ${decision}`);
        const target = r.headers.get('refresh')!;
        assert.match(target, /^0; url=/);
        const url = new URL(target.slice('0; url='.length));
        assert.equal(`${url.protocol}//${url.host}${url.pathname}`, redirect.replace(/\/callback$/, '/callback'));
        assert.equal(url.searchParams.get(decision === 'approve' ? 'code' : 'error') !== null, true);
        assert.equal(url.searchParams.get('state'), 's');
        assert.match(textOf(r.body), decision === 'approve' ? /You can return to Cursor/ : /You denied Cursor access/);
        assert.ok(r.body.includes(`href="${url.toString().replace(/&/g, '&amp;')}"`), 'a link to the app as a fallback');
        assert.match(r.headers.get('cache-control') ?? '', /no-store/);
      }
    }
    // The oauth-flow helper reads the hand-over as the redirect (every other test relies on it).
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: client, redirect_uri: CURSOR, code_challenge: pkcePair().challenge, resource: `${srv.url}/demo/mcp` }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar: owner });
    assert.equal(back.protocol, 'cursor:');
    assert.ok(back.searchParams.get('code'));
    // A hosted https callback: a plain redirect.
    const hosted = await consentFor(client, HOSTED);
    const r = await postForm(owner, `${srv.url}/consent`, { csrf_token: csrfOf(hosted), request: /name="request" value="([^"]+)"/.exec(hosted.body)![1], decision: 'approve' });
    assert.equal(r.status, 303);
    assert.ok(r.location!.startsWith(HOSTED));
  });

  test('a client secret is shown once at creation and once per rotation; the previous one works for the overlap', async () => {
    const created = await submit(owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', { name: 'Reporting job', redirect_uris: `${HOSTED}\nhttp://127.0.0.1/cb`, auth_method: 'client_secret_basic' });
    assert.equal(created.status, 200);
    assert.match(created.headers.get('cache-control') ?? '', /no-store/);
    const clientId = /id="client-id">([^<]+)</.exec(created.body)![1];
    const secret = /id="client-secret">([^<]+)</.exec(created.body)![1];
    assert.ok(await srv.services.oauth.clients.verifySecret(clientId, secret));
    for (const path of ['/dashboard/demo/clients', `/dashboard/demo/clients/${clientId}`, '/dashboard/demo', '/dashboard/demo/apps']) {
      const page = await getPage(owner, srv.url + path);
      assert.equal(page.status, 200, path);
      assert.ok(!page.body.includes(secret), `the secret is not on ${path}`);
    }
    const detail = await getPage(owner, `${srv.url}/dashboard/demo/clients/${clientId}`);
    assert.match(textOf(detail.body), /Registered created on the dashboard by owner@example\.com/, 'the connection log starts with the registration');
    const rotated = await postForm(owner, `${srv.url}/dashboard/demo/clients/${clientId}/rotate`, { csrf_token: csrfOf(detail) });
    assert.equal(rotated.status, 200);
    const next = /id="client-secret">([^<]+)</.exec(rotated.body)![1];
    assert.notEqual(next, secret);
    assert.match(textOf(rotated.body), /The previous secret keeps working until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    assert.ok(await srv.services.oauth.clients.verifySecret(clientId, next));
    assert.ok(await srv.services.oauth.clients.verifySecret(clientId, secret), 'the old secret works during the overlap');
    assert.ok(!(await getPage(owner, `${srv.url}/dashboard/demo/clients/${clientId}`)).body.includes(next));
    // Delete: gone, and its grants revoked.
    const grant = await mintAccessToken(srv.services, { clientId });
    const del = await postForm(owner, `${srv.url}/dashboard/demo/clients/${clientId}/delete`, { csrf_token: csrfOf(detail) });
    assert.equal(del.status, 303);
    assert.equal(await srv.services.oauth.clients.getClient(clientId), undefined);
    assert.equal(await srv.services.oauth.grants.isGrantActive(grant.grantId), false);
    assert.equal((await getPage(owner, `${srv.url}/dashboard/demo/clients/${clientId}`)).status, 404);
  });

  test('client creation refuses bad names, methods and redirect URIs with a message, keeping what was typed', async () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ name: '', redirect_uris: HOSTED, auth_method: 'client_secret_basic' }, /Give the client a name/],
      [{ name: 'x'.repeat(201), redirect_uris: HOSTED, auth_method: 'client_secret_basic' }, /Give the client a name/],
      [{ name: 'Ok', redirect_uris: HOSTED, auth_method: 'none' }, /how the client sends its secret/],
      [{ name: 'Ok', redirect_uris: '', auth_method: 'client_secret_basic' }, /between 1 and 20 redirect URIs/],
      [{ name: 'Ok', redirect_uris: `${HOSTED}\njavascript:alert(1)`, auth_method: 'client_secret_basic' }, /Not accepted: javascript:alert\(1\) \(the javascript: scheme is not allowed\)/],
      [{ name: 'Ok', redirect_uris: 'http://evil.example/cb', auth_method: 'client_secret_basic' }, /http is allowed only for loopback/],
      [{ name: 'Ok', redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`).join('\n'), auth_method: 'client_secret_basic' }, /between 1 and 20/],
    ];
    const before = (await srv.services.oauth.clients.listClients()).length;
    for (const [fields, message] of bad) {
      const r = await submit(owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', fields);
      assert.equal(r.status, 400, JSON.stringify(fields).slice(0, 80));
      assert.match(textOf(r.body), message);
    }
    const kept = await submit(owner, `${srv.url}/dashboard/demo/clients`, '/dashboard/demo/clients', { name: 'Kept name', redirect_uris: 'ftp://x', auth_method: 'client_secret_post' });
    assert.match(kept.body, /value="Kept name"/);
    assert.match(kept.body, /<option value="client_secret_post" selected>/);
    assert.equal((await srv.services.oauth.clients.listClients()).length, before);
  });

  test('revoking a connected app on the dashboard ends its token on the next MCP call', async () => {
    const { tokens, clientId } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource: `${srv.url}/demo/mcp` });
    const endpoint = `${srv.url}/demo/mcp`;
    assert.equal((await legacyCall(endpoint, tokens.access_token, 'tools/list')).status, 200);
    const apps = await getPage(owner, `${srv.url}/dashboard/demo/apps`);
    const grant = (await srv.services.oauth.directory.listWorkspaceGrants((await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!.id)).find((g) => g.clientId === clientId)!;
    assert.match(apps.body, new RegExp(`/dashboard/demo/apps/${grant.id}/revoke`));
    const r = await postForm(owner, `${srv.url}/dashboard/demo/apps/${grant.id}/revoke`, { csrf_token: csrfOf(apps) });
    assert.equal(r.status, 303);
    assert.match(textOf((await getPage(owner, r.location!)).body), /Access revoked/);
    const after = await legacyCall(endpoint, tokens.access_token, 'tools/list');
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate') ?? '', /invalid_token/);
    const refreshed = await refreshTokens(srv.url, { client_id: clientId, refresh_token: tokens.refresh_token });
    assert.equal(refreshed.body.error, 'invalid_grant', 'its refresh token is dead too');
    // The log shows the revocation with its request id.
    const log = await getPage(owner, `${srv.url}/dashboard/demo/apps/log?client_id=${encodeURIComponent(clientId)}`);
    assert.match(textOf(log.body), /Revoked revoked on the dashboard by owner@example\.com/);
    assert.equal((await postForm(owner, `${srv.url}/dashboard/demo/apps/${grant.id}/revoke`, { csrf_token: csrfOf(apps) })).status, 303, 'revoking twice is harmless');
    assert.equal((await postForm(owner, `${srv.url}/dashboard/demo/apps/no-such-grant/revoke`, { csrf_token: csrfOf(apps) })).status, 404);
  });

  test('the connection log shows this workspace\'s events only, and hostile client names are escaped everywhere', async () => {
    const outsider = await srv.services.accounts.users.createUser({ email: 'log-outsider@example.com', password: 'a long enough password' });
    await srv.services.createWorkspace({ slug: 'log-other', name: 'Other', ownerUserId: outsider.id });
    const clientId = (await registerClient(srv.url, { client_name: HOSTILE, redirect_uris: [HOSTED] })).client_id;
    const mine = await mintAccessToken(srv.services, { clientId });
    await mintAccessToken(srv.services, { clientId, workspace: 'log-other', email: 'log-outsider@example.com' });
    const otherWs = (await srv.services.accounts.workspaces.getWorkspaceBySlug('log-other'))!;
    await srv.services.oauth.clientEvents.record({ clientId, workspaceId: otherWs.id, kind: 'mcp_error', requestId: 'req-other-workspace', detail: 'secret business of log-other' });
    await srv.services.oauth.clientEvents.record({ clientId, workspaceId: mine.workspaceId, kind: 'mcp_error', requestId: 'req-mine-0001', detail: `tool failed: ${HOSTILE}` });
    const log = await getPage(owner, `${srv.url}/dashboard/demo/apps/log?client_id=${encodeURIComponent(clientId)}`);
    assert.equal(log.status, 200);
    assert.match(log.body, /req-mine-0001/);
    assert.doesNotMatch(log.body, /req-other-workspace|secret business/);
    assert.match(textOf(log.body), /Registered/, 'its (unbound) registration is shown for a self-registered client');
    for (const page of [log, await getPage(owner, `${srv.url}/dashboard/demo/apps`)]) {
      assert.doesNotMatch(page.body, /<script>alert|<img src=x/);
      assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    }
    // A client with no grant here: not found, even with the id.
    const stranger = (await registerClient(srv.url, { client_name: 'Stranger', redirect_uris: [HOSTED] })).client_id;
    assert.equal((await getPage(owner, `${srv.url}/dashboard/demo/apps/log?client_id=${encodeURIComponent(stranger)}`)).status, 404);
    // The chart data block cannot be broken out of.
    const json = jsonForScript({ names: ['</script><script>alert(1)</script>', '\u2028'] });
    assert.doesNotMatch(json, /<|>|\u2028/);
    assert.deepEqual(JSON.parse(json), { names: ['</script><script>alert(1)</script>', '\u2028'] });
  });

  test('the ledger pages 50 rows at a time, newest first', async () => {
    const ws = (await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    for (let i = 1; i <= 60; i++) await srv.services.credits.grantCredits({ workspaceId: ws.id, amount: i, reason: 'grant', description: `batch ${i}` });
    const first = await getPage(owner, `${srv.url}/dashboard/demo/ledger`);
    assert.equal(first.status, 200);
    const rows = (body: string) => (body.match(/<tr>\s*<td><time/g) ?? []).length;
    assert.equal(rows(first.body), 50);
    assert.ok(textOf(first.body).indexOf('batch 60') < textOf(first.body).indexOf('batch 59'));
    const older = /href="(\/dashboard\/demo\/ledger\?before=[^"]+)" rel="next"/.exec(first.body)![1];
    const second = await getPage(owner, srv.url + older.replace(/&amp;/g, '&'));
    assert.match(textOf(second.body), /batch 10 /);
    assert.doesNotMatch(textOf(second.body), /batch 11 /);
    assert.match(second.body, /← Newest/);
    for (const junk of ['!!!', 'x'.repeat(500), '%00', 'MTox']) assert.equal((await getPage(owner, `${srv.url}/dashboard/demo/ledger?before=${junk}`)).status, 200, junk);
  });

  test('bad input anywhere gets a 4xx page, never a 500 or a stack trace', async () => {
    const token = csrfOf(await getPage(owner, `${srv.url}/`));
    const gets = [
      '/dashboard/demo?days=abc', '/dashboard/demo?days=100000', `/dashboard/${'x'.repeat(5000)}`, '/dashboard/%00', '/dashboard/demo/clients/%E2%80%AE',
      `/dashboard/demo/clients/${'a'.repeat(300)}`, '/dashboard/demo/apps/log', `/dashboard/demo/apps/log?client_id=${'x'.repeat(3000)}`, '/static/..%2Fconsent.ts', '/static/nope.js',
      '/admin/nothing', '/dashboard/demo/ledger?before=%FF', '/dashboard/demo/apps/log?client_id=%00', '/dashboard/demo/apps/log?client_id=%FF%FE',
      '/dashboard/demo/clients/%00', '/login?next=%00', '/authorize?client_id=%00', '/authorize?client_id=x&redirect_uri=%00',
    ];
    for (const path of gets) {
      const r = await getPage(owner, srv.url + path);
      assert.ok(r.status < 500, `${path}: ${r.status}`);
      assert.doesNotMatch(r.body, /at .*\.ts:\d+|Error: /, path);
    }
    const posts: [string, Record<string, string>][] = [
      ['/admin/workspaces', { slug: 'Bad Slug!', owner: ADMIN_EMAIL }],
      ['/admin/workspaces', { slug: 'admin', owner: ADMIN_EMAIL }],
      ['/admin/workspaces', { slug: 'demo', owner: ADMIN_EMAIL }],
      ['/admin/workspaces', { slug: 'fine-slug', owner: 'nobody@example.com' }],
      ['/admin/workspaces', { slug: 'fine-slug', name: 'n'.repeat(300), owner: ADMIN_EMAIL }],
      ['/admin/credits', { workspace: 'demo', amount: '-5', reason: 'x' }],
      ['/admin/credits', { workspace: 'demo', amount: '1e9', reason: 'x' }],
      ['/admin/credits', { workspace: 'demo', amount: '99999999999999999999', reason: 'x' }],
      ['/admin/credits', { workspace: 'demo', amount: '5', reason: '' }],
      ['/admin/credits', { workspace: 'nope', amount: '5', reason: 'x' }],
      ['/admin/users', { email: 'not-an-email', password: 'long enough password' }],
      ['/admin/users', { email: ADMIN_EMAIL, password: 'long enough password' }],
      ['/admin/users', { email: 'short@example.com', password: 'short' }],
      ['/dashboard/demo/members', { email: ADMIN_EMAIL, role: 'member' }],
      ['/dashboard/demo/members', { email: 'x@example.com', role: 'emperor' }],
      ['/dashboard/demo/members/nobody/role', { role: 'admin' }],
      ['/dashboard/demo/members/nobody/remove', {}],
      ['/dashboard/demo/clients/nope/rotate', {}],
      [`/dashboard/demo/apps/${'g'.repeat(500)}/revoke`, {}],
      ['/dashboard/demo/apps/%00/revoke', {}],
      ['/dashboard/demo/members', { email: 'nul\u0000@example.com', role: 'member' }],
      ['/admin/workspaces', { slug: 'nul\u0000slug', owner: `${ADMIN_EMAIL}\u0000` }],
      ['/admin/credits', { workspace: 'de\u0000mo', amount: '5', reason: 'x\u0000' }],
      ['/admin/users', { email: 'nul\u0000@example.com', name: 'N\u0000', password: 'long enough password' }],
      ['/dashboard/demo/clients', { name: 'Nul\u0000', redirect_uris: 'https://a.example/\u0000', auth_method: 'client_secret_basic' }],
    ];
    for (const [path, fields] of posts) {
      const r = await postForm(owner, srv.url + path, { csrf_token: token, ...fields });
      assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(fields).slice(0, 60)}: ${r.status}`);
      assert.doesNotMatch(r.body, /at .*\.ts:\d+/, path);
    }
    assert.equal(await srv.services.accounts.workspaces.getWorkspaceBySlug('fine-slug'), undefined);
    // A consent decision naming a workspace with a NUL byte.
    const picker = await browserRequest(owner, authorizeUrl(srv.url, { client_id: (await registerClient(srv.url, { redirect_uris: [HOSTED] })).client_id, redirect_uri: HOSTED, code_challenge: pkcePair().challenge, resource: `${srv.url}/mcp` }));
    const decided = await postForm(owner, `${srv.url}/consent`, { csrf_token: csrfOf(picker), request: /name="request" value="([^"]+)"/.exec(picker.body)![1], decision: 'approve', workspace: 'de\u0000mo' });
    assert.equal(decided.status, 400);
    // Sign-in with NUL bytes and undecodable input.
    for (const email of ['nul\u0000@example.com', '\uFFFF', '%FF']) {
      const jar = new CookieJar();
      const login = await getPage(jar, `${srv.url}/login`);
      const r = await postForm(jar, `${srv.url}/login`, { csrf_token: csrfOf(login), email, password: 'pass\u0000word' });
      assert.equal(r.status, 401, JSON.stringify(email));
    }
    // Malformed bodies: wrong type, repeated fields, undecodable.
    const cookie = owner.header();
    for (const [type, body] of [['application/json', '{"csrf_token":"x"}'], ['application/x-www-form-urlencoded', `csrf_token=${token}&csrf_token=${token}`], ['application/x-www-form-urlencoded', '%%%'], ['text/plain', 'hello']]) {
      const r = await rawRequest(`${srv.url}/admin/keys/rotate`, { method: 'POST', headers: { 'content-type': type, cookie }, body });
      assert.ok(r.status >= 400 && r.status < 500, `${type} ${body}: ${r.status}`);
    }
    // Operators' successful forms still work after all that.
    const made = await postForm(owner, `${srv.url}/admin/users`, { csrf_token: token, email: 'generated@example.com', name: 'Gen' });
    assert.equal(made.status, 200);
    const password = /id="new-password">([^<]+)</.exec(made.body)![1];
    assert.ok(await srv.services.accounts.users.authenticate('generated@example.com', password), 'the generated password is shown once and works');
    const granted = await postForm(owner, `${srv.url}/admin/credits`, { csrf_token: token, workspace: 'demo', amount: '250', reason: 'support ticket 7' });
    assert.equal(granted.status, 303);
    const ledger = await getPage(owner, `${srv.url}/dashboard/demo/ledger`);
    assert.match(textOf(ledger.body), /Granted support ticket 7 — \+250/);
  });
});
