// Issue 19 §4: the same events whichever path makes the change. A deduction through the management API, or through
// the credits service the CLI's `admin credits deduct` and the admin pages call, that crosses the low-balance line
// sends credits.low, and one that reaches zero credits.exhausted (the rule the tool-call ledger writer uses, in the
// deduction's own transaction). A client created for a workspace (on its dashboard, through the API, a machine client
// bound to it) reaches that
// workspace's endpoints with client.created, and never another workspace's. On both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { signIn, submit } from './helpers/web-pages.ts';

forEachDialect('outbound events from every path', (dialect) => {
  let server: TestServer;
  let receiver: Receiver;
  let key: string;
  let acmeId: string;
  let globexId: string;
  before(async () => {
    receiver = await startReceiver();
    server = await startTestServer({
      dialect,
      env: {
        TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_HTTP: 'true', TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_OUTBOUND_WEBHOOK_POLL_MS: '50',
        TOLLGATE_INITIAL_CREDITS: '100', TOLLGATE_LOW_BALANCE_CREDITS: '50',
      },
    });
    const owner = await server.services.accounts.users.findUserByEmail(ADMIN_EMAIL);
    acmeId = (await server.services.createWorkspace({ slug: 'acme', ownerUserId: owner!.id })).id;
    globexId = (await server.services.createWorkspace({ slug: 'globex', ownerUserId: owner!.id })).id;
    const events = 'credits.low,credits.exhausted,client.created';
    await server.services.webhooks.endpoints.addEndpoint({ url: `${receiver.url}/acme`, workspaceId: acmeId, events });
    await server.services.webhooks.endpoints.addEndpoint({ url: `${receiver.url}/globex`, workspaceId: globexId, events });
    key = (await server.services.api.keys.createKey({ name: 'billing', access: 'write' })).secret;
  });
  after(async () => {
    await server.stop();
    await receiver.close();
  });

  const at = (path: string, type: string) => receiver.received.filter((e) => e.path === path && e.type === type);
  const deduct = (slug: string, amount: number, idem: string) =>
    fetch(`${server.url}/api/v1/workspaces/${slug}/credits/deductions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': idem },
      body: JSON.stringify({ amount }),
    });

  test('API deductions: 100 → 70 (nothing) → 40 (credits.low) → 10 (nothing more) → 0 (credits.exhausted); a replay sends nothing', async () => {
    for (const [amount, idem] of [[30, 'd1'], [30, 'd2'], [30, 'd3']] as const) assert.equal((await deduct('acme', amount, idem)).status, 201);
    await receiver.waitFor(() => at('/acme', 'credits.low').length === 1);
    assert.deepEqual([at('/acme', 'credits.low')[0].data.balance, at('/acme', 'credits.low')[0].data.threshold, at('/acme', 'credits.low')[0].data.workspace_id], [40, 50, acmeId]);
    assert.equal((await deduct('acme', 10, 'd4')).status, 201);
    assert.equal((await deduct('acme', 10, 'd4')).headers.get('idempotent-replayed'), 'true');
    await receiver.waitFor(() => at('/acme', 'credits.exhausted').length === 1);
    assert.equal(at('/acme', 'credits.exhausted')[0].data.balance, 0);
    // A refused deduction (below zero) changes nothing and sends nothing.
    assert.equal((await deduct('acme', 1, 'd5')).status, 409);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(at('/acme', 'credits.low').length, 1);
    assert.equal(at('/acme', 'credits.exhausted').length, 1);
    assert.equal(at('/globex', 'credits.low').length + at('/globex', 'credits.exhausted').length, 0, "another workspace's endpoint hears nothing");
  });

  test('the credits service the CLI and the admin pages deduct through: a single jump from above the line to zero is credits.exhausted only', async () => {
    await server.services.credits.grantCredits({ workspaceId: globexId, amount: -60, reason: 'adjustment', description: 'cli' });
    await receiver.waitFor(() => at('/globex', 'credits.low').length === 1);
    assert.equal(at('/globex', 'credits.low')[0].data.balance, 40);
    await server.services.credits.grantCredits({ workspaceId: globexId, amount: 100, reason: 'grant' });
    await server.services.credits.grantCredits({ workspaceId: globexId, amount: -140, reason: 'adjustment', description: 'contract ended' });
    await receiver.waitFor(() => at('/globex', 'credits.exhausted').length === 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(at('/globex', 'credits.low').length, 1, 'reaching zero is exhausted, not low as well');
  });

  test('client.created for a client created through the API reaches its workspace\'s endpoint, not another workspace\'s', async () => {
    const r = await fetch(`${server.url}/api/v1/workspaces/acme/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Acme backend', redirect_uris: ['https://acme.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' }),
    });
    assert.equal(r.status, 201, await r.clone().text());
    const { client_id: clientId, client_secret: secret } = (await r.json()) as { client_id: string; client_secret: string };
    await receiver.waitFor(() => at('/acme', 'client.created').some((e) => e.data.client_id === clientId));
    const event = at('/acme', 'client.created').find((e) => e.data.client_id === clientId)!;
    assert.equal(event.data.workspace_id, acmeId);
    assert.ok(!event.body.includes(secret));
    const [audit] = (await server.services.audit.list({ action: 'client.created', targetId: clientId })).records;
    assert.equal(audit.workspaceId, acmeId, 'the audit record names the workspace too (its owners see it)');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!at('/globex', 'client.created').some((e) => e.data.client_id === clientId));
  });

  test('client.created for a client created on a workspace dashboard reaches that workspace\'s endpoint only', async () => {
    const jar = await signIn(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const page = await submit(jar, `${server.url}/dashboard/globex/clients`, `${server.url}/dashboard/globex/clients`, { name: 'Globex portal', redirect_uris: 'https://globex.example.com/cb', auth_method: 'client_secret_basic' });
    assert.equal(page.status, 200, page.body.slice(0, 500));
    await receiver.waitFor(() => at('/globex', 'client.created').some((e) => e.data.client_name === 'Globex portal'));
    const event = at('/globex', 'client.created').find((e) => e.data.client_name === 'Globex portal')!;
    assert.equal(event.data.workspace_id, globexId);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!at('/acme', 'client.created').some((e) => e.data.client_name === 'Globex portal'));
  });

  test('client.created for a machine client bound to a workspace reaches that workspace\'s endpoint only', async () => {
    const owner = await server.services.accounts.users.findUserByEmail(ADMIN_EMAIL);
    const { client } = await server.services.oauth.machineClients.createMachineClient({ name: 'Acme nightly sync', workspaceId: acmeId, boundBy: owner!.id, authMethod: 'client_secret_basic' });
    await receiver.waitFor(() => at('/acme', 'client.created').some((e) => e.data.client_id === client.clientId));
    assert.equal(at('/acme', 'client.created').find((e) => e.data.client_id === client.clientId)!.data.workspace_id, acmeId);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!at('/globex', 'client.created').some((e) => e.data.client_id === client.clientId));
  });
});
