import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule, type User, type Workspace } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import { validateClientMetadata } from './client-metadata.ts';
import { oauthModule } from './index.ts';
import { decideAuthorization, nextAuthorizationStep, validateAuthorizationRequest, type AuthorizationRequest, type AuthorizeDeps } from './authorize.ts';
import { rootIssuer } from './issuers.ts';

const BASE = 'http://127.0.0.1:8788';
const CALLBACK = 'https://app.example.com/cb';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

forEachDialect('authorize', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let deps: AuthorizeDeps;
  let user: User;
  let own: Workspace;
  let other: Workspace;
  let ownedClientId: string;

  before(async () => {
    store = await createTestStore(dialect);
    const config = loadConfig({ env: { TOLLGATE_PUBLIC_URL: BASE } });
    const accounts = accountsModule(store, config);
    const oauth = oauthModule(store, config, 'secret');
    deps = { config, workspaces: accounts.workspaces, oauth };
    user = await accounts.users.createUser({ email: 'u@example.com', password: 'long enough pw' });
    own = await accounts.workspaces.createWorkspace({ slug: 'own', name: 'Own', ownerUserId: user.id });
    other = await accounts.workspaces.createWorkspace({ slug: 'other', name: 'Other', ownerUserId: user.id });
    const metadata = validateClientMetadata({ client_name: 'Back office', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_basic' }).metadata;
    ownedClientId = (await oauth.clients.createClient(metadata, 'static')).client.clientId;
    await oauth.workspaceClients.record(ownedClientId, own.id, user.id);
  });
  after(async () => store.drop());

  async function requestFor(params: Record<string, string>): Promise<AuthorizationRequest> {
    const query = new URLSearchParams({ client_id: ownedClientId, redirect_uri: CALLBACK, response_type: 'code', code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's1', ...params });
    const outcome = await validateAuthorizationRequest(deps, rootIssuer(deps.config), query);
    assert.equal(outcome.kind, 'ok', JSON.stringify(outcome));
    return (outcome as { request: AuthorizationRequest }).request;
  }
  const session = () => ({ user: { id: user.id }, authTime: Date.now() });

  test('decideAuthorization itself refuses a workspace\'s own client for another workspace, named or picked', async () => {
    const named = await decideAuthorization(deps, await requestFor({ resource: `${BASE}/other/mcp` }), user, { approve: true }, { authTime: Date.now() });
    assert.equal(named.kind, 'page');
    assert.equal(named.kind === 'page' && named.status, 403);
    assert.equal(named.kind === 'page' && named.title, 'Not this workspace');
    const picked = await decideAuthorization(deps, await requestFor({ resource: `${BASE}/mcp` }), user, { approve: true, workspaceSlug: 'other' }, { authTime: Date.now() });
    assert.equal(picked.kind === 'page' && picked.title, 'Not this workspace');
    const allowed = await decideAuthorization(deps, await requestFor({ resource: `${BASE}/mcp` }), user, { approve: true, workspaceSlug: 'own' }, { authTime: Date.now() });
    assert.equal(allowed.kind, 'redirect');
    const location = new URL(allowed.kind === 'redirect' ? allowed.location : '');
    assert.ok(location.searchParams.get('code'));
    assert.equal(location.searchParams.get('state'), 's1');
  });

  test('nextAuthorizationStep: prompt=none redirects with login_required and iss; signed in, the consent offers the owner\'s workspace only', async () => {
    const none = await nextAuthorizationStep(deps, await requestFor({ prompt: 'none' }), { clientId: ownedClientId, name: 'Back office', kind: 'static' }, undefined);
    assert.equal(none.kind, 'redirect');
    const location = new URL(none.kind === 'redirect' ? none.location : '');
    assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
    assert.equal(location.searchParams.get('error'), 'login_required');
    assert.equal(location.searchParams.get('state'), 's1');
    assert.equal(location.searchParams.get('iss'), BASE);

    const login = await nextAuthorizationStep(deps, await requestFor({ prompt: 'login consent' }), { clientId: ownedClientId, name: 'Back office', kind: 'static' }, session());
    assert.deepEqual(login, { kind: 'fresh-sign-in', promptAfter: ['consent'] });

    const consent = await nextAuthorizationStep(deps, await requestFor({ resource: `${BASE}/mcp` }), { clientId: ownedClientId, name: 'Back office', kind: 'static' }, session());
    assert.equal(consent.kind, 'consent');
    assert.deepEqual(consent.kind === 'consent' && consent.choices?.map((w) => w.slug), ['own']);
    assert.equal(consent.kind === 'consent' && consent.ownerWorkspace?.id, own.id);
    const blocked = await nextAuthorizationStep(deps, await requestFor({ resource: `${BASE}/other/mcp` }), { clientId: ownedClientId, name: 'Back office', kind: 'static' }, session());
    assert.equal(blocked.kind === 'consent' && blocked.workspace?.id, other.id);
    assert.match(blocked.kind === 'consent' ? (blocked.blocked ?? '') : '', /was created for the workspace "Own" and can be given access to that workspace only/);
  });
});
