// Requirements (OAuth §4, §6): the token endpoint — PKCE, single-use codes bound to client and redirect URI, client
// authentication, refresh rotation with a grace window, replay revocation, scope narrowing, resource inheritance,
// membership re-checks, RFC 9068 access tokens, id tokens, and secrets hashed at rest. Runs on both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, exchangeCode, pkcePair, postForm, refreshTokens, registerClient, CookieJar } from './helpers/oauth-flow.ts';
import { decodeJwt, verifyRs256 } from '../src/oauth/jwt.ts';
import { sha256Hex } from '../src/util/ids.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';

forEachDialect('OAuth token endpoint', (dialect) => {
  let srv: TestServer;
  let resource: string;
  const jar = new CookieJar();

  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_REFRESH_GRACE_SECONDS: '10', TOLLGATE_DCR_RATE_PER_MINUTE: '1000' } });
    resource = `${srv.url}/demo/mcp`;
  });
  after(async () => srv.stop());

  /** Authorizes a client through the real pages and returns the code and verifier. */
  async function authorize(clientId: string, extra: Record<string, string> = {}) {
    const pkce = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce.challenge, resource, state: 's1', ...extra }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${back}`);
    return { code, verifier: pkce.verifier };
  }
  const publicClient = async (name = 'Public test client') => (await registerClient(srv.url, { client_name: name, redirect_uris: [REDIRECT] })).client_id as string;
  async function tokensFor(clientId: string, extra: Record<string, string> = {}) {
    const { code, verifier } = await authorize(clientId, extra);
    const r = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }
  const verify = (token: string, at = resource) => srv.services.oauth.accessTokens.verifyAccessToken(token, at);

  test('a code exchange returns an RFC 9068 access token and a refresh token, JSON with Cache-Control: no-store', async () => {
    const clientId = await publicClient();
    const { code, verifier } = await authorize(clientId);
    const r = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.expires_in, 3600);
    assert.equal(r.body.scope, 'mcp:read mcp:write');
    assert.ok(r.body.refresh_token);
    const jwt = decodeJwt(r.body.access_token)!;
    assert.equal(jwt.header.typ, 'at+jwt');
    assert.equal(jwt.header.alg, 'ES256');
    const p = jwt.payload;
    assert.equal(p.iss, srv.url);
    assert.equal(p.aud, resource);
    assert.equal(p.client_id, clientId);
    assert.equal(p.scope, 'mcp:read mcp:write');
    assert.equal(p.workspace, 'demo');
    assert.equal((p.exp as number) - (p.iat as number), 3600);
    for (const claim of ['sub', 'jti', 'gid']) assert.equal(typeof p[claim], 'string', claim);
    assert.ok((await verify(r.body.access_token)).ok);
    assert.equal(r.body.id_token, undefined, 'no id_token without openid');
  });

  test('PKCE: a wrong verifier is invalid_grant, a missing one invalid_request', async () => {
    const clientId = await publicClient();
    const { code } = await authorize(clientId);
    const missing = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
    const wrong = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: pkcePair().verifier });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    assert.match(wrong.body.error_description, /code_verifier/);
    assert.equal(wrong.headers.get('cache-control'), 'no-store');
  });

  test('a replayed code is invalid_grant and revokes the grant its first use created', async () => {
    const clientId = await publicClient();
    const { code, verifier } = await authorize(clientId);
    const first = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(first.status, 200);
    assert.ok((await verify(first.body.access_token)).ok);
    const replay = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.deepEqual(await verify(first.body.access_token), { ok: false, description: 'grant revoked' });
    const refresh = await refreshTokens(srv.url, { client_id: clientId, refresh_token: first.body.refresh_token });
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  test('an expired code is invalid_grant', async () => {
    const clientId = await publicClient();
    const { code, verifier } = await authorize(clientId);
    await srv.services.store.db.updateTable('oauth_codes').set({ expires_at: Date.now() - 1 }).where('code_hash', '=', sha256Hex(code)).execute();
    const r = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /expired/);
  });

  test('codes live 60–120 s (the configured 90 s by default)', async () => {
    const clientId = await publicClient();
    const { code } = await authorize(clientId);
    const row = await srv.services.store.db.selectFrom('oauth_codes').selectAll().where('code_hash', '=', sha256Hex(code)).executeTakeFirstOrThrow();
    assert.equal(row.expires_at - row.created_at, 90_000);
  });

  test('a code redeemed by another client, or with another redirect URI, is invalid_grant (and stays usable by its owner)', async () => {
    const owner = await publicClient('Owner');
    const thief = await publicClient('Thief');
    const { code, verifier } = await authorize(owner);
    const stolen = await exchangeCode(srv.url, { client_id: thief, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(stolen.body.error, 'invalid_grant');
    assert.match(stolen.body.error_description, /another client/);
    const otherRedirect = await exchangeCode(srv.url, { client_id: owner, code, redirect_uri: 'http://127.0.0.1:9/other', code_verifier: verifier });
    assert.equal(otherRedirect.body.error, 'invalid_grant');
    const noRedirect = await exchangeCode(srv.url, { client_id: owner, code, code_verifier: verifier });
    assert.equal(noRedirect.body.error, 'invalid_grant');
    const ok = await exchangeCode(srv.url, { client_id: owner, code, redirect_uri: REDIRECT, code_verifier: verifier });
    assert.equal(ok.status, 200);
  });

  test('confidential clients authenticate with the method they registered (client_secret_basic or client_secret_post); failures are 401 invalid_client', async () => {
    const reg = await registerClient(srv.url, { client_name: 'Confidential', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
    assert.ok(reg.client_secret);
    const basic = { id: reg.client_id, secret: reg.client_secret };
    let a = await authorize(reg.client_id);
    const viaBasic = await exchangeCode(srv.url, { code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, basic);
    assert.equal(viaBasic.status, 200, JSON.stringify(viaBasic.body));
    const post = await registerClient(srv.url, { client_name: 'Posting', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    a = await authorize(post.client_id);
    const viaPost = await exchangeCode(srv.url, { client_id: post.client_id, client_secret: post.client_secret, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier });
    assert.equal(viaPost.status, 200, JSON.stringify(viaPost.body));

    a = await authorize(reg.client_id);
    const noSecret = await exchangeCode(srv.url, { client_id: reg.client_id, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier });
    assert.equal(noSecret.status, 401);
    assert.equal(noSecret.body.error, 'invalid_client');
    const wrong = await exchangeCode(srv.url, { code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, { id: reg.client_id, secret: 'wrong' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
    const both = await exchangeCode(srv.url, { client_secret: reg.client_secret, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, basic);
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
    const unknown = await exchangeCode(srv.url, { client_id: 'nobody', code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier });
    assert.equal(unknown.status, 401);
    // The code survived the failed attempts: the right client still redeems it.
    const ok = await exchangeCode(srv.url, { code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, basic);
    assert.equal(ok.status, 200);
  });

  test('RFC 7591 §2: the right secret sent by another method than the registered one is 401 invalid_client (Basic challenge when Basic was tried), and spends no code', async () => {
    const basicReg = await registerClient(srv.url, { client_name: 'Basic only', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
    const postReg = await registerClient(srv.url, { client_name: 'Post only', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    const publicId = await publicClient();

    // client_secret_basic's secret in the body.
    let a = await authorize(basicReg.client_id);
    const basicByPost = await exchangeCode(srv.url, { client_id: basicReg.client_id, client_secret: basicReg.client_secret, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier });
    assert.equal(basicByPost.status, 401, JSON.stringify(basicByPost.body));
    assert.equal(basicByPost.body.error, 'invalid_client');
    assert.match(basicByPost.body.error_description, /registered for client_secret_basic/);
    assert.match(basicByPost.headers.get('www-authenticate') ?? '', /^Basic /, 'tells the client to use Basic');
    assert.equal((await exchangeCode(srv.url, { code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, { id: basicReg.client_id, secret: basicReg.client_secret })).status, 200, 'the code was not spent');

    // client_secret_post's secret in the Authorization header.
    a = await authorize(postReg.client_id);
    const postByBasic = await exchangeCode(srv.url, { code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, { id: postReg.client_id, secret: postReg.client_secret });
    assert.equal(postByBasic.status, 401, JSON.stringify(postByBasic.body));
    assert.equal(postByBasic.body.error, 'invalid_client');
    assert.match(postByBasic.body.error_description, /registered for client_secret_post/);
    assert.match(postByBasic.headers.get('www-authenticate') ?? '', /^Basic /, 'RFC 6749 §5.2: Basic was tried, so a Basic challenge');
    assert.equal((await exchangeCode(srv.url, { client_id: postReg.client_id, client_secret: postReg.client_secret, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier })).status, 200, 'the code was not spent');

    // A public client ("none") sends no secret by either method, not even an empty one.
    a = await authorize(publicId);
    for (const [why, form, basic] of [
      ['a client_secret parameter', { client_id: publicId, client_secret: 'anything' }, undefined],
      ['an empty client_secret parameter', { client_id: publicId, client_secret: '' }, undefined],
      ['HTTP Basic', {}, { id: publicId, secret: 'anything' }],
      ['HTTP Basic with an empty secret', {}, { id: publicId, secret: '' }],
    ] as const) {
      const r = await exchangeCode(srv.url, { ...form, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier }, basic);
      assert.equal(r.status, 401, `${why}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'invalid_client', why);
      assert.equal(/^Basic /.test(r.headers.get('www-authenticate') ?? ''), basic !== undefined, `${why}: a Basic challenge exactly when Basic was tried`);
    }
    assert.equal((await exchangeCode(srv.url, { client_id: publicId, code: a.code, redirect_uri: REDIRECT, code_verifier: a.verifier })).status, 200, 'client_id alone works');

    // The same rule at the revocation, introspection and device authorization endpoints.
    for (const endpoint of ['/revoke', '/introspect', '/device_authorization']) {
      const byPost = await postForm(`${srv.url}${endpoint}`, { client_id: basicReg.client_id, client_secret: basicReg.client_secret, token: 'x' });
      assert.equal(byPost.status, 401, `${endpoint}: ${JSON.stringify(byPost.body)}`);
      assert.equal(byPost.body.error, 'invalid_client');
      const byBasic = await postForm(`${srv.url}${endpoint}`, { token: 'x' }, { id: postReg.client_id, secret: postReg.client_secret });
      assert.equal(byBasic.status, 401, `${endpoint}: ${JSON.stringify(byBasic.body)}`);
      assert.equal(byBasic.body.error, 'invalid_client');
      assert.match(byBasic.headers.get('www-authenticate') ?? '', /^Basic /);
    }
  });

  test('refresh rotates; the same old token within the grace window returns the same successor', async () => {
    const clientId = await publicClient();
    const t = await tokensFor(clientId);
    const r1 = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('cache-control'), 'no-store');
    assert.notEqual(r1.body.refresh_token, t.refresh_token);
    assert.ok((await verify(r1.body.access_token)).ok);
    const retry = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.refresh_token, r1.body.refresh_token);
    const next = await refreshTokens(srv.url, { client_id: clientId, refresh_token: r1.body.refresh_token });
    assert.equal(next.status, 200);
  });

  test('10 concurrent refreshes of one token all succeed with one successor; no 500', async () => {
    const clientId = await publicClient();
    const t = await tokensFor(clientId);
    const results = await Promise.all(Array.from({ length: 10 }, () => refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token })));
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(200), JSON.stringify(results.map((r) => r.body)));
    assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
    const chain = await refreshTokens(srv.url, { client_id: clientId, refresh_token: results[0].body.refresh_token });
    assert.equal(chain.status, 200);
    const rows = await srv.services.store.db.selectFrom('oauth_refresh_tokens').innerJoin('oauth_grants', 'oauth_grants.id', 'oauth_refresh_tokens.grant_id').select('oauth_grants.revoked_at').where('oauth_grants.client_id', '=', clientId).execute();
    assert.equal(rows.length, 3, 'original, its one successor, and the next');
    assert.ok(rows.every((r: { revoked_at: number | null }) => r.revoked_at === null));
  });

  test('a refresh token replayed after its successor was used revokes the whole grant, logged with the client name', async () => {
    const clientId = await publicClient('Replay Victim App');
    const t = await tokensFor(clientId);
    const r1 = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.equal(r1.status, 200);
    // The successor is used: it proves the client received it.
    const r2 = await refreshTokens(srv.url, { client_id: clientId, refresh_token: r1.body.refresh_token });
    assert.equal(r2.status, 200);
    // Past the grace window (10 s on this server): the rotation is made to have happened 11 s ago.
    await srv.services.store.db.updateTable('oauth_refresh_tokens').set({ rotated_at: Date.now() - 11_000 }).where('token_hash', '=', sha256Hex(t.refresh_token)).execute();
    const replay = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal((await verify(r2.body.access_token)).ok, false);
    const successor = await refreshTokens(srv.url, { client_id: clientId, refresh_token: r2.body.refresh_token });
    assert.equal(successor.body.error, 'invalid_grant', 'the legitimate successor dies with the grant');
    assert.ok(srv.logs.some((l) => l.includes('Replay Victim App') && l.includes('refresh token replayed')));
    const events = await srv.services.oauth.clientEvents.list(clientId);
    assert.ok(events.some((e) => e.kind === 'refresh_replay' && e.requestId));
  });

  test('after the grace window, a refresh token whose successor was never used gets a fresh successor; the unused one then revokes the grant', async () => {
    const clientId = await publicClient('Lost Answer App');
    const t = await tokensFor(clientId);
    // The answer carrying r1 never reached the client (e.g. the server died before sending it).
    const r1 = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.equal(r1.status, 200);
    await srv.services.store.db.updateTable('oauth_refresh_tokens').set({ rotated_at: Date.now() - 11_000 }).where('token_hash', '=', sha256Hex(t.refresh_token)).execute();
    const retry = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    assert.notEqual(retry.body.refresh_token, r1.body.refresh_token, 'a fresh successor');
    assert.ok((await verify(retry.body.access_token)).ok);
    const events = await srv.services.oauth.clientEvents.list(clientId);
    assert.ok(events.some((e) => e.kind === 'refresh' && e.detail.includes('fresh successor')));
    // The superseded successor turning up later means someone else has that answer.
    const stale = await refreshTokens(srv.url, { client_id: clientId, refresh_token: r1.body.refresh_token });
    assert.equal(stale.status, 400);
    assert.equal(stale.body.error, 'invalid_grant');
    assert.equal((await refreshTokens(srv.url, { client_id: clientId, refresh_token: retry.body.refresh_token })).body.error, 'invalid_grant');
  });

  test('refresh may narrow scope but never widen it; the resource is inherited and cannot be switched', async () => {
    const clientId = await publicClient();
    const t = await tokensFor(clientId, { scope: 'mcp:read' });
    assert.equal(t.scope, 'mcp:read');
    const widen = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token, scope: 'mcp:read mcp:write' });
    assert.equal(widen.status, 400);
    assert.equal(widen.body.error, 'invalid_scope');
    const t2 = await tokensFor(clientId);
    const narrow = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t2.refresh_token, scope: 'mcp:read' });
    assert.equal(narrow.status, 200);
    assert.equal(narrow.body.scope, 'mcp:read');
    assert.equal(decodeJwt(narrow.body.access_token)!.payload.aud, resource, 'resource inherited when omitted');
    const switched = await refreshTokens(srv.url, { client_id: clientId, refresh_token: narrow.body.refresh_token, resource: `${srv.url}/other/mcp` });
    assert.equal(switched.body.error, 'invalid_target');
    // The narrowing applied to that access token only: the grant keeps its scopes.
    const again = await refreshTokens(srv.url, { client_id: clientId, refresh_token: narrow.body.refresh_token });
    assert.equal(again.body.scope, 'mcp:read mcp:write');
  });

  test('a refresh token presented by another client is refused and does not revoke the grant', async () => {
    const owner = await publicClient('Owner');
    const other = await publicClient('Other');
    const t = await tokensFor(owner);
    const r = await refreshTokens(srv.url, { client_id: other, refresh_token: t.refresh_token });
    assert.equal(r.body.error, 'invalid_grant');
    assert.ok((await verify(t.access_token)).ok);
  });

  test('workspace membership is re-checked on refresh: a removed member loses the grant', async () => {
    const accounts = srv.services.accounts;
    await accounts.users.createUser({ email: 'temp-member@example.com', password: 'a long enough password' });
    await accounts.workspaces.addMember('demo', 'temp-member@example.com', 'member');
    const clientId = await publicClient();
    const pkce = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkce.challenge, resource }), { email: 'temp-member@example.com', password: 'a long enough password' });
    const t = await exchangeCode(srv.url, { client_id: clientId, code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: pkce.verifier });
    assert.equal(t.status, 200);
    await accounts.workspaces.removeMember('demo', 'temp-member@example.com');
    const r = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.body.refresh_token });
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /member/);
    assert.equal((await verify(t.body.access_token)).ok, false);
  });

  test('with openid an RS256 id token is issued (iss, aud = client, nonce, at_hash) and verifies against JWKS', async () => {
    const clientId = await publicClient();
    const t = await tokensFor(clientId, { scope: 'openid email profile mcp:read', nonce: 'n-0S6_WzA2Mj' });
    assert.ok(t.id_token);
    const id = decodeJwt(t.id_token)!;
    assert.equal(id.header.alg, 'RS256');
    assert.equal(id.payload.iss, srv.url);
    assert.equal(id.payload.aud, clientId);
    assert.equal(id.payload.nonce, 'n-0S6_WzA2Mj');
    assert.equal(id.payload.email, ADMIN_EMAIL);
    assert.equal(id.payload.at_hash, createHash('sha256').update(t.access_token).digest().subarray(0, 16).toString('base64url'));
    const jwks = await (await fetch(`${srv.url}/.well-known/jwks.json`)).json();
    const jwk = jwks.keys.find((k: { kid: string }) => k.kid === id.header.kid);
    assert.ok(verifyRs256(id, createPublicKey({ key: jwk, format: 'jwk' })));
    // An id token is not an access token.
    assert.equal((await verify(t.id_token)).ok, false);
    const refreshed = await refreshTokens(srv.url, { client_id: clientId, refresh_token: t.refresh_token });
    assert.ok(refreshed.body.id_token, 'refresh also returns an id token while openid is granted');
  });

  test('unsupported and missing grant types are RFC errors', async () => {
    const clientId = await publicClient();
    const u = await postForm(`${srv.url}/token`, { grant_type: 'password', client_id: clientId, username: 'x', password: 'y' });
    assert.equal(u.status, 400);
    assert.equal(u.body.error, 'unsupported_grant_type');
    const m = await postForm(`${srv.url}/token`, { client_id: clientId });
    assert.equal(m.body.error, 'invalid_request');
  });

  test('codes, refresh tokens, client secrets and session ids are stored only as SHA-256 hashes', async () => {
    const reg = await registerClient(srv.url, { client_name: 'Hash check', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    const { code, verifier } = await authorize(reg.client_id);
    const t = await exchangeCode(srv.url, { client_id: reg.client_id, client_secret: reg.client_secret, code, redirect_uri: REDIRECT, code_verifier: verifier });
    const secrets = { code, refresh: t.body.refresh_token, clientSecret: reg.client_secret, session: jar.cookies.get('tollgate_session')! };
    assert.ok(secrets.session);
    const db = srv.services.store.db;
    const dump = JSON.stringify([
      await db.selectFrom('oauth_codes').selectAll().execute(),
      await db.selectFrom('oauth_refresh_tokens').selectAll().execute(),
      await db.selectFrom('oauth_clients').selectAll().execute(),
      await db.selectFrom('oauth_grants').selectAll().execute(),
      await db.selectFrom('sessions').selectAll().execute(),
    ]);
    for (const [name, value] of Object.entries(secrets)) assert.ok(!dump.includes(value), `${name} found in the clear`);
    assert.ok(await db.selectFrom('oauth_codes').select('code_hash').where('code_hash', '=', sha256Hex(code)).executeTakeFirst());
    assert.ok(await db.selectFrom('oauth_refresh_tokens').select('token_hash').where('token_hash', '=', sha256Hex(secrets.refresh)).executeTakeFirst());
    assert.ok(await db.selectFrom('oauth_clients').select('client_id').where('secret_hash', '=', sha256Hex(reg.client_secret)).executeTakeFirst());
    assert.ok(await db.selectFrom('sessions').select('id_hash').where('id_hash', '=', sha256Hex(secrets.session)).executeTakeFirst());
  });
});
