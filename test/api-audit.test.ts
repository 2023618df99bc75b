// Issue 19 §1 and §6 — every change made through the management API is in the audit trail as the API key's
// (actor type `api_key`, its id and name, the client address, user agent and request id), recorded in the change's
// own transaction; the outbox events its lower-level functions emit (workspace.created, credits.granted,
// client.created, grant.revoked) are sent once each, never twice. On both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { mintAccessToken } from './helpers/tokens.ts';

forEachDialect('api: audit trail and outbound events', (dialect) => {
  let server: TestServer;
  let receiver: Receiver;
  let key: { id: string; secret: string };
  before(async () => {
    receiver = await startReceiver();
    server = await startTestServer({
      dialect,
      env: { TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_HTTP: 'true', TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_OUTBOUND_WEBHOOK_POLL_MS: '50', TOLLGATE_INITIAL_CREDITS: '100' },
    });
    await server.services.webhooks.endpoints.addEndpoint({ url: `${receiver.url}/deployment`, events: '*' });
    const created = await server.services.api.keys.createKey({ name: 'provisioning', access: 'write' });
    key = { id: created.key.id, secret: created.secret };
  });
  after(async () => {
    await server.stop();
    await receiver.close();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key.secret}`, 'user-agent': 'billing-backend/1.0', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const records = async (action: string) => (await server.services.audit.list({ action, limit: 500 })).records;
  const byKey = (r: { actor: { type: string; id: string | null; label: string | null } }) => r.actor.type === 'api_key' && r.actor.id === key.id && r.actor.label === 'provisioning';

  test('workspace created with an external id, renamed, suspended, resumed: each recorded as the key\'s; workspace.created sent once', async () => {
    const created = await call('POST', '/workspaces', { slug: 'globex', name: 'Globex', external_id: 'cus_globex' });
    assert.equal(created.status, 201, await created.clone().text());
    const requestId = created.headers.get('x-request-id');
    const ws = (await server.services.accounts.workspaces.getWorkspaceBySlug('globex'))!;
    const [made] = (await records('workspace.created')).filter((r) => r.target.id === ws.id);
    assert.ok(made && byKey(made), JSON.stringify(made));
    assert.deepEqual([made.workspaceId, made.ip, made.userAgent], [ws.id, '127.0.0.1', 'billing-backend/1.0']);
    if (requestId) assert.equal(made.requestId, requestId);
    const [externalId] = (await records('workspace.updated')).filter((r) => r.target.id === ws.id);
    assert.deepEqual([externalId.before, externalId.after], [{ external_id: null }, { external_id: 'cus_globex' }]);

    assert.equal((await call('PATCH', '/workspaces/globex', { name: 'Globex Corp' })).status, 200);
    const renamed = (await records('workspace.updated')).find((r) => r.target.id === ws.id && (r.after as { name?: string }).name === 'Globex Corp');
    assert.ok(renamed && byKey(renamed));
    assert.deepEqual(renamed.before, { name: 'Globex' });

    const conflict = await call('PATCH', '/workspaces/demo', { external_id: 'cus_globex' });
    assert.equal(conflict.status, 409, 'another workspace has this external id');

    await mintAccessToken(server.services, { workspace: 'globex' });
    assert.equal((await call('POST', '/workspaces/globex/suspend')).status, 200);
    const [suspended] = (await records('workspace.suspended')).filter((r) => r.target.id === ws.id);
    assert.ok(suspended && byKey(suspended));
    assert.deepEqual(suspended.after, { suspended: true, grants_revoked: 1 });
    assert.equal((await call('POST', '/workspaces/globex/resume')).status, 200);
    assert.ok((await records('workspace.resumed')).some((r) => r.target.id === ws.id && byKey(r)));

    await receiver.waitFor((got) => got.some((e) => e.type === 'grant.revoked' && e.data.workspace_id === ws.id) && got.some((e) => e.type === 'credits.granted' && e.data.workspace_id === ws.id));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(receiver.received.filter((e) => e.type === 'workspace.created' && e.data.workspace_id === ws.id).length, 1, 'workspace.created once');
    assert.equal(receiver.received.filter((e) => e.type === 'grant.revoked' && e.data.workspace_id === ws.id).length, 1, 'grant.revoked once');
  });

  test('credits granted and deducted: recorded with the balance before and after, in the idempotent write; a retry records nothing more', async () => {
    const ws = (await server.services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    const grant = () => call('POST', '/workspaces/demo/credits/grants', { amount: 40, reason: 'purchase', description: 'invoice 9' }, { 'idempotency-key': '"inv-9"' });
    const first = await grant();
    assert.equal(first.status, 201);
    const { balance } = await first.json();
    assert.equal((await grant()).status, 201);
    const granted = (await records('credits.granted')).filter((r) => r.workspaceId === ws.id && byKey(r));
    assert.equal(granted.length, 1, 'the replayed retry is not recorded again');
    assert.deepEqual(granted[0].before, { balance: balance - 40 });
    assert.equal((granted[0].after as { balance: number }).balance, balance);
    assert.equal((await call('POST', '/workspaces/demo/credits/deductions', { amount: 5 }, { 'idempotency-key': '"d-9"' })).status, 201);
    assert.ok((await records('credits.deducted')).some((r) => r.workspaceId === ws.id && byKey(r)));
    await receiver.waitFor((got) => got.some((e) => e.type === 'credits.granted' && e.data.workspace_id === ws.id && e.data.amount === 40));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(receiver.received.filter((e) => e.type === 'credits.granted' && e.data.workspace_id === ws.id && e.data.amount === 40).length, 1, 'credits.granted once');
  });

  test('members, clients, grants, plans and prices: each change recorded as the key\'s, never a secret', async () => {
    assert.equal((await call('POST', '/workspaces/demo/members', { email: 'ops@example.com', role: 'member' })).status, 200);
    const user = (await server.services.accounts.users.findUserByEmail('ops@example.com'))!;
    assert.ok((await records('user.created')).some((r) => r.target.id === user.id && byKey(r)));
    assert.ok((await records('member.added')).some((r) => r.target.id === user.id && byKey(r)));
    assert.equal((await call('PATCH', `/workspaces/demo/members/${user.id}`, { role: 'admin' })).status, 200);
    const changed = (await records('member.role_changed')).find((r) => r.target.id === user.id && byKey(r));
    assert.ok(changed);
    assert.equal((await call('DELETE', `/workspaces/demo/members/${user.id}`)).status, 200);
    assert.ok((await records('member.removed')).some((r) => r.target.id === user.id && byKey(r)));

    const made = await call('POST', '/workspaces/demo/clients', { client_name: 'Backend', redirect_uris: ['https://backend.example/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    assert.equal(made.status, 201, await made.clone().text());
    const client = await made.json();
    assert.ok((await records('client.created')).some((r) => r.target.id === client.client_id && byKey(r)));
    const listed = await (await call('GET', '/workspaces/demo/clients')).json();
    assert.ok(listed.data.some((c: { client_id: string }) => c.client_id === client.client_id), 'the client is bound to the workspace');
    const rotated = await (await call('POST', `/workspaces/demo/clients/${client.client_id}/secret`)).json();
    assert.ok((await records('client.secret_rotated')).some((r) => r.target.id === client.client_id && byKey(r)));
    assert.equal((await call('DELETE', `/workspaces/demo/clients/${client.client_id}`)).status, 200);
    assert.ok((await records('client.deleted')).some((r) => r.target.id === client.client_id && byKey(r)));

    const token = await mintAccessToken(server.services, { workspace: 'demo' });
    assert.equal((await call('DELETE', `/workspaces/demo/grants/${token.grantId}`)).status, 200);
    assert.ok((await records('grant.revoked')).some((r) => r.target.id === token.grantId && byKey(r)));

    assert.equal((await call('PUT', '/plans/scale', { workspace_per_minute: 600, grant_per_minute: 60 })).status, 200);
    assert.ok((await records('plan.defined')).some((r) => r.target.id === 'scale' && byKey(r)));
    assert.equal((await call('PUT', '/workspaces/demo/plan', { plan: 'scale' })).status, 200);
    const plan = (await records('plan.changed')).find((r) => byKey(r));
    assert.deepEqual(plan?.after, { plan: 'scale' });
    assert.equal((await call('PUT', '/workspaces/demo/plan', { plan: 'default' })).status, 200);
    assert.equal((await call('DELETE', '/plans/scale')).status, 200);
    assert.ok((await records('plan.deleted')).some((r) => r.target.id === 'scale' && byKey(r)));

    const tool = server.services.tools[0].name;
    assert.equal((await call('PUT', `/prices/${tool}`, { cost: 7 })).status, 200);
    const price = (await records('price.set')).find((r) => r.target.id === tool && byKey(r));
    assert.deepEqual(price?.after, { cost: 7 });
    assert.equal((await call('DELETE', `/prices/${tool}`)).status, 200);
    assert.ok((await records('price.cleared')).some((r) => r.target.id === tool && byKey(r)));

    const all = JSON.stringify((await server.services.audit.list({ limit: 500 })).records);
    assert.ok(!all.includes(key.secret) && !all.includes(client.client_secret) && !all.includes(rotated.client_secret), 'no key or client secret in the trail');
  });

  test('a workspace deleted through the API: its record outlives it', async () => {
    assert.equal((await call('POST', '/workspaces', { slug: 'initech' })).status, 201);
    const ws = (await server.services.accounts.workspaces.getWorkspaceBySlug('initech'))!;
    assert.equal((await call('DELETE', '/workspaces/initech')).status, 200);
    const [deleted] = (await records('workspace.deleted')).filter((r) => r.target.id === ws.id);
    assert.ok(deleted && byKey(deleted));
    assert.equal((deleted.before as { slug: string }).slug, 'initech');
  });
});
