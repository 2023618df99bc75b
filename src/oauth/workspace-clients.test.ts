import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule, type User, type Workspace } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import { oauthModule, validateClientMetadata, type OAuth } from './index.ts';

forEachDialect('workspace clients', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let oauth: OAuth;
  let user: User;
  let ws: Workspace;
  const metadata = validateClientMetadata({ client_name: 'Back office', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }).metadata;
  const clientCount = async () => (await store.typed<{ oauth_clients: { client_id: string } }>().selectFrom('oauth_clients').select('client_id').execute()).length;

  before(async () => {
    store = await createTestStore(dialect);
    const config = loadConfig({ env: { TOLLGATE_PUBLIC_URL: 'http://127.0.0.1:8787' } });
    const accounts = accountsModule(store, config);
    oauth = oauthModule(store, config, 'secret');
    user = await accounts.users.createUser({ email: 'u@example.com', password: 'long enough pw' });
    ws = await accounts.workspaces.createWorkspace({ slug: 'acme', ownerUserId: user.id });
  });
  after(async () => store.drop());

  test('a workspace\'s client is created with its binding: owned, listed, and its secret returned once', async () => {
    const { client, clientSecret } = await oauth.workspaceClients.create(metadata, ws.id, user.id);
    assert.ok(clientSecret && clientSecret.length >= 32);
    assert.equal(await oauth.workspaceClients.ownerOf(client.clientId), ws.id);
    assert.deepEqual(await oauth.workspaceClients.bindingOf(client.clientId), { workspaceId: ws.id, createdBy: user.id });
    assert.deepEqual(await oauth.workspaceClients.list(ws.id), [client.clientId]);
  });

  test('a binding that cannot be written takes the client with it: no client is left that no workspace can manage', async () => {
    const before = await clientCount();
    // No such workspace: the binding's foreign key refuses it, inside the same transaction as the client.
    await assert.rejects(oauth.workspaceClients.create(metadata, 'no-such-workspace', user.id));
    assert.equal(await clientCount(), before);
  });
});
