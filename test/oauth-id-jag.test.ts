// Requirements (issue 22 §1): enterprise-managed authorization — the JWT bearer grant (RFC 7523 §2.1) with an
// identity assertion (ID-JAG, typ oauth-id-jag+jwt) from a trusted identity provider: signature by its JWKS (inline or
// fetched), iss, aud = Tollgate's issuer, exp, jti replay, client_id = the authenticated client, resource; the subject
// mapped by (iss, sub), then verified e-mail; a token without a consent screen. Every refusal with its RFC code.
// Runs on both dialects; assertions are minted here with real key pairs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { postForm, registerClient } from './helpers/oauth-flow.ts';
import { newJti, nowS, testSigner, unsignedJwt, type TestSigner } from './helpers/jwt-signer.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const IDP = 'https://idp.acme.example';
const TYP = 'oauth-id-jag+jwt';

forEachDialect('OAuth enterprise-managed authorization (ID-JAG)', (dialect) => {
  let srv: TestServer;
  let jwksServer: Server;
  let resource: string;
  let idp: TestSigner;
  let client: { id: string; secret: string };
  let other: { id: string; secret: string };
  let aliceId: string;

  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_IDP_JWKS_ALLOW_PRIVATE_ADDRESSES: 'true' } });
    resource = `${srv.url}/demo/mcp`;
    idp = testSigner('ES256');
    const reg = async (name: string) => {
      const r = await registerClient(srv.url, { client_name: name, redirect_uris: ['https://agent.example/cb'], token_endpoint_auth_method: 'client_secret_basic' });
      return { id: r.client_id as string, secret: r.client_secret as string };
    };
    client = await reg('Enterprise agent');
    other = await reg('Some other app');
    const { accounts, oauth } = srv.services;
    await oauth.trustedIdps.addIdp({ name: 'acme', issuer: IDP, jwks: idp.jwks, allowedClientIds: [client.id] });
    aliceId = (await accounts.users.createUser({ email: 'alice@acme.example', password: 'a long enough password', emailVerified: true })).id;
    await accounts.workspaces.addMember('demo', 'alice@acme.example', 'member');
    await accounts.users.createUser({ email: 'unverified@acme.example', password: 'a long enough password' });
    await accounts.workspaces.addMember('demo', 'unverified@acme.example', 'member');
    await accounts.users.createUser({ email: 'outsider@acme.example', password: 'a long enough password', emailVerified: true });
  });
  after(async () => {
    jwksServer?.close();
    await srv.stop();
  });

  const claims = (over: Record<string, unknown> = {}) => ({
    iss: IDP, sub: 'alice-0001', aud: srv.url, client_id: client.id, jti: newJti(), iat: nowS(), exp: nowS() + 300,
    resource, scope: 'mcp:read mcp:write', email: 'alice@acme.example', email_verified: true, ...over,
  });
  const present = (assertion: string | undefined, form: Record<string, string> = {}, basic = client) => postForm(`${srv.url}/token`, { grant_type: GRANT, assertion, ...form }, basic);
  const jag = (over: Record<string, unknown> = {}, signer = idp) => signer.sign(claims(over), { typ: TYP });

  test('a valid assertion: an access token for the asserted user and workspace, no consent, no refresh token', async () => {
    const r = await present(jag());
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.refresh_token, undefined);
    assert.equal(r.body.scope, 'mcp:read mcp:write');
    const p = decodeJwt(r.body.access_token)!.payload;
    assert.equal(p.sub, aliceId);
    assert.equal(p.aud, resource);
    assert.equal(p.client_id, client.id);
    assert.equal(p.workspace, 'demo');
    assert.ok((await srv.services.oauth.accessTokens.verifyAccessToken(r.body.access_token, resource)).ok);
    // The subject is now linked: a later assertion without an e-mail still maps to alice.
    assert.equal(await srv.services.oauth.trustedIdps.findIdentity(IDP, 'alice-0001'), aliceId);
    const linked = await present(jag({ email: undefined, email_verified: undefined, scope: 'mcp:read' }));
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.equal(linked.body.scope, 'mcp:read');
    assert.equal(decodeJwt(linked.body.access_token)!.payload.sub, aliceId);
  });

  test('a replayed assertion is invalid_grant (jti), also when several race', async () => {
    const once = jag();
    assert.equal((await present(once)).status, 200);
    const again = await present(once);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant');
    assert.match(again.body.error_description, /jti/);
    const raced = jag();
    const all = await Promise.all([present(raced), present(raced), present(raced)]);
    assert.deepEqual(all.map((x) => x.status).sort(), [200, 400, 400]);
  });

  test('refusals of the assertion itself: each invalid_grant', async () => {
    const stranger = testSigner('ES256');
    const cases: [string, string][] = [
      ['signed by a key the provider does not publish', jag({}, stranger)],
      ['alg none', unsignedJwt(claims(), { typ: TYP })],
      ['typ is not oauth-id-jag+jwt', idp.sign(claims(), { typ: 'JWT' })],
      ['no typ', idp.sign(claims())],
      ['an untrusted issuer', jag({ iss: 'https://evil.example' })],
      ['aud is not the issuer', jag({ aud: 'https://other-as.example' })],
      ['aud is the token endpoint (ID-JAG wants the issuer)', jag({ aud: `${srv.url}/token` })],
      ['expired', jag({ exp: nowS() - 3600 })],
      ['no exp', jag({ exp: undefined })],
      ['no jti', jag({ jti: undefined })],
      ['issued to another client', jag({ client_id: other.id })],
      ['no sub', jag({ sub: undefined })],
      ['an unknown subject and e-mail', jag({ sub: 'nobody', email: 'nobody@acme.example' })],
      ['an e-mail the account has not verified', jag({ sub: 'unverified-1', email: 'unverified@acme.example' })],
      ['an e-mail the provider says is unverified', jag({ sub: 'alice-unverified', email_verified: false })],
      ['a user outside the workspace', jag({ sub: 'outsider-1', email: 'outsider@acme.example' })],
      ['not a JWT', 'not.a.jwt'],
    ];
    for (const [why, assertion] of cases) {
      const r = await present(assertion);
      assert.equal(r.status, 400, `${why}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'invalid_grant', `${why}: ${JSON.stringify(r.body)}`);
    }
    assert.equal(await srv.services.oauth.trustedIdps.findIdentity(IDP, 'unverified-1'), undefined, 'no link made by a refused mapping');
  });

  test('refusals around the assertion: invalid_request, unauthorized_client, invalid_target, invalid_scope, invalid_client', async () => {
    const missing = await present(undefined);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
    // A client the provider was not configured for, presenting an assertion issued to it.
    const notAllowed = await present(jag({ client_id: other.id }), {}, other);
    assert.equal(notAllowed.body.error, 'unauthorized_client');
    const foreign = await present(jag({ resource: 'https://elsewhere.example/mcp' }));
    assert.equal(foreign.body.error, 'invalid_target');
    const mismatch = await present(jag(), { resource: `${srv.url}/mcp` });
    assert.equal(mismatch.body.error, 'invalid_target');
    const noScope = await present(jag({ scope: 'openid profile' }));
    assert.equal(noScope.body.error, 'invalid_scope');
    const wider = await present(jag({ scope: 'mcp:read' }), { scope: 'mcp:write' });
    assert.equal(wider.body.error, 'invalid_scope');
    const badSecret = await present(jag(), {}, { id: client.id, secret: 'wrong' });
    assert.equal(badSecret.status, 401);
    assert.equal(badSecret.body.error, 'invalid_client');
  });

  test('an assertion without a resource claim (optional in the MCP profile): the user\'s one workspace; a scope parameter is intersected', async () => {
    const r = await present(jag({ resource: undefined }), { scope: 'mcp:read openid' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.scope, 'mcp:read');
    assert.equal(decodeJwt(r.body.access_token)!.payload.workspace, 'demo');
  });

  test('the shared endpoint works for a user of exactly one workspace', async () => {
    const r = await present(jag({ resource: `${srv.url}/mcp` }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = decodeJwt(r.body.access_token)!.payload;
    assert.equal(p.aud, `${srv.url}/mcp`);
    assert.equal(p.workspace, 'demo');
  });

  test('a provider publishing its keys at a JWKS URL (RS256): fetched once and cached; an unknown kid does not make Tollgate refetch within 30 s', async () => {
    const rsa = testSigner('RS256');
    let served = rsa.jwks;
    let fetches = 0;
    jwksServer = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const issuer = 'https://login.other-idp.example';
    await srv.services.oauth.trustedIdps.addIdp({ name: 'other-idp', issuer, jwksUri: url, allowedClientIds: [client.id] });
    const r = await present(jag({ iss: issuer, sub: 'a-1' }, rsa));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal((await present(jag({ iss: issuer, sub: 'a-1' }, rsa))).status, 200);
    assert.equal(fetches, 1, 'the JWKS is cached');
    const rotated = testSigner('RS256');
    served = rotated.jwks;
    const before = fetches;
    const afterRotation = await present(jag({ iss: issuer, sub: 'a-1' }, rotated));
    // Within the refetch floor an unknown kid is judged by the cached set: strangers cannot make Tollgate fetch.
    assert.equal(afterRotation.body.error, 'invalid_grant');
    assert.equal(fetches, before);
  });
  // RFC 7523 §3 items 5–6 (nbf, iat) with the 60 s clock skew of CLOCK_SKEW_S: beyond it, invalid_grant naming the claim.
  test('an assertion not valid yet (nbf in the future) is invalid_grant; within the clock skew it is accepted', async () => {
    const early = await present(jag({ nbf: nowS() + 120 }));
    assert.equal(early.status, 400, JSON.stringify(early.body));
    assert.equal(early.body.error, 'invalid_grant');
    assert.match(early.body.error_description, /not valid yet \(nbf\)/);
    const skewed = await present(jag({ nbf: nowS() + 20 }));
    assert.equal(skewed.status, 200, JSON.stringify(skewed.body));
  });

  test('an assertion issued in the future (iat beyond the clock skew) is invalid_grant; within the skew it is accepted', async () => {
    const future = await present(jag({ iat: nowS() + 120 }));
    assert.equal(future.status, 400, JSON.stringify(future.body));
    assert.equal(future.body.error, 'invalid_grant');
    assert.match(future.body.error_description, /issued in the future \(iat\)/);
    const skewed = await present(jag({ iat: nowS() + 20 }));
    assert.equal(skewed.status, 200, JSON.stringify(skewed.body));
  });

  test('an assertion living longer than the 600 s maximum is invalid_grant (its jti would have to be remembered too long)', async () => {
    const long = await present(jag({ iat: nowS(), exp: nowS() + 3600 }));
    assert.equal(long.status, 400, JSON.stringify(long.body));
    assert.equal(long.body.error, 'invalid_grant');
    assert.match(long.body.error_description, /must expire within 600 s/);
    // The jti of a refused assertion is not spent: the same jti in a short-lived assertion is still accepted.
    const jti = newJti();
    assert.equal((await present(jag({ jti, exp: nowS() + 7200 }))).body.error, 'invalid_grant');
    const ok = await present(jag({ jti, exp: nowS() + 600 }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('RFC 7523 §3: the lifetime is exp − iat — an assertion issued long ago with a near exp is invalid_grant, and its jti is not spent', async () => {
    const jti = newJti();
    // exp − now is 300 s (within the maximum), but it was issued an hour ago: exp − iat is 3,900 s.
    const stale = await present(jag({ jti, iat: nowS() - 3600, exp: nowS() + 300 }));
    assert.equal(stale.status, 400, JSON.stringify(stale.body));
    assert.equal(stale.body.error, 'invalid_grant');
    assert.match(stale.body.error_description, /issued too long ago \(iat/);
    // Issued 5 minutes ago but made to live 11 minutes from then.
    const long = await present(jag({ iat: nowS() - 300, exp: nowS() + 360 }));
    assert.equal(long.status, 400, JSON.stringify(long.body));
    assert.equal(long.body.error, 'invalid_grant');
    assert.match(long.body.error_description, /within 600 s of its iat/);
    const ok = await present(jag({ jti, iat: nowS() - 300, exp: nowS() + 290 }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('a user of several workspaces asking for the shared endpoint is invalid_target; a workspace endpoint works', async () => {
    const { accounts } = srv.services;
    await accounts.users.createUser({ email: 'bob@acme.example', password: 'a long enough password', emailVerified: true });
    await accounts.workspaces.createWorkspace({ slug: 'second-ws', name: 'Second' });
    await accounts.workspaces.addMember('demo', 'bob@acme.example', 'member');
    await accounts.workspaces.addMember('second-ws', 'bob@acme.example', 'member');
    const bob = { sub: 'bob-0001', email: 'bob@acme.example' };
    const shared = await present(jag({ ...bob, resource: `${srv.url}/mcp` }));
    assert.equal(shared.status, 400, JSON.stringify(shared.body));
    assert.equal(shared.body.error, 'invalid_target');
    assert.match(shared.body.error_description, /several workspaces/);
    const named = await present(jag({ ...bob, resource: `${srv.url}/second-ws/mcp` }));
    assert.equal(named.status, 200, JSON.stringify(named.body));
    assert.equal(decodeJwt(named.body.access_token)!.payload.workspace, 'second-ws');
  });

  test('a provider whose JWKS URL cannot be fetched (connection refused): invalid_grant, no token', async () => {
    const down = testSigner('ES256');
    const issuer = 'https://login.down-idp.example';
    await srv.services.oauth.trustedIdps.addIdp({ name: 'down-idp', issuer, jwksUri: 'http://127.0.0.1:3/jwks', allowedClientIds: [client.id] });
    const r = await present(jag({ iss: issuer, sub: 'd-1' }, down));
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.equal(r.body.error, 'invalid_grant');
    assert.match(r.body.error_description, /keys could not be fetched/);
    assert.equal(r.body.access_token, undefined);
  });

  test('per-workspace issuer mode: aud must be the workspace issuer <publicUrl>/<ws>, not the root issuer or the token endpoint', async () => {
    const ws = await startTestServer({ dialect, env: { TOLLGATE_ISSUER_MODE: 'workspace' } });
    try {
      const issuer = `${ws.url}/demo`;
      const reg = await registerClient(ws.url, { client_name: 'Enterprise agent', redirect_uris: ['https://agent.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }, '/demo/register');
      const wsClient = { id: reg.client_id as string, secret: reg.client_secret as string };
      const { accounts, oauth } = ws.services;
      await oauth.trustedIdps.addIdp({ name: 'acme', issuer: IDP, jwks: idp.jwks, allowedClientIds: [wsClient.id] });
      await accounts.users.createUser({ email: 'alice@acme.example', password: 'a long enough password', emailVerified: true });
      await accounts.workspaces.addMember('demo', 'alice@acme.example', 'member');
      const mint = (aud: string) => idp.sign(claims({ aud, client_id: wsClient.id, resource: `${ws.url}/demo/mcp` }), { typ: TYP });
      const send = (assertion: string) => postForm(`${issuer}/token`, { grant_type: GRANT, assertion }, wsClient);
      for (const aud of [ws.url, `${issuer}/token`, `${ws.url}/other-ws`]) {
        const r = await send(mint(aud));
        assert.equal(r.status, 400, `${aud}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, 'invalid_grant', `${aud}: ${JSON.stringify(r.body)}`);
        assert.match(r.body.error_description, /aud/, aud);
      }
      const ok = await send(mint(issuer));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      const p = decodeJwt(ok.body.access_token)!.payload;
      assert.equal(p.iss, issuer);
      assert.equal(p.aud, `${ws.url}/demo/mcp`);
    } finally {
      await ws.stop();
    }
  });
});
