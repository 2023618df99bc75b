// Requirements (OAuth §5): revocation (RFC 7009) of access or refresh tokens ends the grant, unknown tokens get 200,
// a client revokes only its own; introspection (RFC 7662) for authenticated confidential clients; userinfo for
// `openid`. Runs on both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, CookieJar, exchangeCode, obtainTokens, pkcePair, postForm, refreshTokens, registerClient } from './helpers/oauth-flow.ts';
import { runCli } from './helpers/cli.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';

forEachDialect('OAuth revocation, introspection and userinfo', (dialect) => {
  let srv: TestServer;
  let resource: string;
  const jar = new CookieJar();
  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_DCR_RATE_PER_MINUTE: '1000' } });
    resource = `${srv.url}/demo/mcp`;
  });
  after(async () => srv.stop());

  const tokens = (scope?: string) => obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource, scope, jar });
  const verify = (token: string) => srv.services.oauth.accessTokens.verifyAccessToken(token, resource);

  async function confidentialTokens() {
    const reg = await registerClient(srv.url, { client_name: 'Backend', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
    const p = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: reg.client_id, redirect_uri: REDIRECT, code_challenge: p.challenge, resource }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    const basic = { id: reg.client_id, secret: reg.client_secret };
    const t = await exchangeCode(srv.url, { code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier }, basic);
    assert.equal(t.status, 200);
    return { basic, tokens: t.body };
  }

  test('revoking the refresh token ends the grant: its access token and refresh token stop working', async () => {
    const { clientId, tokens: t } = await tokens();
    const r = await postForm(`${srv.url}/revoke`, { client_id: clientId, token: t.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await verify(t.access_token), { ok: false, description: 'grant revoked' });
    assert.equal((await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token })).body.error, 'invalid_grant');
    const events = await srv.services.oauth.clientEvents.list(clientId);
    assert.ok(events.some((e) => e.kind === 'revoked'));
  });

  test('revoking the access token ends the grant too (whatever the hint says)', async () => {
    const { clientId, tokens: t } = await tokens();
    const r = await postForm(`${srv.url}/revoke`, { client_id: clientId, token: t.access_token, token_type_hint: 'refresh_token' });
    assert.equal(r.status, 200);
    assert.equal((await verify(t.access_token)).ok, false);
    assert.equal((await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token })).body.error, 'invalid_grant');
  });

  test('unknown tokens get 200; another client\'s token gets 200 and stays valid; a missing token is invalid_request', async () => {
    const { clientId } = await tokens();
    assert.equal((await postForm(`${srv.url}/revoke`, { client_id: clientId, token: 'no-such-token' })).status, 200);
    const victim = await tokens();
    const r = await postForm(`${srv.url}/revoke`, { client_id: clientId, token: victim.tokens.refresh_token });
    assert.equal(r.status, 200);
    assert.ok((await verify(victim.tokens.access_token)).ok, 'not revoked by another client');
    const r2 = await postForm(`${srv.url}/revoke`, { client_id: clientId, token: victim.tokens.access_token });
    assert.equal(r2.status, 200);
    assert.ok((await verify(victim.tokens.access_token)).ok);
    const missing = await postForm(`${srv.url}/revoke`, { client_id: clientId });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
    const anonymous = await postForm(`${srv.url}/revoke`, { token: victim.tokens.refresh_token });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error, 'invalid_client');
  });

  test('a confidential client must authenticate to revoke', async () => {
    const { basic, tokens: t } = await confidentialTokens();
    const r = await postForm(`${srv.url}/revoke`, { client_id: basic.id, token: t.refresh_token });
    assert.equal(r.status, 401);
    assert.ok((await verify(t.access_token)).ok);
    const ok = await postForm(`${srv.url}/revoke`, { token: t.refresh_token }, basic);
    assert.equal(ok.status, 200);
    assert.equal((await verify(t.access_token)).ok, false);
  });

  test('introspection: confidential clients learn about their own tokens; everything else is inactive', async () => {
    const { basic, tokens: t } = await confidentialTokens();
    const at = await postForm(`${srv.url}/introspect`, { token: t.access_token }, basic);
    assert.equal(at.status, 200);
    assert.equal(at.headers.get('cache-control'), 'no-store');
    assert.equal(at.body.active, true);
    assert.equal(at.body.client_id, basic.id);
    assert.equal(at.body.scope, 'mcp:read mcp:write');
    assert.deepEqual(at.body.aud, [resource]);
    assert.equal(at.body.iss, srv.url);
    assert.equal(at.body.workspace, 'demo');
    assert.equal(typeof at.body.exp, 'number');
    const rt = await postForm(`${srv.url}/introspect`, { token: t.refresh_token, token_type_hint: 'refresh_token' }, basic);
    assert.equal(rt.body.active, true);
    assert.equal(rt.body.token_type, 'refresh_token');

    const other = await tokens();
    assert.deepEqual((await postForm(`${srv.url}/introspect`, { token: other.tokens.access_token }, basic)).body, { active: false });
    assert.deepEqual((await postForm(`${srv.url}/introspect`, { token: 'garbage' }, basic)).body, { active: false });
    const pub = await postForm(`${srv.url}/introspect`, { client_id: other.clientId, token: other.tokens.access_token });
    assert.equal(pub.status, 401, 'public clients may not introspect');
    assert.equal(pub.body.error, 'invalid_client');
    const wrongSecret = await postForm(`${srv.url}/introspect`, { token: t.access_token }, { id: basic.id, secret: 'nope' });
    assert.equal(wrongSecret.status, 401);

    await postForm(`${srv.url}/revoke`, { token: t.access_token }, basic);
    assert.deepEqual((await postForm(`${srv.url}/introspect`, { token: t.access_token }, basic)).body, { active: false });
    assert.deepEqual((await postForm(`${srv.url}/introspect`, { token: t.refresh_token }, basic)).body, { active: false });
  });

  test('the directory lists a workspace\'s grants with client names, and revoked ones only on request', async () => {
    const reg = await registerClient(srv.url, { client_name: 'Named App', redirect_uris: [REDIRECT] });
    const { tokens: t } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource, clientId: reg.client_id, redirectUri: REDIRECT, jar });
    const demo = (await srv.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    const live = await srv.services.oauth.directory.listWorkspaceGrants(demo.id);
    const mine = live.find((g) => g.clientId === reg.client_id)!;
    assert.equal(mine.clientName, 'Named App');
    assert.equal(mine.clientKind, 'dynamic');
    assert.equal(mine.resource, resource);
    await postForm(`${srv.url}/revoke`, { client_id: reg.client_id, token: t.refresh_token });
    assert.equal((await srv.services.oauth.directory.listWorkspaceGrants(demo.id)).some((g) => g.clientId === reg.client_id), false);
    const all = await srv.services.oauth.directory.listWorkspaceGrants(demo.id, { includeRevoked: true });
    assert.equal(all.find((g) => g.clientId === reg.client_id)?.revokedReason, 'revoked by the client');
  });

  test('userinfo returns the claims openid, email and profile release; without openid it is 403 insufficient_scope', async () => {
    const { tokens: t } = await tokens('openid email profile mcp:read');
    for (const method of ['GET', 'POST']) {
      const r = await fetch(`${srv.url}/userinfo`, { method, headers: { authorization: `Bearer ${t.access_token}` } });
      assert.equal(r.status, 200, method);
      const claims = await r.json();
      assert.equal(typeof claims.sub, 'string');
      assert.equal(claims.email, ADMIN_EMAIL);
      assert.ok(claims.name);
    }
    const onlyOpenid = await tokens('openid');
    const minimal = await (await fetch(`${srv.url}/userinfo`, { headers: { authorization: `Bearer ${onlyOpenid.tokens.access_token}` } })).json();
    assert.deepEqual(Object.keys(minimal), ['sub']);
    const noOpenid = await tokens('mcp:read');
    const r403 = await fetch(`${srv.url}/userinfo`, { headers: { authorization: `Bearer ${noOpenid.tokens.access_token}` } });
    assert.equal(r403.status, 403);
    assert.match(r403.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    const anon = await fetch(`${srv.url}/userinfo`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Bearer');
    const bad = await fetch(`${srv.url}/userinfo`, { headers: { authorization: 'Bearer not.a.token' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /invalid_token/);
  });

  test('the bootstrap owner and a user an operator created have a verified email, in the id_token and at /userinfo', async () => {
    // OpenID Connect Core §5.1: email_verified says the address was checked; the operator who created the account asserted it.
    const env = { TOLLGATE_DATA_DIR: srv.config.dataDir, TOLLGATE_DATABASE_URL: srv.config.databaseUrl ?? undefined };
    const email = `ada-${dialect}@example.com`;
    const password = 'analytical engine 1843';
    const created = await runCli(['admin', 'user', 'create', email, '--password', password], { env, timeoutMs: 120_000 });
    assert.equal(created.code, 0, created.stderr);
    const member = await runCli(['admin', 'member', 'add', 'demo', email], { env, timeoutMs: 120_000 });
    assert.equal(member.code, 0, member.stderr);
    for (const who of [{ email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar }, { email, password, jar: new CookieJar() }]) {
      const { tokens: t } = await obtainTokens(srv.url, { ...who, resource, scope: 'openid email mcp:read' });
      const idToken = JSON.parse(Buffer.from(String(t.id_token).split('.')[1], 'base64url').toString('utf8'));
      assert.equal(idToken.email, who.email);
      assert.equal(idToken.email_verified, true, `${who.email}: id_token`);
      const claims = await (await fetch(`${srv.url}/userinfo`, { headers: { authorization: `Bearer ${t.access_token}` } })).json();
      assert.equal(claims.email_verified, true, `${who.email}: userinfo`);
    }
    assert.equal((await srv.services.accounts.users.findUserByEmail(email))?.emailVerified, true, 'the user row says so');
  });
});
