import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import { oauthModule, type OAuth } from '../oauth/index.ts';
import type { Store } from '../store/store.ts';
import { bearerChallenge, bearerTokenFrom, bearerVerifier } from './bearer.ts';

test('the Authorization header: Bearer (any case) with a b64token; other schemes count as no credentials', () => {
  assert.equal(bearerTokenFrom(undefined), null);
  assert.equal(bearerTokenFrom('Basic dXNlcjpwdw=='), null);
  assert.equal(bearerTokenFrom('Bearer abc.def-ghi_~+/='), 'abc.def-ghi_~+/=');
  assert.equal(bearerTokenFrom('bEaReR   tok'), 'tok');
  assert.equal(bearerTokenFrom('Bearer'), '');
  assert.equal(bearerTokenFrom('Bearer two words'), '');
  assert.equal(bearerTokenFrom('Bearer "quoted"'), '');
});

test('challenges: resource_metadata always; error codes only when there is an error; descriptions are quotable', () => {
  const url = 'https://h/.well-known/oauth-protected-resource/demo/mcp';
  assert.equal(bearerChallenge(url), `Bearer resource_metadata="${url}"`);
  assert.equal(bearerChallenge(url, { code: 'invalid_token', description: 'say "hi"\\' }), `Bearer resource_metadata="${url}", error="invalid_token", error_description="say  hi  "`);
  assert.equal(bearerChallenge(url, { code: 'insufficient_scope', scope: 'mcp:read mcp:write' }), `Bearer resource_metadata="${url}", error="insufficient_scope", scope="mcp:read mcp:write"`);
});

test('verified tokens are remembered, but expiry and revocation are checked on every request', async () => {
  const base = 'http://127.0.0.1:8787';
  const config = loadConfig({ env: { TOLLGATE_PUBLIC_URL: base } });
  const store: Store & { drop(): Promise<void> } = await createTestStore('sqlite');
  try {
    const oauth: OAuth = oauthModule(store, config, 'secret');
    await oauth.keys.ensureKey();
    const accounts = accountsModule(store, config);
    const user = await accounts.users.createUser({ email: 'u@example.com', password: 'long enough pw' });
    const ws = await accounts.workspaces.createWorkspace({ slug: 'acme', ownerUserId: user.id });
    const resource = `${base}/acme/mcp`;
    const grant = await oauth.grants.createGrant({ clientId: 'c', userId: user.id, workspaceId: ws.id, resource, scopes: ['mcp:read'] });
    const { accessToken } = await oauth.accessTokens.issueAccessToken({ grantId: grant.id, userId: user.id, clientId: 'c', workspaceId: ws.id, workspaceSlug: 'acme', resource, scopes: ['mcp:read'] });
    const bearer = bearerVerifier(oauth, { cacheSize: 2 });
    const auth = `Bearer ${accessToken}`;
    assert.equal((await bearer.verify(auth, resource)).ok, true);
    assert.equal(bearer.cachedTokens, 1);
    assert.equal((await bearer.verify(auth, resource)).ok, true);
    assert.deepEqual(await bearer.verify(auth, `${base}/other/mcp`), { ok: false, anonymous: false, description: 'issued for another resource' });
    assert.deepEqual(await bearer.verify(undefined, resource), { ok: false, anonymous: true });
    assert.deepEqual(await bearer.verify('Bearer !!', resource), { ok: false, anonymous: false, description: 'malformed bearer token' });
    await oauth.grants.revokeGrant(grant.id, 'test');
    assert.deepEqual(await bearer.verify(auth, resource), { ok: false, anonymous: false, description: 'grant revoked' });
    assert.equal(bearer.cachedTokens, 0);
  } finally {
    await store.drop();
  }
});

test('the cache tells apart tokens that end alike: an entry answers only for its whole token', async () => {
  const tail = 'x'.repeat(48);
  const issued = new Map([`a${tail}`, `b${tail}`].map((raw, i) => [raw, { grantId: `g${i}`, refreshGeneration: 0, expiresAt: Date.now() + 60_000 }]));
  let verifications = 0;
  const oauth = {
    accessTokens: {
      async verifyAccessToken(raw: string) {
        verifications++;
        const token = issued.get(raw);
        return token ? { ok: true as const, token } : { ok: false as const, description: 'invalid signature' };
      },
    },
    grants: { isGrantActive: async () => true, touchGrant: () => {} },
  } as unknown as Parameters<typeof bearerVerifier>[0];
  const bearer = bearerVerifier(oauth);
  const grantOf = async (raw: string) => {
    const r = await bearer.verify(`Bearer ${raw}`, 'https://h/acme/mcp');
    return r.ok ? r.token.grantId : r.anonymous ? 'anonymous' : r.description;
  };
  assert.equal(await grantOf(`a${tail}`), 'g0');
  assert.equal(await grantOf(`b${tail}`), 'g1');
  assert.equal(await grantOf(`c${tail}`), 'invalid signature');
  assert.equal(verifications, 3);
  assert.equal(await grantOf(`b${tail}`), 'g1');
  assert.equal(verifications, 3, 'b is answered from the cache; c, refused, was never remembered');
  assert.equal(await grantOf(`a${tail}`), 'g0');
  assert.equal(verifications, 4, "a is verified again: b's entry, under the same key, never answers for it");
});
