import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { accountsModule, type Accounts } from '../accounts/index.ts';
import { identityModule, type Identity } from './index.ts';
import { ruleMatches } from './workspace-rules.ts';
import { signInAtProvider, startTestProvider, type TestProvider } from '../../test/helpers/oidc-provider.ts';

const config = {
  publicUrl: 'https://tollgate.example',
  ssoAllowHttp: false,
  ssoAllowPrivateAddresses: false,
  ssoTimeoutMs: 1000,
  ssoMaxBytes: 65536,
  ssoCacheSeconds: 60,
  ssoClockSkewSeconds: 60,
  ssoSignInTtlSeconds: 600,
};

forEachDialect('identity', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let accounts: Accounts;
  let identity: Identity;
  before(async () => {
    store = await createTestStore(dialect);
    accounts = accountsModule(store, { sessionTtlSeconds: 60 });
    identity = identityModule(store, config, 'test secret', accounts);
  });
  after(async () => store.drop());

  test('connections: the client secret is sealed at rest and opened only for the token request', async () => {
    const cn = await identity.connections.addConnection({ name: 'okta', issuer: 'https://acme.okta.com', clientId: 'cid', clientSecret: 'very-secret-value', label: 'Okta' });
    const row = await store.db.selectFrom('identity_connections').selectAll().executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes('very-secret-value'));
    assert.match(row.client_secret_sealed, /^v1\./);
    assert.equal(await identity.connections.clientSecret(cn.id), 'very-secret-value');
    assert.ok(!JSON.stringify(await identity.connections.listConnections()).includes('very-secret-value'));
    assert.equal(cn.scopes, 'openid email profile');
    // Another secret cannot open it.
    const stranger = identityModule(store, config, 'another secret', accounts);
    await assert.rejects(stranger.connections.clientSecret(cn.id));
  });

  test('connections: bad names, issuers and inputs are refused with a code', async () => {
    const base = { issuer: 'https://idp.example', clientId: 'c', clientSecret: 's' };
    await assert.rejects(identity.connections.addConnection({ ...base, name: 'okta' }), { code: 'name_taken' });
    for (const name of ['A', 'a', 'with space', '-x', 'x'.repeat(41), '../x']) await assert.rejects(identity.connections.addConnection({ ...base, name }), { code: 'invalid_name' }, name);
    for (const issuer of ['http://idp.example', 'https://idp.example/?q=1', 'https://idp.example/#f', 'https://u:p@idp.example', 'ftp://x', 'not a url']) {
      await assert.rejects(identity.connections.addConnection({ ...base, name: 'other', issuer }), { code: 'invalid_issuer' }, issuer);
    }
    await assert.rejects(identity.connections.addConnection({ ...base, name: 'other', clientSecret: '' }), { code: 'invalid_input' });
    await assert.rejects(identity.connections.addConnection({ ...base, name: 'other', clientId: 'a\u0000b' }), { code: 'invalid_input' });
    await assert.rejects(identity.connections.removeConnection('nope'), { code: 'not_found' });
  });

  test('links: one account per (iss, sub); the same sub at another issuer is another person', async () => {
    const cn = (await identity.connections.getConnection('okta'))!;
    const a = await accounts.users.createUser({ email: 'a@acme.com', emailVerified: true });
    const b = await accounts.users.createUser({ email: 'b@acme.com', emailVerified: true });
    assert.equal(await identity.links.link({ issuer: 'https://acme.okta.com', subject: '42', userId: a.id, connectionId: cn.id, email: a.email }), true);
    assert.equal(await identity.links.link({ issuer: 'https://acme.okta.com', subject: '42', userId: b.id, connectionId: cn.id, email: b.email }), false);
    assert.equal(await identity.links.link({ issuer: 'https://other.okta.com', subject: '42', userId: b.id, connectionId: cn.id, email: b.email }), true);
    assert.equal(await identity.links.findUserId('https://acme.okta.com', '42'), a.id);
    assert.equal(await identity.links.findUserId('https://other.okta.com', '42'), b.id);
    assert.equal((await identity.links.listForUser(a.id))[0].connectionLabel, 'Okta');
  });

  test('session connections: recorded by cookie hash, expire, absent for password sign-ins', async () => {
    const cn = (await identity.connections.getConnection('okta'))!;
    await identity.links.recordSession('cookie-1', cn.id, Date.now() + 60_000);
    await identity.links.recordSession('cookie-old', cn.id, Date.now() - 1);
    assert.equal(await identity.links.sessionConnection('cookie-1'), cn.id);
    assert.equal(await identity.links.sessionConnection('cookie-old'), undefined);
    assert.equal(await identity.links.sessionConnection('cookie-2'), undefined);
    const rows = await store.db.selectFrom('identity_sessions').select('session_hash').execute();
    assert.ok(rows.every((r: { session_hash: string }) => r.session_hash.length === 64 && !r.session_hash.includes('cookie')));
  });

  test('workspace rules: domain and claim auto-join, a required connection, bad rules refused', async () => {
    const cn = (await identity.connections.getConnection('okta'))!;
    const ws = await accounts.workspaces.createWorkspace({ slug: 'acme' });
    const domain = await identity.rules.addJoinRule({ workspaceId: ws.id, domain: '@ACME.com' });
    assert.equal(domain.value, 'acme.com');
    const claim = await identity.rules.addJoinRule({ workspaceId: ws.id, connectionId: cn.id, claim: 'groups', value: 'eng', role: 'admin' });
    await assert.rejects(identity.rules.addJoinRule({ workspaceId: ws.id, domain: 'not a domain' }), { code: 'invalid_input' });
    await assert.rejects(identity.rules.addJoinRule({ workspaceId: ws.id, claim: 'email', value: 'x' }), { code: 'invalid_input' });
    await assert.rejects(identity.rules.addJoinRule({ workspaceId: ws.id, domain: 'a.com', claim: 'groups', value: 'x' }), { code: 'invalid_input' });
    await assert.rejects(identity.rules.addJoinRule({ workspaceId: ws.id, domain: 'a.com', role: 'owner' as never }), { code: 'invalid_input' });
    const facts = { connectionId: cn.id, verifiedEmail: 'x@acme.com', claims: { groups: ['eng', 'ops'] } };
    assert.deepEqual((await identity.rules.matchingRules(facts)).map((r) => r.id).sort(), [domain.id, claim.id].sort());
    // An unverified address proves no domain; a claim rule for one connection ignores the others.
    assert.equal(ruleMatches(domain, { ...facts, verifiedEmail: undefined }), false);
    assert.equal(ruleMatches(domain, { ...facts, verifiedEmail: 'x@evilacme.com' }), false);
    assert.equal(ruleMatches(claim, { ...facts, connectionId: 'other' }), false);
    assert.equal(ruleMatches(claim, { ...facts, claims: { groups: 'eng' } }), true);
    assert.equal(ruleMatches(claim, { ...facts, claims: { groups: [{ eng: true }] } }), false);

    await identity.rules.requireConnection(ws.id, cn.id);
    const access = await identity.workspaceAccess('cookie-1');
    assert.deepEqual(access(ws.id), { allowed: true });
    const password = await identity.workspaceAccess('a-password-session');
    assert.deepEqual(password(ws.id), { allowed: false, connectionLabel: 'Okta', connectionName: 'okta' });
    await identity.rules.requireConnection(ws.id, null);
    assert.deepEqual((await identity.workspaceAccess('a-password-session'))(ws.id), { allowed: true });
    await identity.rules.removeJoinRule(domain.id);
    await assert.rejects(identity.rules.removeJoinRule(domain.id), { code: 'not_found' });
  });

  test('sign-in: unreachable providers, unknown connections, unbound, replayed and denied callbacks are refusals', async () => {
    // A provider the SSRF guard refuses (a loopback issuer, private addresses not allowed) is a refusal, not a crash.
    await identity.connections.addConnection({ name: 'loopback', issuer: 'https://127.0.0.1:9', clientId: 'c', clientSecret: 's' });
    await assert.rejects(identity.signIn.start('loopback', { next: '/' }), (e: Error & { kind?: string }) => e.kind === 'provider_unreachable' && /not a public address/.test(e.message));
    await assert.rejects(identity.signIn.start('nope', { next: '/' }), { kind: 'unknown_connection' });
    await assert.rejects(identity.signIn.finish('okta', new URLSearchParams({ state: 'x', code: 'y' }), undefined), { kind: 'tampered' });
    await assert.rejects(identity.signIn.finish('okta', new URLSearchParams({ state: 'x', code: 'y' }), 'x'), { kind: 'replayed' });
    await assert.rejects(identity.signIn.finish('okta', new URLSearchParams({ error: 'access_denied', state: 'x' }), 'x'), { kind: 'denied' });
    await assert.rejects(identity.signIn.finish('okta', new URLSearchParams({ error: '<script>', state: 'x' }), 'x'), (e: Error) => !e.message.includes('<script>'));
  });

  test('a whole sign-in against a real provider: start, the provider, finish; the state works once, even when raced', async () => {
    const provider: TestProvider = await startTestProvider({
      accounts: { eve: { email: 'eve@acme.com', email_verified: true, groups: ['eng'] }, odd: { email: 'not an address', email_verified: true } },
      redirectUris: () => ['https://tollgate.example/login/sso/real/callback'],
    });
    try {
      const local = identityModule(store, { ...config, ssoAllowHttp: true, ssoAllowPrivateAddresses: true }, 'test secret', accounts);
      const [rs] = provider.clients;
      await local.connections.addConnection({ name: 'real', issuer: provider.issuer, clientId: rs.client_id, clientSecret: rs.client_secret });
      const start = await local.signIn.start('real', { next: '/dashboard' });
      const sent = new URL(start.location).searchParams;
      assert.equal(sent.get('code_challenge_method'), 'S256');
      assert.equal(sent.get('state'), start.state);
      assert.ok((sent.get('nonce') ?? '').length >= 43);
      const stored = await store.db.selectFrom('identity_auth_requests').selectAll().execute();
      assert.ok(stored.length > 0 && stored.every((r) => r.state_hash !== start.state && String(r.code_verifier_sealed).startsWith('v1.')));
      const callback = new URL(await signInAtProvider(start.location, 'eve'));
      assert.equal(callback.origin + callback.pathname, 'https://tollgate.example/login/sso/real/callback');
      // Two callbacks with the same state at once: exactly one signs in.
      const both = await Promise.allSettled([local.signIn.finish('real', callback.searchParams, start.state), local.signIn.finish('real', callback.searchParams, start.state)]);
      assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.kind, 'replayed');
      const result = (both.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof local.signIn.finish>>>).value;
      assert.equal(result.user.email, 'eve@acme.com');
      assert.equal(result.created, true);
      assert.deepEqual(result.joined, []);
      assert.equal(result.next, '/dashboard');
      await assert.rejects(local.signIn.finish('real', callback.searchParams, start.state), { kind: 'replayed' });
      const fresh = await local.signIn.start('real', { next: '/', freshSignIn: true });
      assert.equal(new URL(fresh.location).searchParams.get('prompt'), 'login');
      assert.equal(new URL(start.location).searchParams.get('prompt'), null);
      // An address Tollgate cannot use is a refusal, not a crash.
      const odd = await local.signIn.start('real', { next: '/' });
      const oddBack = new URL(await signInAtProvider(odd.location, 'odd'));
      await assert.rejects(local.signIn.finish('real', oddBack.searchParams, odd.state), { kind: 'no_email' });
    } finally {
      await provider.stop();
    }
  });
});
