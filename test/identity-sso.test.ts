// Issue 18 (items 1–3, 6): signing in with the company's OpenID Connect provider. A real provider (node-oidc-provider,
// two clients: RS256 and ES256 id_tokens) runs in this process; its sign-in and consent pages are driven over HTTP.
// The whole path: an MCP client (official SDK) → Tollgate's sign-in → "Sign in with …" → the provider → back →
// consent with the picker → token → tool call; then every refusal the issue lists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server.ts';
import { browserRequest, CookieJar, parseForms, pkcePair, type PageResponse } from './helpers/oauth-flow.ts';
import { runCli } from './helpers/cli.ts';
import { signInAtProvider, startTestProvider, type ProviderAccount, type TestProvider } from './helpers/oidc-provider.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';
const accounts: Record<string, ProviderAccount> = {
  alice: { email: 'alice@acme.com', email_verified: true, name: 'Alice', groups: ['eng'] },
  bob: { email: 'bob@acme.com', email_verified: false, name: 'Bob' },
  owner: { email: ADMIN_EMAIL, email_verified: true, name: 'Owner at the provider' },
  carol: { email: 'carol@other.org', email_verified: true, name: 'Carol' },
  dana: { email: 'dana@elsewhere.net', email_verified: true, name: 'Dana' },
};

/** A browser: one cookie jar per origin, redirects not followed (each test looks at every hop). */
class Browser {
  readonly jars = new Map<string, CookieJar>();
  jar(url: string): CookieJar {
    const origin = new URL(url).origin;
    if (!this.jars.has(origin)) this.jars.set(origin, new CookieJar());
    return this.jars.get(origin)!;
  }
  get(url: string): Promise<PageResponse> {
    return browserRequest(this.jar(url), url);
  }
  post(url: string, form: Record<string, string>): Promise<PageResponse> {
    return browserRequest(this.jar(url), url, { form });
  }
}

let srv: TestServer;
let provider: TestProvider;

before(async () => {
  srv = await startTestServer({ env: { TOLLGATE_SSO_ALLOW_HTTP: 'true', TOLLGATE_SSO_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' } });
  provider = await startTestProvider({
    accounts,
    redirectUris: (clientId) => [`${srv.url}/login/sso/${clientId === 'tollgate-rs' ? 'acme' : 'beta'}/callback`],
  });
  const { identity, accounts: acc } = srv.services;
  const [rs, es] = provider.clients;
  const acme = await identity.connections.addConnection({ name: 'acme', label: 'Acme SSO', issuer: provider.issuer, clientId: rs.client_id, clientSecret: rs.client_secret });
  const beta = await identity.connections.addConnection({ name: 'beta', label: 'Beta ID', issuer: provider.issuer, clientId: es.client_id, clientSecret: es.client_secret, scopes: 'openid email profile groups' });
  const owner = (await acc.users.findUserByEmail(ADMIN_EMAIL))!;
  const acmeWs = await srv.services.createWorkspace({ slug: 'acme', name: 'Acme', ownerUserId: owner.id });
  const engWs = await srv.services.createWorkspace({ slug: 'eng', name: 'Engineering', ownerUserId: owner.id });
  await identity.rules.addJoinRule({ workspaceId: acmeWs.id, domain: 'acme.com', role: 'member' });
  await identity.rules.addJoinRule({ workspaceId: engWs.id, connectionId: beta.id, claim: 'groups', value: 'eng', role: 'admin' });
  assert.ok(acme.id);
});

after(async () => {
  await provider?.stop();
  await srv?.stop();
});

/** The "Sign in with …" link of a connection on Tollgate's sign-in page. */
function ssoLink(page: string, connection: string): string {
  const m = new RegExp(`href="(/login/sso/${connection}[^"]*)"`).exec(page);
  assert.ok(m, `no "Sign in with" link for ${connection}`);
  return `${srv.url}${m[1].replace(/&amp;/g, '&')}`;
}

/** From Tollgate's sign-in page (`next`), through the provider as `login`, to Tollgate's callback; returns its answer. */
async function ssoSignIn(b: Browser, login: string, opts: { connection?: string; next?: string; deny?: boolean; beforeCallback?: (callback: string, providerUrl: string) => void | Promise<void> } = {}) {
  const page = await b.get(`${srv.url}/login${opts.next ? `?next=${encodeURIComponent(opts.next)}` : ''}`);
  assert.equal(page.status, 200);
  const toProvider = await b.get(ssoLink(page.body, opts.connection ?? 'acme'));
  assert.equal(toProvider.status, 302, toProvider.body.slice(0, 300));
  const providerUrl = toProvider.location!;
  assert.ok(providerUrl.startsWith(provider.issuer));
  const callback = await signInAtProvider(providerUrl, login, { deny: opts.deny, jar: b.jar(providerUrl) });
  assert.ok(callback.startsWith(`${srv.url}/login/sso/`), callback);
  await opts.beforeCallback?.(callback, providerUrl);
  return { answer: await b.get(callback), callback, providerUrl };
}

const text = (body: string) => body.replace(/<[^>]+>/g, ' ').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ');

async function signedInEmail(b: Browser): Promise<string | undefined> {
  const home = await b.get(`${srv.url}/`);
  if (home.status !== 200) return undefined;
  return /signed in as <strong>([^<]+)<\/strong>/i.exec(home.body)?.[1];
}

test('the sign-in page shows a button per connection beside the password form', async () => {
  const page = await new Browser().get(`${srv.url}/login`);
  assert.equal(page.status, 200);
  assert.match(page.body, /Sign in with Acme SSO/);
  assert.match(page.body, /Sign in with Beta ID/);
  assert.match(page.body, /name="password"/);
});

test('an MCP client (official SDK) end to end: sign-in through the provider, consent with the picker, token, tool call', async () => {
  const b = new Browser();
  const saved = { client: undefined as any, tokens: undefined as any, verifier: '', discovery: undefined as any };
  let callback: URLSearchParams | undefined;
  let offered: string[] = [];
  const authProvider = {
    get redirectUrl() {
      return REDIRECT;
    },
    get clientMetadata() {
      return { client_name: 'sso e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    clientInformation: () => saved.client,
    saveClientInformation: (v: unknown) => void (saved.client = v),
    tokens: () => saved.tokens,
    saveTokens: (v: unknown) => void (saved.tokens = v),
    saveCodeVerifier: (v: string) => void (saved.verifier = v),
    codeVerifier: () => saved.verifier,
    saveDiscoveryState: (v: unknown) => void (saved.discovery = v),
    discoveryState: () => saved.discovery,
    redirectToAuthorization: async (url: URL) => {
      // Tollgate's /authorize sends a stranger to its sign-in page, which offers the connections.
      const toLogin = await b.get(url.toString());
      assert.equal(toLogin.status, 302);
      const next = new URL(toLogin.location!).searchParams.get('next')!;
      const { answer } = await ssoSignIn(b, 'alice', { next });
      assert.equal(answer.status, 303, text(answer.body).slice(0, 300));
      const consent = await b.get(answer.location!);
      assert.equal(consent.status, 200);
      assert.match(consent.body, /Signed in as <strong>alice@acme\.com<\/strong>/);
      const form = parseForms(consent.body, consent.url).find((f) => f.buttons.decision)!;
      offered = form.selects.workspace;
      const decided = await b.post(form.action, { ...form.fields, decision: 'approve', workspace: 'acme' });
      callback = new URL(decided.location!).searchParams;
    },
  };
  const endpoint = new URL(`${srv.url}/mcp`);
  const client = new Client({ name: 'sso-e2e', version: '1.0.0' });
  await assert.rejects(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider })));
  // Just in time: the account exists now, joined to `acme` by its verified domain, and the picker offered exactly it.
  assert.deepEqual(offered, ['acme']);
  assert.ok(callback?.get('code'));
  const transport = new StreamableHTTPClientTransport(endpoint, { authProvider });
  await transport.finishAuth(callback!);
  const connected = new Client({ name: 'sso-e2e', version: '1.0.0' });
  await connected.connect(new StreamableHTTPClientTransport(endpoint, { authProvider }));
  const balance = await connected.callTool({ name: 'check_credit_balance', arguments: {} });
  assert.equal((balance.structuredContent as any).workspace, 'acme');
  await connected.close();

  const user = (await srv.services.accounts.users.findUserByEmail('alice@acme.com'))!;
  assert.equal(user.emailVerified, true);
  assert.equal(await srv.services.accounts.users.hasPassword(user.id), false);
  const links = await srv.services.identity.links.listForUser(user.id);
  assert.deepEqual(links.map((l) => [l.issuer, l.subject]), [[provider.issuer, 'alice']]);
  const acme = (await srv.services.accounts.workspaces.getWorkspaceBySlug('acme'))!;
  assert.equal(await srv.services.accounts.workspaces.getRole(acme.id, user.id), 'member');
});

test('a later sign-in finds the account by iss + sub, not by e-mail (the address changed at the provider)', async () => {
  const before = await srv.services.accounts.users.countUsers();
  accounts.alice.email = 'alice.renamed@acme.com';
  try {
    const b = new Browser();
    const { answer } = await ssoSignIn(b, 'alice');
    assert.equal(answer.status, 303);
    assert.equal(await signedInEmail(b), 'alice@acme.com');
    assert.equal(await srv.services.accounts.users.countUsers(), before);
  } finally {
    accounts.alice.email = 'alice@acme.com';
  }
});

test('ES256 id_tokens (the second client) and auto-join by a claim value, with its role', async () => {
  const b = new Browser();
  const { answer } = await ssoSignIn(b, 'alice', { connection: 'beta' });
  assert.equal(answer.status, 303, text(answer.body).slice(0, 300));
  assert.equal(await signedInEmail(b), 'alice@acme.com');
  const user = (await srv.services.accounts.users.findUserByEmail('alice@acme.com'))!;
  const eng = (await srv.services.accounts.workspaces.getWorkspaceBySlug('eng'))!;
  assert.equal(await srv.services.accounts.workspaces.getRole(eng.id, user.id), 'admin');
});

test('a fresh sign-in asked for by an app (prompt=login) is asked of the provider too', async () => {
  const b = new Browser();
  assert.equal((await ssoSignIn(b, 'carol')).answer.status, 303);
  const page = await b.get(`${srv.url}/login?reauth=1&next=%2F`);
  const start = await b.get(ssoLink(page.body, 'acme'));
  assert.equal(new URL(start.location!).searchParams.get('prompt'), 'login');
  const plain = await new Browser().get(ssoLink((await new Browser().get(`${srv.url}/login`)).body, 'acme'));
  assert.equal(new URL(plain.location!).searchParams.get('prompt'), null);
});

test('a denied sign-in at the provider gets a clear page and no session', async () => {
  const b = new Browser();
  const { answer } = await ssoSignIn(b, 'alice', { deny: true });
  assert.equal(answer.status, 403);
  assert.match(text(answer.body), /Sign-in cancelled/);
  assert.equal(await signedInEmail(b), undefined);
});

test('an e-mail the provider has not verified creates no account', async () => {
  const b = new Browser();
  const { answer } = await ssoSignIn(b, 'bob');
  assert.equal(answer.status, 403);
  assert.match(text(answer.body), /not verified your e-mail address/);
  assert.equal(await srv.services.accounts.users.findUserByEmail('bob@acme.com'), undefined);
  assert.equal(await signedInEmail(b), undefined);
});

test('a local account is never taken over by a matching e-mail; it is linked only while signed in to it', async () => {
  const stranger = new Browser();
  const { answer } = await ssoSignIn(stranger, 'owner');
  assert.equal(answer.status, 403);
  assert.match(text(answer.body), /already exists\. Sign in with its password, then link/);
  assert.equal(await signedInEmail(stranger), undefined);

  // The owner signs in with the password, then links the provider from the account page.
  const b = new Browser();
  const login = await b.get(`${srv.url}/login`);
  const form = parseForms(login.body, login.url).find((f) => f.action.endsWith('/login'))!;
  assert.equal((await b.post(form.action, { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).status, 303);
  const methods = await b.get(`${srv.url}/account/sign-in-methods`);
  assert.equal(methods.status, 200);
  const link = parseForms(methods.body, methods.url).find((f) => f.fields.connection === 'acme')!;
  const toProvider = await b.post(link.action, link.fields);
  assert.equal(toProvider.status, 302);
  const callback = await signInAtProvider(toProvider.location!, 'owner', { jar: b.jar(toProvider.location!) });
  const back = await b.get(callback);
  assert.equal(back.status, 303);
  const listed = await b.get(`${srv.url}/account/sign-in-methods`);
  assert.match(text(listed.body), /Acme SSO .*owner@example\.com/);

  // The link is in the audit trail as the account's, from the callback's address, in the link's own transaction.
  const owner = (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
  const [linked] = (await srv.services.audit.list({ action: 'identity.linked', targetId: owner.id })).records;
  assert.ok(linked, 'identity.linked recorded');
  assert.deepEqual([linked.actor.type, linked.actor.id, linked.actor.label, linked.ip], ['user', owner.id, ADMIN_EMAIL, '127.0.0.1']);
  assert.ok(linked.requestId);

  // Now the provider signs the owner in, in a fresh browser.
  const fresh = new Browser();
  assert.equal((await ssoSignIn(fresh, 'owner')).answer.status, 303);
  assert.equal(await signedInEmail(fresh), ADMIN_EMAIL);

  // Unlinking on the account page (the password still signs in) is recorded too; linking again is allowed later.
  const page = await b.get(`${srv.url}/account/sign-in-methods`);
  const unlink = parseForms(page.body, page.url).find((f) => f.action.endsWith('/unlink/acme'))!;
  assert.equal((await b.post(unlink.action, unlink.fields)).status, 303);
  const [unlinked] = (await srv.services.audit.list({ action: 'identity.unlinked', targetId: owner.id })).records;
  assert.ok(unlinked, 'identity.unlinked recorded');
  assert.deepEqual([unlinked.actor.id, (unlinked.before as { issuer: string }).issuer], [owner.id, linked.after && (linked.after as { issuer: string }).issuer]);
});

test('a replayed callback, and one from another browser or with a changed state, get a clear page', async () => {
  const b = new Browser();
  let stateCookie = '';
  const { answer, callback } = await ssoSignIn(b, 'carol', { beforeCallback: () => void (stateCookie = b.jar(srv.url).cookies.get('tollgate_sso_state')!) });
  assert.equal(answer.status, 303);
  assert.ok(stateCookie);

  const replay = new Browser();
  replay.jar(srv.url).cookies.set('tollgate_sso_state', stateCookie);
  const again = await replay.get(callback);
  assert.equal(again.status, 400);
  assert.match(text(again.body), /already used/);
  assert.equal(await signedInEmail(replay), undefined);

  const foreign = await new Browser().get(callback);
  assert.equal(foreign.status, 400);
  assert.match(text(foreign.body), /does not belong to this browser/);

  const c = new Browser();
  const { answer: tampered } = await ssoSignIn(c, 'carol', {
    beforeCallback: (cb) => {
      c.jar(srv.url).cookies.set('tollgate_sso_state', 'forged-state');
      assert.ok(cb);
    },
  });
  assert.equal(tampered.status, 400);
});

test('an id_token issued to another client (wrong aud) or for another sign-in (wrong nonce) is refused', async () => {
  for (const [label, claims, pattern] of [
    ['wrong aud', (nonce: string) => ({ sub: 'carol', aud: 'someone-else', nonce }), /issued to another client/],
    ['wrong nonce', () => ({ sub: 'carol', aud: 'tollgate-rs', nonce: 'a-stale-nonce' }), /nonce mismatch/],
  ] as const) {
    const b = new Browser();
    const { answer } = await ssoSignIn(b, 'carol', {
      beforeCallback: (_cb, providerUrl) => {
        const nonce = new URL(providerUrl).searchParams.get('nonce')!;
        provider.answerNextTokenRequest({ access_token: 'at', token_type: 'Bearer', expires_in: 60, id_token: provider.mintIdToken('RS256', claims(nonce)) });
      },
    });
    assert.equal(answer.status, 400, label);
    assert.match(text(answer.body), pattern, label);
    assert.equal(await signedInEmail(b), undefined, label);
  }
});

test('provider keys rotated: the unknown kid refetches the JWKS once and the sign-in works', async () => {
  provider.rotateKeys();
  const fetches = provider.jwksFetches;
  const b = new Browser();
  const { answer } = await ssoSignIn(b, 'carol');
  assert.equal(answer.status, 303, text(answer.body).slice(0, 300));
  assert.equal(provider.jwksFetches, fetches + 1);
});

test('the provider down: a clear page, never a 500', async () => {
  const b = new Browser();
  const { answer } = await ssoSignIn(b, 'carol', { beforeCallback: () => void (provider.down = true) });
  provider.down = false;
  assert.equal(answer.status, 502);
  assert.match(text(answer.body), /did not answer/);
  // Nothing in the provider's metadata cache helps a connection whose issuer never answered.
  const { identity } = srv.services;
  await identity.connections.addConnection({ name: 'gone', label: 'Gone', issuer: 'http://127.0.0.1:9/gone', clientId: 'x', clientSecret: 'y' });
  const start = await b.get(`${srv.url}/login/sso/gone`);
  assert.equal(start.status, 502);
  assert.match(text(start.body), /could not be reached/);
  await identity.connections.removeConnection('gone');
});

test('a workspace that requires a connection refuses password sign-ins there and says where to sign in', async () => {
  const { identity, accounts: acc } = srv.services;
  const acme = (await acc.workspaces.getWorkspaceBySlug('acme'))!;
  await identity.rules.requireConnection(acme.id, (await identity.connections.getConnection('acme'))!.id);
  const reg = await fetch(`${srv.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'req', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) });
  const clientId = ((await reg.json()) as { client_id: string }).client_id;
  const authorize = (resource: string) =>
    `${srv.url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkcePair().challenge, code_challenge_method: 'S256', resource, state: 's' })}`;
  try {
    // The owner with a password: the acme endpoint is refused with where to sign in; the picker leaves acme out.
    const pw = new Browser();
    const login = await pw.get(`${srv.url}/login`);
    const form = parseForms(login.body, login.url).find((f) => f.action.endsWith('/login'))!;
    await pw.post(form.action, { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    const fixed = await pw.get(authorize(`${srv.url}/acme/mcp`));
    assert.equal(fixed.status, 200);
    assert.match(text(fixed.body), /accepts only people who signed in with Acme SSO/);
    assert.doesNotMatch(fixed.body, /value="approve"/);
    const shared = await pw.get(authorize(`${srv.url}/mcp`));
    const picker = parseForms(shared.body, shared.url).find((f) => f.buttons.decision)!;
    assert.ok(!picker.selects.workspace.includes('acme'), picker.selects.workspace.join(','));
    assert.ok(picker.selects.workspace.includes('demo'));
    // A hand-made decision for acme is refused too.
    const forced = await pw.post(picker.action, { ...picker.fields, decision: 'approve', workspace: 'acme' });
    assert.ok(forced.status >= 400 && forced.status < 500, String(forced.status));
    // The workspace's dashboard too, with a button to the right sign-in.
    const dashboard = await pw.get(`${srv.url}/dashboard/acme`);
    assert.equal(dashboard.status, 403);
    assert.match(dashboard.body, /href="\/login\/sso\/acme\?next=%2Fdashboard%2Facme"/);
    assert.equal((await pw.get(`${srv.url}/dashboard/demo`)).status, 200);

    // The /device page (RFC 8628) gives no more than the consent page: acme is not offered, a device asking for it
    // is told where to sign in, and a hand-made approval for it is refused.
    const deviceCode = async (resource?: string) => {
      const r = await fetch(`${srv.url}/device_authorization`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: clientId, ...(resource ? { resource } : {}) }) });
      assert.equal(r.status, 200);
      return ((await r.json()) as { user_code: string }).user_code;
    };
    const sharedCode = await deviceCode();
    const devicePage = await pw.get(`${srv.url}/device?user_code=${encodeURIComponent(sharedCode)}`);
    const deviceForm = parseForms(devicePage.body, devicePage.url).find((f) => f.buttons.decision)!;
    assert.ok(!deviceForm.selects.workspace.includes('acme'), deviceForm.selects.workspace.join(','));
    assert.ok(deviceForm.selects.workspace.includes('demo'));
    const forcedDevice = await pw.post(deviceForm.action, { ...deviceForm.fields, decision: 'approve', workspace: 'acme' });
    assert.equal(forcedDevice.status, 400);
    const forAcme = await pw.get(`${srv.url}/device?user_code=${encodeURIComponent(await deviceCode(`${srv.url}/acme/mcp`))}`);
    assert.match(text(forAcme.body), /accept only people who signed in with Acme SSO/);
    assert.doesNotMatch(forAcme.body, /value="approve"/);

    // Someone whose only workspace requires the connection: an empty picker says where to sign in.
    await acc.users.createUser({ email: 'pat@acme.com', password: 'a long enough password' });
    await acc.workspaces.addMember('acme', 'pat@acme.com', 'member');
    const pat = new Browser();
    const patLogin = await pat.get(`${srv.url}/login`);
    const patForm = parseForms(patLogin.body, patLogin.url).find((f) => f.action.endsWith('/login'))!;
    await pat.post(patForm.action, { ...patForm.fields, email: 'pat@acme.com', password: 'a long enough password' });
    const empty = await pat.get(authorize(`${srv.url}/mcp`));
    assert.match(text(empty.body), /Your workspaces accept only people who signed in with Acme SSO/);

    // Signed in through Acme SSO, the same workspace can be given.
    const sso = new Browser();
    assert.equal((await ssoSignIn(sso, 'alice')).answer.status, 303);
    const ok = await sso.get(authorize(`${srv.url}/acme/mcp`));
    assert.match(ok.body, /value="approve"/);
    const ssoDevice = await sso.get(`${srv.url}/device?user_code=${encodeURIComponent(await deviceCode(`${srv.url}/acme/mcp`))}`);
    assert.match(ssoDevice.body, /value="approve"/);
    assert.equal((await sso.get(`${srv.url}/dashboard/acme`)).status, 200);
  } finally {
    await identity.rules.requireConnection(acme.id, null);
  }
});

test('bad callbacks and start requests get 4xx pages, never a 500 or a stack trace', async () => {
  const b = new Browser();
  const cases: [string, number][] = [
    ['/login/sso/nope', 404],
    ['/login/sso/nope/callback?code=x&state=y', 404],
    ['/login/sso/acme/callback', 400],
    ['/login/sso/acme/callback?state=' + 'x'.repeat(5000), 400],
    ['/login/sso/acme/callback?error=server_error&error_description=%3Cscript%3E', 502],
    ['/login/sso/acme/callback?error=%3Cscript%3Ealert(1)%3C/script%3E', 502],
    ['/login/sso/acme/callback?code=x&state=y&state=z', 400],
    ['/login/sso/%2e%2e/callback', 404],
  ];
  for (const [path, status] of cases) {
    const res = await b.get(`${srv.url}${path}`);
    assert.equal(res.status, status, path);
    assert.doesNotMatch(res.body, /<script>|at [A-Za-z]+ \(|node:internal/, path);
  }
  // A provider error that is not a denial is named, but only as a safe code.
  const res = await b.get(`${srv.url}/login/sso/acme/callback?error=temporarily_unavailable`);
  assert.match(text(res.body), /temporarily_unavailable/);
});

test('the admin page lists connections with the redirect URI to register, never a secret; bad input is a 400 page', async () => {
  const b = new Browser();
  const login = await b.get(`${srv.url}/login`);
  const form = parseForms(login.body, login.url).find((f) => f.action.endsWith('/login'))!;
  await b.post(form.action, { ...form.fields, email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  const page = await b.get(`${srv.url}/admin/sso`);
  assert.equal(page.status, 200);
  assert.match(text(page.body), /Acme SSO/);
  assert.ok(page.body.replace(/<wbr \/>|<\/?span[^>]*>/g, '').includes(`${srv.url}/login/sso/acme/callback`));
  for (const c of provider.clients) assert.ok(!page.body.includes(c.client_secret));
  const add = parseForms(page.body, page.url).find((f) => f.action.endsWith('/admin/sso'))!;
  const bad = await b.post(add.action, { ...add.fields, name: 'x y', issuer: provider.issuer, client_id: 'c', client_secret: 's' });
  assert.equal(bad.status, 400);
  const unreachable = await b.post(add.action, { ...add.fields, name: 'down', issuer: 'http://127.0.0.1:9', client_id: 'c', client_secret: 's' });
  assert.equal(unreachable.status, 400);
  assert.match(text(unreachable.body), /discovery document could not be used/);
  const ok = await b.post(add.action, { ...add.fields, name: 'second', label: 'Second', issuer: provider.issuer, client_id: 'c2', client_secret: 'the-second-secret' });
  assert.equal(ok.status, 303);
  const after = await b.get(`${srv.url}/admin/sso?done=added`);
  assert.match(text(after.body), /Second/);
  assert.ok(!after.body.includes('the-second-secret'));
  const remove = parseForms(after.body, after.url).find((f) => f.action.endsWith('/admin/sso/second/remove'))!;
  assert.equal((await b.post(remove.action, remove.fields)).status, 303);
  assert.equal(await srv.services.identity.connections.getConnection('second'), undefined);
  // Not an operator: refused.
  const alice = new Browser();
  await ssoSignIn(alice, 'alice');
  assert.equal((await alice.get(`${srv.url}/admin/sso`)).status, 403);
});

test('tollgate admin sso add | list | auto-join | require | remove; the secret is never printed back', async () => {
  const env = { TOLLGATE_DATABASE_URL: srv.config.databaseUrl, TOLLGATE_DATA_DIR: srv.config.dataDir, TOLLGATE_PUBLIC_URL: srv.url, TOLLGATE_SSO_ALLOW_HTTP: 'true', TOLLGATE_SSO_ALLOW_PRIVATE_ADDRESSES: 'true' };
  const added = await runCli(['admin', 'sso', 'add', 'cli-idp', '--issuer', provider.issuer, '--client-id', 'cli-client', '--client-secret', 'cli-secret-value', '--label', 'CLI IdP'], { env });
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, new RegExp(`Register this redirect URI at the provider: ${srv.url}/login/sso/cli-idp/callback`));
  const listed = await runCli(['admin', 'sso', 'list'], { env });
  assert.match(listed.stdout, /cli-idp\s+CLI IdP/);
  for (const out of [added, listed]) assert.ok(!(out.stdout + out.stderr).includes('cli-secret-value'));
  const down = await runCli(['admin', 'sso', 'add', 'down', '--issuer', 'http://127.0.0.1:9', '--client-id', 'c', '--client-secret', 's'], { env });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /discovery document could not be used/);
  const join = await runCli(['admin', 'sso', 'auto-join', 'demo', '--domain', 'example.org', '--connection', 'cli-idp', '--role', 'admin'], { env });
  assert.equal(join.code, 0, join.stderr);
  assert.match(join.stdout, /verified e-mail at example\.org → demo as admin/);
  const required = await runCli(['admin', 'sso', 'require', 'demo', 'cli-idp'], { env });
  assert.match(required.stdout, /demo now accepts only people signed in with CLI IdP/);
  assert.equal((await srv.services.identity.rules.requirements()).size, 1);
  const removed = await runCli(['admin', 'sso', 'remove', 'cli-idp'], { env });
  assert.equal(removed.code, 0, removed.stderr);
  // Its rules and requirement go with it.
  assert.equal((await srv.services.identity.rules.requirements()).size, 0);
});

test('local passwords turned off: the form is gone, the buttons stay, a hand-made password sign-in is refused; starts are budgeted per IP', async () => {
  const other = await startTestServer({ env: { TOLLGATE_LOCAL_PASSWORDS: 'false', TOLLGATE_SSO_ALLOW_HTTP: 'true', TOLLGATE_SSO_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_SSO_STARTS_PER_IP: '2' } });
  try {
    await other.services.identity.connections.addConnection({ name: 'acme', label: 'Acme SSO', issuer: provider.issuer, clientId: 'x', clientSecret: 'y' });
    const b = new Browser();
    const page = await b.get(`${other.url}/login`);
    assert.equal(page.status, 200);
    assert.match(page.body, /Sign in with Acme SSO/);
    assert.doesNotMatch(page.body, /name="password"/);
    const refused = await b.post(`${other.url}/login`, { csrf_token: 'any', email: ADMIN_EMAIL, password: ADMIN_PASSWORD, next: '/' });
    assert.equal(refused.status, 403);
    assert.match(text(refused.body), /Password sign-in is turned off/);
    assert.equal(await b.get(`${other.url}/`).then((r) => r.status), 303);
    assert.equal((await b.get(`${other.url}/login/sso/acme`)).status, 302);
    assert.equal((await b.get(`${other.url}/login/sso/acme`)).status, 302);
    const over = await b.get(`${other.url}/login/sso/acme`);
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) > 0);
  } finally {
    await other.stop();
  }
});

test('an invitation accepted through SSO: "Sign in to accept" → the provider → back to the invitation → joined; the link is then used up', async () => {
  const { accounts: acc, invitations } = srv.services;
  const demo = (await acc.workspaces.getWorkspaceBySlug('demo'))!;
  const { token } = await invitations.createInvitation({ workspace: demo, email: accounts.dana.email!, role: 'admin' });
  const invitePath = `/invite?token=${encodeURIComponent(token)}`;
  const b = new Browser();
  const before = await b.get(`${srv.url}${invitePath}`);
  assert.equal(before.status, 200);
  const signIn = /href="(\/login\?next=[^"]+)"/.exec(before.body)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(signIn, 'the invitation offers "Sign in to accept"');
  assert.equal(new URL(signIn, srv.url).searchParams.get('next'), invitePath);
  // Dana has no account yet: the provider's sign-in creates it (just in time) and sends her back to the invitation.
  assert.equal(await acc.users.findUserByEmail(accounts.dana.email!), undefined);
  const { answer } = await ssoSignIn(b, 'dana', { next: invitePath });
  assert.equal(answer.status, 303);
  assert.equal(answer.location, `${srv.url}${invitePath}`);
  const signedIn = await b.get(`${srv.url}${invitePath}`);
  const join = parseForms(signedIn.body, signedIn.url).find((f) => f.action.endsWith('/invite/accept'))!;
  assert.ok(join, 'a Join form for the signed-in person');
  const joined = await b.post(join.action, join.fields);
  assert.ok(joined.status === 302 || joined.status === 303, `accepting got ${joined.status}`);
  const dana = (await acc.users.findUserByEmail(accounts.dana.email!))!;
  assert.equal(await acc.workspaces.getRole(demo.id, dana.id), 'admin');
  const again = await b.get(`${srv.url}${invitePath}`);
  assert.ok(again.status >= 400 && again.status < 500, `a used link got ${again.status}`);
});

test('local passwords turned off: no password reset and no password sign-up through an invitation, even with mail configured', async () => {
  const other = await startTestServer({ env: { TOLLGATE_LOCAL_PASSWORDS: 'false', TOLLGATE_SMTP_URL: 'smtp://127.0.0.1:9' } });
  try {
    const b = new Browser();
    const reset = await b.get(`${other.url}/password-reset`);
    assert.equal(reset.status, 404);
    assert.match(text(reset.body), /through their organization/);
    const ws = (await other.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    const { token } = await other.services.invitations.createInvitation({ workspace: ws, email: 'new.person@example.com', role: 'member' });
    const invite = await b.get(`${other.url}/invite?token=${encodeURIComponent(token)}`);
    assert.equal(invite.status, 200);
    assert.doesNotMatch(invite.body, /name="password"/);
    assert.match(text(invite.body), /Sign in through your organization/);
    const csrf = /name="csrf_token" value="([^"]*)"/.exec((await b.get(`${other.url}/login`)).body)?.[1] ?? 'none';
    const signUp = await b.post(`${other.url}/invite/accept`, { csrf_token: csrf, token, password: 'a long enough password', password2: 'a long enough password' });
    assert.ok(signUp.status === 403 || signUp.status === 400, `a password sign-up got ${signUp.status}`);
    assert.equal(await other.services.accounts.users.findUserByEmail('new.person@example.com'), undefined, 'no password account was created');
  } finally {
    await other.stop();
  }
});

test('no client secret or id_token in the logs, and no 500 anywhere above', () => {
  const all = srv.logs.join('\n');
  for (const c of provider.clients) assert.ok(!all.includes(c.client_secret));
  assert.ok(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(all), 'no JWT in the logs');
  assert.ok(!all.includes('"status":500'));
});
