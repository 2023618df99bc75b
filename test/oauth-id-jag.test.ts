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
      ['no resource', jag({ resource: undefined })],
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
});
