import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import { oauthModule, type OAuth } from './index.ts';
import { decodeJwt, signJwt } from './jwt.ts';
import { generateKeyPairSync } from 'node:crypto';
import type { Store } from '../store/store.ts';

forEachDialect('access tokens', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let oauth: OAuth;
  let input: Parameters<OAuth['accessTokens']['issueAccessToken']>[0];
  const base = 'http://127.0.0.1:8787';
  const config = loadConfig({ env: { TOLLGATE_PUBLIC_URL: base } });
  before(async () => {
    store = await createTestStore(dialect);
    oauth = oauthModule(store, config, 'test-secret');
    await oauth.keys.ensureKey();
    const accounts = accountsModule(store, config);
    const user = await accounts.users.createUser({ email: 'u@example.com', password: 'long enough pw' });
    const ws = await accounts.workspaces.createWorkspace({ slug: 'acme', ownerUserId: user.id });
    const grant = await oauth.grants.createGrant({ clientId: 'c1', userId: user.id, workspaceId: ws.id, resource: `${base}/acme/mcp`, scopes: ['mcp:read'] });
    input = { grantId: grant.id, userId: user.id, clientId: 'c1', workspaceId: ws.id, workspaceSlug: 'acme', resource: `${base}/acme/mcp`, scopes: ['mcp:read'] };
  });
  after(async () => store.drop());

  test('an issued token verifies for its resource (trailing slash tolerated) and carries the RFC 9068 claims', async () => {
    const { accessToken, expiresIn } = await oauth.accessTokens.issueAccessToken(input);
    assert.equal(expiresIn, 3600);
    const d = decodeJwt(accessToken)!;
    assert.equal(d.header.typ, 'at+jwt');
    assert.equal(d.header.alg, 'ES256');
    for (const claim of ['iss', 'sub', 'aud', 'client_id', 'scope', 'exp', 'iat', 'jti', 'workspace', 'gid']) assert.ok(claim in d.payload, claim);
    assert.equal(d.payload.iss, base);
    const r = await oauth.accessTokens.verifyAccessToken(accessToken, `${base}/acme/mcp/`);
    assert.ok(r.ok);
    assert.equal(r.token.workspaceSlug, 'acme');
    assert.deepEqual(r.token.scopes, ['mcp:read']);
  });

  test('another resource, a tampered payload, a foreign key and garbage are refused', async () => {
    const { accessToken } = await oauth.accessTokens.issueAccessToken(input);
    assert.deepEqual(await oauth.accessTokens.verifyAccessToken(accessToken, `${base}/other/mcp`), { ok: false, description: 'issued for another resource' });
    const [h, , s] = accessToken.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(accessToken)!.payload, scope: 'mcp:read mcp:write' })).toString('base64url');
    assert.equal((await oauth.accessTokens.verifyAccessToken(`${h}.${forged}.${s}`, `${base}/acme/mcp`)).ok, false);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = decodeJwt(accessToken)!.header.kid as string;
    const foreign = signJwt({ alg: 'ES256', typ: 'at+jwt', kid }, decodeJwt(accessToken)!.payload, privateKey);
    assert.deepEqual(await oauth.accessTokens.verifyAccessToken(foreign, `${base}/acme/mcp`), { ok: false, description: 'bad signature' });
    assert.equal((await oauth.accessTokens.verifyAccessToken('garbage', `${base}/acme/mcp`)).ok, false);
    const noneAlg = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${accessToken.split('.')[1]}.`;
    assert.equal((await oauth.accessTokens.verifyAccessToken(noneAlg, `${base}/acme/mcp`)).ok, false);
  });

  test('a token minted with a rotated refresh token carries its generation (gen); verifying it records the generation on the grant', async () => {
    const first = await oauth.accessTokens.issueAccessToken(input);
    assert.equal('gen' in decodeJwt(first.accessToken)!.payload, false, 'none for the code’s own generation');
    const { accessToken } = await oauth.accessTokens.issueAccessToken({ ...input, refreshGeneration: 2 });
    assert.equal(decodeJwt(accessToken)!.payload.gen, 2);
    const r = await oauth.accessTokens.verifyAccessToken(accessToken, input.resource);
    assert.ok(r.ok);
    assert.equal(r.token.refreshGeneration, 2);
    assert.equal((await oauth.grants.getGrant(input.grantId))!.confirmedGeneration, 2);
  });

  test('an expired token and a revoked grant are refused', async () => {
    const short = oauthModule(store, { ...config, accessTokenTtlSeconds: -1 }, 'test-secret');
    const { accessToken: expired } = await short.accessTokens.issueAccessToken(input);
    assert.deepEqual(await oauth.accessTokens.verifyAccessToken(expired, `${base}/acme/mcp`), { ok: false, description: 'expired' });
    const { accessToken } = await oauth.accessTokens.issueAccessToken(input);
    assert.equal(await oauth.grants.revokeGrant(input.grantId, 'test'), true);
    assert.equal(await oauth.grants.revokeGrant(input.grantId, 'test'), false);
    assert.deepEqual(await oauth.accessTokens.verifyAccessToken(accessToken, `${base}/acme/mcp`), { ok: false, description: 'grant revoked' });
  });

  test('after a key rotation old tokens still verify, the JWKS lists both keys, and the private key is sealed', async () => {
    const grant = await oauth.grants.createGrant({ ...input, scopes: ['mcp:read'] });
    const live = { ...input, grantId: grant.id };
    const { accessToken: before } = await oauth.accessTokens.issueAccessToken(live);
    const { kid, retired } = await oauth.keys.rotate();
    assert.equal(retired.length, 2); // the ES256 and the RS256 key
    const { accessToken: afterRotation } = await oauth.accessTokens.issueAccessToken(live);
    assert.equal(decodeJwt(afterRotation)!.header.kid, kid);
    assert.ok((await oauth.accessTokens.verifyAccessToken(before, `${base}/acme/mcp`)).ok);
    assert.ok((await oauth.accessTokens.verifyAccessToken(afterRotation, `${base}/acme/mcp`)).ok);
    const jwks = await oauth.keys.jwks();
    assert.equal(jwks.keys.length, 4);
    assert.ok(jwks.keys.every((k) => !('d' in k)));
    const rows = await store.db.selectFrom('oauth_signing_keys').select('private_sealed').execute();
    assert.ok(rows.every((r: { private_sealed: string }) => r.private_sealed.startsWith('v1.') && !r.private_sealed.includes('"d"')));
    // Another process with the wrong secret cannot use the keys.
    await assert.rejects(oauthModule(store, config, 'wrong-secret').keys.ensureKey(), /Cannot decrypt the signing key/);
  });
});
