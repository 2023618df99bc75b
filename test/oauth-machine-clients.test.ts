// Requirements (issue 22 §2): machine clients — client_credentials for confidential clients bound to one workspace by
// the admin who created them, authenticating with client_secret_basic or private_key_jwt (RFC 7523, jti replay
// refused, in every process: the jti is claimed in the database); every refusal with its RFC 6749 §5.2 code.
// Runs on both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, ADMIN_EMAIL, type TestServer } from './helpers/server.ts';
import { postForm, registerClient } from './helpers/oauth-flow.ts';
import { newJti, nowS, testSigner, unsignedJwt, type TestSigner } from './helpers/jwt-signer.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

forEachDialect('OAuth machine clients (client_credentials)', (dialect) => {
  let srv: TestServer;
  let token: string;
  let resource: string;
  let demoId: string;
  let adminId: string;
  let secretClient: { id: string; secret: string };
  let es: TestSigner;
  let jwtClientId: string;

  before(async () => {
    srv = await startTestServer({ dialect });
    token = `${srv.url}/token`;
    resource = `${srv.url}/demo/mcp`;
    const { accounts, oauth } = srv.services;
    demoId = (await accounts.workspaces.getWorkspaceBySlug('demo'))!.id;
    adminId = (await accounts.users.findUserByEmail(ADMIN_EMAIL))!.id;
    const made = await oauth.machineClients.createMachineClient({ name: 'Nightly sync', workspaceId: demoId, boundBy: adminId, authMethod: 'client_secret_basic' });
    secretClient = { id: made.client.clientId, secret: made.clientSecret! };
    es = testSigner('ES256');
    jwtClientId = (await oauth.machineClients.createMachineClient({ name: 'Key client', workspaceId: demoId, boundBy: adminId, authMethod: 'private_key_jwt', jwks: es.jwks })).client.clientId;
  });
  after(async () => srv.stop());

  const credentials = (form: Record<string, string> = {}, basic: { id: string; secret: string } | null = secretClient) => postForm(token, { grant_type: 'client_credentials', ...form }, basic ?? undefined);
  const claims = (over: Record<string, unknown> = {}) => ({ iss: jwtClientId, sub: jwtClientId, aud: token, exp: nowS() + 120, iat: nowS(), jti: newJti(), ...over });
  const withAssertion = (assertion: string, form: Record<string, string> = {}) => credentials({ client_assertion_type: ASSERTION_TYPE, client_assertion: assertion, ...form }, null);

  test('client_secret_basic: an access token for the bound workspace, no refresh token, no-store', async () => {
    const r = await credentials();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.scope, 'mcp:read mcp:write');
    // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
    assert.equal(r.body.refresh_token, undefined);
    const p = decodeJwt(r.body.access_token)!.payload;
    assert.equal(p.aud, resource);
    assert.equal(p.client_id, secretClient.id);
    assert.equal(p.workspace, 'demo');
    assert.equal(p.sub, adminId, 'acts with the membership of the admin who bound it');
    const verified = await srv.services.oauth.accessTokens.verifyAccessToken(r.body.access_token, resource);
    assert.ok(verified.ok);
    assert.equal((await srv.services.oauth.accessTokens.verifyAccessToken(r.body.access_token, `${srv.url}/other/mcp`)).ok, false);
    // A real MCP call with it.
    const mcp = await fetch(resource, { method: 'POST', headers: { authorization: `Bearer ${r.body.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    assert.equal(mcp.status, 200);
    // Asking again reuses the standing grant instead of adding one per request.
    const again = await credentials({ scope: 'mcp:read' });
    assert.equal(again.status, 200);
    assert.equal(again.body.scope, 'mcp:read');
    assert.equal(decodeJwt(again.body.access_token)!.payload.gid, p.gid);
  });

  test('refusals: wrong secret invalid_client (401), public or non-machine client unauthorized_client', async () => {
    const wrong = await credentials({}, { id: secretClient.id, secret: 'not-the-secret' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const pub = (await registerClient(srv.url, { client_name: 'Public', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' })).client_id as string;
    const r1 = await credentials({ client_id: pub }, null);
    assert.equal(r1.status, 400);
    assert.equal(r1.body.error, 'unauthorized_client');
    const conf = await registerClient(srv.url, { client_name: 'Confidential web app', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    const r2 = await credentials({}, { id: conf.client_id, secret: conf.client_secret });
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error, 'unauthorized_client');
    // And a machine client cannot use the grants that need a person.
    const r3 = await postForm(token, { grant_type: 'authorization_code', code: 'x', code_verifier: 'y'.repeat(43) }, secretClient);
    assert.equal(r3.body.error, 'invalid_grant');
  });

  test('refusals: another workspace is invalid_target, a scope beyond the client invalid_scope', async () => {
    const other = await credentials({ resource: `${srv.url}/elsewhere/mcp` });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_target');
    const shared = await credentials({ resource: `${srv.url}/mcp` });
    assert.equal(shared.body.error, 'invalid_target');
    const same = await credentials({ resource: `${resource}/` });
    assert.equal(same.status, 200, 'a trailing slash is the same resource');
    const openid = await credentials({ scope: 'openid mcp:read' });
    assert.equal(openid.status, 400);
    assert.equal(openid.body.error, 'invalid_scope');
  });

  test('the binding admin leaving the workspace ends the machine client\'s tokens (invalid_grant)', async () => {
    const { accounts, oauth } = srv.services;
    await accounts.users.createUser({ email: 'ops@example.com', password: 'a long enough password' });
    await accounts.workspaces.addMember('demo', 'ops@example.com', 'admin');
    const ops = (await accounts.users.findUserByEmail('ops@example.com'))!;
    const made = await oauth.machineClients.createMachineClient({ name: 'Ops bot', workspaceId: demoId, boundBy: ops.id, authMethod: 'client_secret_basic' });
    const basic = { id: made.client.clientId, secret: made.clientSecret! };
    assert.equal((await credentials({}, basic)).status, 200);
    await accounts.workspaces.removeMember('demo', 'ops@example.com');
    const r = await credentials({}, basic);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('RFC 8628 §3.1: a machine client asking the device authorization endpoint is unauthorized_client (400), and gets no code', async () => {
    const device = `${srv.url}/device_authorization`;
    const byBasic = await postForm(device, { scope: 'mcp:read' }, secretClient);
    assert.equal(byBasic.status, 400, JSON.stringify(byBasic.body));
    assert.equal(byBasic.body.error, 'unauthorized_client');
    assert.match(byBasic.body.error_description, /machine client/);
    assert.equal(byBasic.body.device_code, undefined);
    // A key client whose assertion names the device endpoint authenticates, and is refused all the same.
    const byKey = await postForm(device, { client_assertion_type: ASSERTION_TYPE, client_assertion: es.sign(claims({ aud: device })) });
    assert.equal(byKey.status, 400, JSON.stringify(byKey.body));
    assert.equal(byKey.body.error, 'unauthorized_client');
    // A wrong secret is still invalid_client (401): authentication comes first.
    const wrong = await postForm(device, {}, { id: secretClient.id, secret: 'not-the-secret' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const rows = await srv.services.store.typed<{ oauth_device_codes: { client_id: string } }>().selectFrom('oauth_device_codes').select('client_id').where('client_id', 'in', [secretClient.id, jwtClientId]).execute();
    assert.equal(rows.length, 0, 'no device code was created for a machine client');
  });

  test('a machine client whose workspace binding is gone (forgotten, or its workspace deleted) is unauthorized_client (400)', async () => {
    const { accounts, oauth } = srv.services;
    // The binding removed (what deleting the client from a workspace dashboard does to the binding).
    const loose = await oauth.machineClients.createMachineClient({ name: 'Unbound bot', workspaceId: demoId, boundBy: adminId, authMethod: 'client_secret_basic' });
    const looseBasic = { id: loose.client.clientId, secret: loose.clientSecret! };
    assert.equal((await credentials({}, looseBasic)).status, 200);
    await oauth.workspaceClients.forget(loose.client.clientId);
    assert.equal(await oauth.workspaceClients.bindingOf(loose.client.clientId), undefined);
    const unbound = await credentials({}, looseBasic);
    assert.equal(unbound.status, 400, JSON.stringify(unbound.body));
    assert.equal(unbound.body.error, 'unauthorized_client');
    assert.match(unbound.body.error_description, /bound to no workspace/);
    assert.equal(unbound.body.access_token, undefined);

    // The workspace it was bound to deleted.
    const ws = await srv.services.createWorkspace({ slug: 'doomed', name: 'Doomed', ownerUserId: adminId });
    const orphan = await oauth.machineClients.createMachineClient({ name: 'Orphan bot', workspaceId: ws.id, boundBy: adminId, authMethod: 'client_secret_basic' });
    const orphanBasic = { id: orphan.client.clientId, secret: orphan.clientSecret! };
    assert.equal((await credentials({}, orphanBasic)).status, 200);
    assert.equal(await accounts.workspaces.deleteWorkspace(ws.id), true);
    const gone = await credentials({}, orphanBasic);
    assert.equal(gone.status, 400, JSON.stringify(gone.body));
    assert.equal(gone.body.error, 'unauthorized_client');
    assert.match(gone.body.error_description, /bound to no workspace/);
  });

  test('private_key_jwt (ES256 and RS256): a signed assertion authenticates; aud may be the issuer or the token endpoint', async () => {
    const r = await withAssertion(es.sign(claims()));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(decodeJwt(r.body.access_token)!.payload.client_id, jwtClientId);
    assert.equal((await withAssertion(es.sign(claims({ aud: srv.url })), { client_id: jwtClientId })).status, 200);
    const rs = testSigner('RS256');
    const rsId = (await srv.services.oauth.machineClients.createMachineClient({ name: 'RSA client', workspaceId: demoId, boundBy: adminId, authMethod: 'private_key_jwt', jwks: rs.jwks })).client.clientId;
    const r2 = await withAssertion(rs.sign({ ...claims(), iss: rsId, sub: rsId }));
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
  });

  test('private_key_jwt: a replayed assertion is invalid_client, also when two race', async () => {
    const assertion = es.sign(claims());
    assert.equal((await withAssertion(assertion)).status, 200);
    const replay = await withAssertion(assertion);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'invalid_client');
    assert.match(replay.body.error_description, /jti/);
    const raced = es.sign(claims());
    const results = await Promise.all([withAssertion(raced), withAssertion(raced), withAssertion(raced)]);
    assert.deepEqual(results.map((x) => x.status).sort(), [200, 401, 401]);
  });

  test('private_key_jwt refusals, each invalid_client (401)', async () => {
    const stranger = testSigner('ES256');
    const cases: [string, string, Record<string, string>?][] = [
      ['signed by a key the client did not register', stranger.sign(claims())],
      ['alg none', unsignedJwt(claims())],
      ['HMAC', es.sign(claims(), { alg: 'HS256' })],
      ['another audience', es.sign(claims({ aud: 'https://other.example/token' }))],
      ['expired', es.sign(claims({ exp: nowS() - 3600 }))],
      ['no exp', es.sign(claims({ exp: undefined }))],
      ['living too long', es.sign(claims({ exp: nowS() + 86_400 }))],
      ['not valid yet', es.sign(claims({ nbf: nowS() + 3600 }))],
      // RFC 7523 §3 item 6: the lifetime is exp − iat; issued an hour ago with exp 2 minutes away is not a fresh assertion.
      ['issued long ago (iat an hour back, exp near)', es.sign(claims({ iat: nowS() - 3600, exp: nowS() + 120 }))],
      ['living too long from its iat', es.sign(claims({ iat: nowS() - 300, exp: nowS() + 400 }))],
      ['issued in the future (iat)', es.sign(claims({ iat: nowS() + 3600, exp: nowS() + 120 }))],
      ['no jti', es.sign(claims({ jti: undefined }))],
      ['iss is not sub', es.sign(claims({ iss: 'someone-else' }))],
      ['an unknown client', es.sign(claims({ iss: 'unknown', sub: 'unknown' }))],
      ['a client registered for secrets', es.sign(claims({ iss: secretClient.id, sub: secretClient.id }))],
      ['not a JWT', 'garbage'],
      ['the wrong assertion type', es.sign(claims()), { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer' }],
      ['client_id differing from sub', es.sign(claims()), { client_id: secretClient.id }],
    ];
    for (const [why, assertion, extra] of cases) {
      const r = await withAssertion(assertion, extra);
      assert.equal(r.status, 401, `${why}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'invalid_client', why);
    }
    // A key client sending a secret instead, or both methods at once.
    const secret = await credentials({}, { id: jwtClientId, secret: 'anything' });
    assert.equal(secret.status, 401);
    assert.equal(secret.body.error, 'invalid_client');
    const both = await postForm(token, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: es.sign(claims()) }, secretClient);
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
    // Nothing of an assertion or a secret reaches the log.
    assert.ok(!srv.logs.some((l) => l.includes(secretClient.secret)));
  });

  test('machine clients have no secret to rotate when they use keys, and refuse private keys in their JWK Set', async () => {
    assert.equal(await srv.services.oauth.clients.rotateSecret(jwtClientId), undefined);
    const { privateKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ec', { namedCurve: 'P-256' }));
    await assert.rejects(
      srv.services.oauth.machineClients.createMachineClient({ name: 'Leaky', workspaceId: demoId, boundBy: adminId, authMethod: 'private_key_jwt', jwks: { keys: [privateKey.export({ format: 'jwk' })] } }),
      /private key/,
    );
  });
});
