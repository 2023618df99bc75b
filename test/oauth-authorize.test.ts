// Requirements (OAuth §3, §6): /authorize validation order (client and redirect URI first, shown never redirected),
// PKCE S256 only, state echo, `iss` on every authorization response, resource validation, tolerant scopes, sign-in,
// consent (workspace picker, unverified marking, CSRF, framing), re-entrant consent, and real clients' request shapes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, browserRequest, CookieJar, exchangeCode, parseForms, pkcePair, registerClient } from './helpers/oauth-flow.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';

const CLAUDE_CALLBACK = 'https://claude.ai/api/mcp/auth_callback';

forEachDialect('OAuth /authorize and consent', (dialect) => {
  let srv: TestServer;
  let clientId: string;
  let twoUriClientId: string;
  let resource: string;
  const jar = new CookieJar();
  const pkce = pkcePair();

  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_DCR_RATE_PER_MINUTE: '1000' } });
    resource = `${srv.url}/demo/mcp`;
    clientId = (await registerClient(srv.url, { client_name: 'Claude', redirect_uris: [CLAUDE_CALLBACK] })).client_id;
    twoUriClientId = (await registerClient(srv.url, { client_name: 'Two', redirect_uris: [CLAUDE_CALLBACK, 'https://claude.ai/other'] })).client_id;
    // Sign the shared jar in once.
    const page = await browserRequest(jar, `${srv.url}/login`);
    const form = parseForms(page.body, page.url).find((f) => f.action.endsWith('/login'))!;
    const r = await browserRequest(jar, form.action, { form: { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    assert.equal(r.status, 303);
  });
  after(async () => srv.stop());

  const url = (params: Record<string, string | undefined>) =>
    authorizeUrl(srv.url, { client_id: clientId, redirect_uri: CLAUDE_CALLBACK, code_challenge: pkce.challenge, resource, state: 'st-1', ...params });
  /** GET /authorize as a signed-in browser; returns the response without following anything. */
  const get = (u: string) => browserRequest(jar, u);
  const redirectedTo = (location: string | undefined) => {
    assert.ok(location, 'expected a redirect');
    const u = new URL(location);
    assert.equal(`${u.origin}${u.pathname}`, CLAUDE_CALLBACK);
    return u.searchParams;
  };

  test('errors before the client and redirect URI are validated are shown on a page, never redirected', async () => {
    const cases = [
      url({ client_id: undefined }),
      url({ client_id: 'no-such-client' }),
      url({ redirect_uri: 'https://evil.example/cb' }),
      url({ client_id: twoUriClientId, redirect_uri: undefined, response_type: 'token' }),
      `${url({})}&client_id=${clientId}`,
      `${url({})}&redirect_uri=${encodeURIComponent(CLAUDE_CALLBACK)}`,
      url({ client_id: 'x'.repeat(5000) }),
    ];
    for (const u of cases) {
      const r = await get(u);
      assert.equal(r.location, undefined, `redirected for ${u.slice(0, 120)}`);
      assert.ok(r.status === 400 || r.status === 404, `status ${r.status} for ${u.slice(0, 120)}`);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
      assert.doesNotMatch(r.body, /at .*\.ts:\d+/, 'no stack trace');
    }
  });

  test('open-redirect attempts with look-alike redirect URIs are refused on a page', async () => {
    for (const evil of [
      'https://claude.ai.evil.com/api/mcp/auth_callback',
      'https://claude.ai/api/mcp/auth_callback/../../evil',
      'https://claude.ai/api/mcp/auth_callback?next=https://evil.com',
      'https://claude.ai/api/mcp/auth_callback#x',
      'https://evil.com@claude.ai/api/mcp/auth_callback',
      'https://claude.ai:8443/api/mcp/auth_callback',
      'HTTPS://CLAUDE.AI/api/mcp/auth_callback',
      'javascript:alert(1)//https://claude.ai/api/mcp/auth_callback',
    ]) {
      const r = await get(url({ redirect_uri: evil }));
      assert.equal(r.location, undefined, evil);
      assert.equal(r.status, 400, evil);
    }
  });

  test('without redirect_uri, a client with a single registered URI is answered there (OAuth 2.1 §2.3.2)', async () => {
    const p = redirectedTo((await get(url({ redirect_uri: undefined, response_type: 'token' }))).location);
    assert.equal(p.get('error'), 'unsupported_response_type');
    assert.equal(p.get('iss'), srv.url);
  });

  test('after validation, errors redirect with error, error_description, state and iss', async () => {
    const cases: [Record<string, string | undefined>, string, RegExp][] = [
      [{ response_type: undefined }, 'invalid_request', /response_type/],
      [{ response_type: 'token' }, 'unsupported_response_type', /code/],
      [{ code_challenge: undefined }, 'invalid_request', /code_challenge/],
      [{ code_challenge_method: 'plain' }, 'invalid_request', /S256/],
      [{ code_challenge_method: undefined }, 'invalid_request', /S256/],
      [{ code_challenge: 'too-short' }, 'invalid_request', /43/],
      [{ resource: 'https://other.example.com/mcp' }, 'invalid_target', /not an MCP endpoint/],
      [{ resource: `${srv.url}/nosuchws/mcp` }, 'invalid_target', /not found/],
      [{ resource: `${srv.url}/demo/other` }, 'invalid_target', /not an MCP endpoint/],
      [{ resource: `${srv.url}/demo/mcp/nosuchserver` }, 'invalid_target', /no MCP server named nosuchserver/],
      [{ nonce: 'n'.repeat(600) }, 'invalid_request', /nonce/],
    ];
    for (const [params, error, description] of cases) {
      const p = redirectedTo((await get(url(params))).location);
      assert.equal(p.get('error'), error, JSON.stringify(params));
      assert.match(p.get('error_description') ?? '', description);
      assert.equal(p.get('state'), 'st-1');
      assert.equal(p.get('iss'), srv.url);
    }
    // A repeated parameter is refused; a repeated state is not echoed (which one would it be?).
    const dup = redirectedTo((await get(`${url({})}&scope=mcp:read&scope=mcp:write`)).location);
    assert.equal(dup.get('error'), 'invalid_request');
    const dupState = redirectedTo((await get(`${url({})}&state=other`)).location);
    assert.equal(dupState.get('error'), 'invalid_request');
    assert.equal(dupState.get('state'), null);
    const longState = redirectedTo((await get(url({ state: 's'.repeat(3000) }))).location);
    assert.equal(longState.get('error'), 'invalid_request');
  });

  test('approve: the code arrives with the exact state and iss; deny: access_denied with state and iss', async () => {
    const state = 'a b&c=d/é?#';
    const ok = new URL((await approveAuthorization(url({ state }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar })).toString());
    assert.equal(ok.searchParams.get('state'), state);
    assert.equal(ok.searchParams.get('iss'), srv.url);
    assert.ok(ok.searchParams.get('code'));
    assert.equal(ok.searchParams.getAll('code').length, 1);
    const denied = await approveAuthorization(url({}), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar, deny: true });
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 'st-1');
    assert.equal(denied.searchParams.get('iss'), srv.url);
    const noState = await approveAuthorization(url({ state: undefined }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    assert.equal(noState.searchParams.has('state'), false);
    assert.equal(noState.searchParams.get('iss'), srv.url);
  });

  test('a signed-out browser is sent to sign in, then straight back to the same authorization request', async () => {
    const fresh = new CookieJar();
    const first = await browserRequest(fresh, url({}));
    assert.equal(first.status, 302);
    const login = new URL(first.location!);
    assert.equal(login.pathname, '/login');
    assert.equal(srv.url + login.searchParams.get('next'), url({}));
    const back = await approveAuthorization(url({}), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar: fresh });
    assert.ok(back.searchParams.get('code'));
  });

  test('POST /authorize with a form body works like GET (OpenID Connect Core §3.1.2.1)', async () => {
    const params = Object.fromEntries(new URL(url({})).searchParams);
    const page = await browserRequest(jar, `${srv.url}/authorize`, { form: params });
    assert.equal(page.status, 200);
    assert.ok(parseForms(page.body, page.url).some((f) => f.buttons.decision));
    const bad = await browserRequest(jar, `${srv.url}/authorize`, { form: { ...params, redirect_uri: 'https://evil.example/cb' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.location, undefined);
  });

  test('prompt=none never shows a page: login_required when signed out', async () => {
    const r = await browserRequest(new CookieJar(), url({ prompt: 'none' }));
    const p = redirectedTo(r.location);
    assert.equal(p.get('error'), 'login_required');
    assert.equal(p.get('iss'), srv.url);
  });

  test('prompt=login and max_age ask a signed-in user to sign in again, then go on to consent; auth_time says when', async () => {
    const again = new CookieJar();
    const signInAs = async (j: CookieJar, next: string) => {
      const form = parseForms((await browserRequest(j, `${srv.url}/login?next=${encodeURIComponent(next)}`)).body, `${srv.url}/login`).find((f) => f.action.endsWith('/login'))!;
      return browserRequest(j, form.action, { form: { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    };
    await signInAs(again, '/');
    // Sessions are made to have started a minute ago (what a sign-in's age is measured from).
    const backdate = () => srv.services.store.db.updateTable('sessions').set((eb) => ({ created_at: eb('created_at', '-', 60_000) })).execute();
    await backdate();

    // prompt=login: the sign-in form (prefilled), although a session exists.
    const asked = await browserRequest(again, url({ prompt: 'login consent', scope: 'openid mcp:read' }));
    assert.equal(asked.status, 302);
    const loginUrl = new URL(asked.location!);
    assert.equal(loginUrl.pathname, '/login');
    assert.equal(loginUrl.searchParams.get('reauth'), '1');
    const back = new URL(loginUrl.searchParams.get('next')!, srv.url);
    assert.equal(back.searchParams.get('prompt'), 'consent', 'login is dropped from the way back, the rest kept');
    const form = await browserRequest(again, asked.location!);
    assert.equal(form.status, 200);
    assert.match(form.body, new RegExp(`value="${ADMIN_EMAIL.replace(/[.]/g, '\\.')}"`));
    const before = Date.now();
    const signedIn = await browserRequest(again, parseForms(form.body, form.url).find((f) => f.action.endsWith('/login'))!.action, {
      form: { ...parseForms(form.body, form.url).find((f) => f.action.endsWith('/login'))!.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    assert.equal(signedIn.status, 303);
    const consent = await browserRequest(again, signedIn.location!);
    assert.equal(consent.status, 200, 'consent, not another sign-in');
    const decision = parseForms(consent.body, consent.url).find((f) => f.action.endsWith('/consent'))!;
    const approved = await browserRequest(again, decision.action, { form: { ...decision.fields, decision: 'approve' } });
    const code = redirectedTo(approved.location).get('code')!;
    const tokens = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: CLAUDE_CALLBACK, code_verifier: pkce.verifier });
    assert.equal(tokens.status, 200);
    const authTime = Number(decodeJwt(String(tokens.body.id_token))!.payload.auth_time);
    assert.ok(authTime * 1000 >= Math.floor(before / 1000) * 1000, 'auth_time is the new sign-in');

    // max_age: a sign-in older than it asks again, a younger one does not.
    await backdate();
    assert.equal(new URL((await browserRequest(again, url({ max_age: '0' }))).location!).pathname, '/login');
    assert.equal((await browserRequest(again, url({ max_age: '3600' }))).status, 200);
    const none = redirectedTo((await browserRequest(again, url({ prompt: 'none', max_age: '0' }))).location);
    assert.equal(none.get('error'), 'login_required');
  });

  test('prompt=none with another value, and a max_age that is not a number of seconds, are invalid_request', async () => {
    for (const params of [{ prompt: 'none login' }, { max_age: '-1' }, { max_age: 'soon' }]) {
      const p = redirectedTo((await get(url(params))).location);
      assert.equal(p.get('error'), 'invalid_request', JSON.stringify(params));
      assert.equal(p.get('state'), 'st-1');
    }
  });

  test('the consent page names the app (unverified), the redirect host, the server, the workspace and the scopes', async () => {
    const r = await get(url({ scope: 'mcp:read openid email' }));
    assert.equal(r.status, 200);
    assert.match(r.body, /Claude/);
    assert.match(r.body, /unverified/);
    assert.match(r.body, /class="redirect-host">claude\.ai</);
    // The server's URL as the page shows it (break points between its parts are not text).
    assert.match(r.body.replace(/<wbr \/>/g, ''), new RegExp(resource.replace(/[.]/g, '\\.')));
    assert.match(r.body, /Demo workspace/);
    assert.match(r.body, /Read data/);
    assert.match(r.body, /email address/);
    assert.doesNotMatch(r.body, /Change data/, 'only the requested scopes');
  });

  test('a hostile client name is shown as text, not markup', async () => {
    const evil = (await registerClient(srv.url, { client_name: '<script>alert(1)</script><img src=x onerror=alert(2)>', redirect_uris: [CLAUDE_CALLBACK] })).client_id;
    const page = await get(url({ client_id: evil }));
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /<script>alert|<img src=x/);
    assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });

  test('sign-in and consent pages cannot be framed (frame-ancestors \'none\')', async () => {
    for (const page of [await browserRequest(new CookieJar(), `${srv.url}/login`), await get(url({}))]) {
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.doesNotMatch(page.headers.get('content-security-policy') ?? '', /form-action/, 'a form-action would block redirects to apps');
    }
  });

  test('a consent POST without a valid CSRF token is refused', async () => {
    const page = await get(url({}));
    const consent = parseForms(page.body, page.url).find((f) => f.buttons.decision)!;
    const without: Record<string, string> = { ...consent.fields, decision: 'approve', workspace: 'demo' };
    delete without.csrf_token;
    const r1 = await browserRequest(jar, consent.action, { form: without });
    assert.equal(r1.status, 403);
    assert.equal(r1.location, undefined);
    const r2 = await browserRequest(jar, consent.action, { form: { ...without, csrf_token: 'forged' } });
    assert.equal(r2.status, 403);
    // Another browser's valid token does not work here either.
    const other = new CookieJar();
    await approveAuthorization(url({}), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar: other });
    const otherPage = await browserRequest(other, url({}));
    const otherToken = parseForms(otherPage.body, otherPage.url).find((f) => f.buttons.decision)!.fields.csrf_token;
    const r3 = await browserRequest(jar, consent.action, { form: { ...without, csrf_token: otherToken } });
    assert.equal(r3.status, 403);
    // A tampered sealed request is refused too.
    const r4 = await browserRequest(jar, consent.action, { form: { ...consent.fields, decision: 'approve', request: consent.fields.request.slice(0, -4) + 'AAAA' } });
    assert.equal(r4.status, 400);
  });

  test('consent is re-entrant: a reload and a double submit still end with a working code', async () => {
    await get(url({}));
    await get(url({}));
    const back = await approveAuthorization(url({}), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar, doubleSubmit: true });
    const code = back.searchParams.get('code')!;
    const r = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: CLAUDE_CALLBACK, code_verifier: pkce.verifier });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  test('the shared endpoint shows a picker with only the user\'s workspaces, and the choice is bound into the token', async () => {
    const { accounts } = srv.services;
    const owner = (await accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    await srv.services.createWorkspace({ slug: 'mine-too', name: 'Second workspace', ownerUserId: owner.id });
    await srv.services.createWorkspace({ slug: 'not-mine', name: 'Someone else' });
    const page = await get(url({ resource: `${srv.url}/mcp` }));
    const form = parseForms(page.body, page.url).find((f) => f.buttons.decision)!;
    assert.deepEqual(form.selects.workspace.sort(), ['demo', 'mine-too']);
    const back = await approveAuthorization(url({ resource: `${srv.url}/mcp` }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar, workspace: 'mine-too' });
    const t = await exchangeCode(srv.url, { client_id: clientId, code: back.searchParams.get('code')!, redirect_uri: CLAUDE_CALLBACK, code_verifier: pkce.verifier });
    assert.equal(t.status, 200);
    const claims = decodeJwt(t.body.access_token)!.payload;
    assert.equal(claims.aud, `${srv.url}/mcp`);
    assert.equal(claims.workspace, 'mine-too');
    // Submitting a workspace the user does not belong to is refused.
    const page2 = await get(url({ resource: `${srv.url}/mcp` }));
    const form2 = parseForms(page2.body, page2.url).find((f) => f.buttons.decision)!;
    const forged = await browserRequest(jar, form2.action, { form: { ...form2.fields, decision: 'approve', workspace: 'not-mine' } });
    assert.equal(forged.status, 403);
    assert.equal(forged.location, undefined);
  });

  test('a workspace endpoint the user does not belong to offers only Deny', async () => {
    const page = await get(url({ resource: `${srv.url}/not-mine/mcp` }));
    assert.equal(page.status, 200);
    assert.match(page.body, /not a member/);
    const form = parseForms(page.body, page.url).find((f) => f.buttons.decision)!;
    assert.deepEqual(form.buttons.decision, ['deny']);
    const forged = await browserRequest(jar, form.action, { form: { ...form.fields, decision: 'approve' } });
    assert.equal(forged.status, 403);
  });

  test('claude.ai: garbage scope `claudeai` and no resource → default MCP scopes, workspace picked, token valid at both endpoints', async () => {
    const back = await approveAuthorization(url({ resource: undefined, scope: 'claudeai' }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar, workspace: 'demo' });
    const t = await exchangeCode(srv.url, { client_id: clientId, code: back.searchParams.get('code')!, redirect_uri: CLAUDE_CALLBACK, code_verifier: pkce.verifier });
    assert.equal(t.status, 200);
    assert.equal(t.body.scope, 'mcp:read mcp:write');
    const verify = srv.services.oauth.accessTokens.verifyAccessToken;
    assert.ok((await verify(t.body.access_token, `${srv.url}/demo/mcp`)).ok);
    assert.ok((await verify(t.body.access_token, `${srv.url}/mcp`)).ok);
    assert.equal((await verify(t.body.access_token, `${srv.url}/mine-too/mcp`)).ok, false);
    // The resource is inherited on refresh.
    const r = await fetch(`${srv.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: t.body.refresh_token }) });
    const refreshed = await r.json();
    assert.ok((await verify(refreshed.access_token, `${srv.url}/mcp`)).ok);
    assert.ok((await verify(refreshed.access_token, `${srv.url}/demo/mcp`)).ok);
  });

  test('VS Code: four-URI registration, then a random loopback port at authorize and token time', async () => {
    const reg = await registerClient(srv.url, {
      client_name: 'Visual Studio Code',
      redirect_uris: ['http://127.0.0.1:33418', 'https://vscode.dev/redirect', 'http://localhost/', 'http://127.0.0.1/'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(reg.redirect_uris.length, 4);
    const redirect = 'http://127.0.0.1:54871/';
    const p = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: reg.client_id, redirect_uri: redirect, code_challenge: p.challenge, resource, scope: 'mcp:read mcp:write' }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    assert.equal(back.origin, 'http://127.0.0.1:54871');
    const t = await exchangeCode(srv.url, { client_id: reg.client_id, code: back.searchParams.get('code')!, redirect_uri: redirect, code_verifier: p.verifier });
    assert.equal(t.status, 200);
    // Any port, but not another host or path.
    for (const bad of ['http://127.0.0.2:54871/', 'http://127.0.0.1:54871/other', 'http://evil.com:54871/']) {
      const r = await get(authorizeUrl(srv.url, { client_id: reg.client_id, redirect_uri: bad, code_challenge: p.challenge }));
      assert.equal(r.status, 400, bad);
      assert.equal(r.location, undefined, bad);
    }
  });

  test('Cursor: three-URI registration with a cursor:// callback, and the flow returns to cursor://', async () => {
    const reg = await registerClient(srv.url, {
      client_name: 'Cursor',
      redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-tollgate/callback', 'cursor://anysphere.cursor-mcp/oauth/callback', 'http://localhost:6274/oauth/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    assert.equal(reg.redirect_uris.length, 3);
    assert.equal(reg.application_type, 'native');
    const p = pkcePair();
    const redirect = 'cursor://anysphere.cursor-retrieval/oauth/user-tollgate/callback';
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: reg.client_id, redirect_uri: redirect, code_challenge: p.challenge, resource, state: 'cur' }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    assert.equal(back.protocol, 'cursor:');
    assert.equal(back.searchParams.get('iss'), srv.url);
    const t = await exchangeCode(srv.url, { client_id: reg.client_id, code: back.searchParams.get('code')!, redirect_uri: redirect, code_verifier: p.verifier });
    assert.equal(t.status, 200);
  });
});
