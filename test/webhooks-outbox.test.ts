// Issue 19 §4 (outbound webhooks): endpoints per deployment or per workspace receive Standard-Webhooks-signed
// events (credits.low, credits.exhausted, credits.granted, grant.created, grant.revoked, workspace.created,
// client.created) from the durable outbox; failures are retried with backoff; a failed delivery can be sent again
// (same event id); endpoints on private addresses are refused unless a setting allows them. (A SIGKILL between
// commit and delivery: webhooks-crash.test.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { ADMIN_EMAIL, startTestServer, type TestServer } from './helpers/server.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool } from './helpers/mcp-http.ts';
import { verifyEvent } from '../src/webhooks/index.ts';
import { validateClientMetadata } from '../src/oauth/client-metadata.ts';
import type { ToolDefinition } from '../src/tools/tool-types.ts';

const costly: ToolDefinition = { name: 'costly', description: 'Costs 30.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 30, handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }) };

forEachDialect('outbound webhooks', (dialect) => {
  let server: TestServer;
  let receiver: Receiver;
  let deploymentSecret: string;
  let workspaceSecret: string;
  let acmeId: string;
  let deploymentEndpoint: string;
  before(async () => {
    receiver = await startReceiver();
    server = await startTestServer({
      dialect,
      extraTools: [costly],
      env: {
        TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_HTTP: 'true', TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_OUTBOUND_WEBHOOK_POLL_MS: '50',
        TOLLGATE_OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS: '1', TOLLGATE_OUTBOUND_WEBHOOK_MAX_ATTEMPTS: '2', TOLLGATE_INITIAL_CREDITS: '100', TOLLGATE_LOW_BALANCE_CREDITS: '50',
        TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000',
      },
    });
    const dep = await server.services.webhooks.endpoints.addEndpoint({ url: `${receiver.url}/deployment`, events: '*' });
    deploymentSecret = dep.secret;
    deploymentEndpoint = dep.endpoint.id;
    const owner = await server.services.accounts.users.findUserByEmail(ADMIN_EMAIL);
    const acme = await server.services.createWorkspace({ slug: 'acme', ownerUserId: owner!.id });
    acmeId = acme.id;
    const ws = await server.services.webhooks.endpoints.addEndpoint({ url: `${receiver.url}/acme`, workspaceId: acme.id, events: 'credits.low,credits.exhausted,credits.granted,grant.created,grant.revoked' });
    workspaceSecret = ws.secret;
  });
  after(async () => {
    await server.stop();
    await receiver.close();
  });

  const at = (path: string, type: string) => receiver.received.filter((e) => e.path === path && e.type === type);

  test('workspace.created and credits.granted reach the deployment endpoint, signed as Standard Webhooks says', async () => {
    await receiver.waitFor(() => at('/deployment', 'workspace.created').some((e) => e.data.slug === 'acme') && at('/deployment', 'credits.granted').some((e) => e.data.workspace_id === acmeId));
    const created = at('/deployment', 'workspace.created').find((e) => e.data.slug === 'acme')!;
    assert.equal(created.data.workspace_id, acmeId);
    assert.match(created.id, /^evt_/);
    assert.equal(verifyEvent(deploymentSecret, created, created.body), true);
    assert.equal(verifyEvent(workspaceSecret, created, created.body), false, 'each endpoint has its own secret');
    const granted = at('/deployment', 'credits.granted').find((e) => e.data.workspace_id === acmeId)!;
    assert.deepEqual([granted.data.amount, granted.data.balance, granted.data.reason], [100, 100, 'initial']);
    // The workspace's own endpoint was added after the workspace: it saw neither.
    assert.equal(at('/acme', 'workspace.created').length, 0);
  });

  test('a workspace endpoint gets its workspace\'s grant.created and grant.revoked, never another workspace\'s', async () => {
    const acmeToken = await mintAccessToken(server.services, { workspace: 'acme' });
    await mintAccessToken(server.services, { workspace: 'demo' });
    await server.services.oauth.grants.revokeGrant(acmeToken.grantId, 'test');
    // Deliveries are not ordered: wait for the workspace's grant.created as well as its grant.revoked.
    await receiver.waitFor(() => at('/acme', 'grant.revoked').length === 1 && at('/acme', 'grant.created').length >= 1 && at('/deployment', 'grant.created').length >= 2);
    const created = at('/acme', 'grant.created');
    assert.equal(created.length, 1);
    assert.equal(created[0].data.grant_id, acmeToken.grantId);
    assert.equal(at('/acme', 'grant.revoked')[0].data.grant_id, acmeToken.grantId);
    assert.equal(verifyEvent(workspaceSecret, created[0], created[0].body), true);
    assert.ok(!receiver.received.some((e) => e.path === '/acme' && e.data.workspace_id !== acmeId));
  });

  test('client.created, with no secret in it', async () => {
    const { metadata } = validateClientMetadata({ client_name: 'Hook Test', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    const { client, clientSecret } = await server.services.oauth.clients.createClient(metadata, 'static');
    await receiver.waitFor(() => at('/deployment', 'client.created').some((e) => e.data.client_id === client.clientId));
    const event = at('/deployment', 'client.created').find((e) => e.data.client_id === client.clientId)!;
    assert.equal(event.data.client_name, 'Hook Test');
    assert.ok(!event.body.includes(clientSecret!));
  });

  test('tool calls that cross the low-balance line and then reach zero send credits.low and credits.exhausted once each', async () => {
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'acme' });
    // 100 → 70 → 40 (low) → 10 → refused; then a grant of 20 → 30 → 0 (exhausted).
    for (let i = 0; i < 4; i++) await callTool(`${server.url}/acme/mcp`, accessToken, 'costly');
    await receiver.waitFor(() => at('/acme', 'credits.low').length === 1);
    assert.deepEqual([at('/acme', 'credits.low')[0].data.balance, at('/acme', 'credits.low')[0].data.threshold], [40, 50]);
    await server.services.credits.grantCredits({ workspaceId: acmeId, amount: 20, reason: 'grant' });
    await callTool(`${server.url}/acme/mcp`, accessToken, 'costly');
    await receiver.waitFor(() => at('/acme', 'credits.exhausted').length === 1);
    assert.equal(at('/acme', 'credits.low').length, 1);
    assert.equal(await server.services.credits.getBalance(acmeId), 0);
  });

  test('a failing endpoint is retried with backoff, marked failed after the last attempt, and a redeliver sends the same event id', async () => {
    let failing = true;
    receiver.respond = (e) => (failing && e.path === '/deployment' && e.type === 'workspace.created' ? 503 : 200);
    await server.services.createWorkspace({ slug: 'retry-me' });
    await receiver.waitFor(() => at('/deployment', 'workspace.created').filter((e) => e.data.slug === 'retry-me').length >= 2);
    const tries = at('/deployment', 'workspace.created').filter((e) => e.data.slug === 'retry-me');
    assert.equal(tries[0].id, tries[1].id, 'a retry keeps the event id');
    assert.ok(Number(tries[1].timestamp) >= Number(tries[0].timestamp));
    let log = await server.services.webhooks.endpoints.listDeliveries(deploymentEndpoint);
    const poll = async () => {
      for (let i = 0; i < 100 && log.find((d) => d.eventId === tries[0].id)?.status !== 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 30));
        log = await server.services.webhooks.endpoints.listDeliveries(deploymentEndpoint);
      }
    };
    await poll();
    const failed = log.find((d) => d.eventId === tries[0].id)!;
    assert.deepEqual([failed.status, failed.attempts, failed.lastStatus, failed.lastError], ['failed', 2, 503, 'HTTP 503']);
    failing = false;
    assert.equal(await server.services.webhooks.endpoints.redeliver(failed.id), true);
    await receiver.waitFor(() => at('/deployment', 'workspace.created').filter((e) => e.data.slug === 'retry-me').length === 3);
    assert.equal(at('/deployment', 'workspace.created').filter((e) => e.data.slug === 'retry-me')[2].id, tries[0].id);
    for (let i = 0; i < 100 && (await server.services.webhooks.endpoints.listDeliveries(deploymentEndpoint)).find((d) => d.id === failed.id)?.status !== 'delivered'; i++) await new Promise((r) => setTimeout(r, 30));
    assert.equal((await server.services.webhooks.endpoints.listDeliveries(deploymentEndpoint)).find((d) => d.id === failed.id)?.status, 'delivered');
    receiver.respond = () => 200;
  });

  test('bad endpoints are refused: not https (when http is not allowed), credentials in the URL, unknown event types', async () => {
    await assert.rejects(server.services.webhooks.endpoints.addEndpoint({ url: 'ftp://x.example.com/' }), { code: 'invalid_url' });
    await assert.rejects(server.services.webhooks.endpoints.addEndpoint({ url: 'https://user:pw@x.example.com/' }), { code: 'invalid_url' });
    await assert.rejects(server.services.webhooks.endpoints.addEndpoint({ url: 'not a url' }), { code: 'invalid_url' });
    await assert.rejects(server.services.webhooks.endpoints.addEndpoint({ url: 'https://x.example.com/', events: 'credits.granted,credits.stolen' }), { code: 'invalid_events' });
  });
});
