// Issue 19 §3 (billing): the dashboard's balance, low-balance warning and "Buy credits" button to the configured
// checkout link (slug and external id filled in, URL-encoded); the out-of-credits tool error quotes the same link;
// Stripe's own signed events (`Stripe-Signature`, built here exactly as Stripe documents it) grant the credits of a
// completed checkout session once per event id and per session; wrong signatures, old timestamps and replays are
// refused or ignored as Stripe expects; other event types are acknowledged and ignored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { forEachDialect } from './helpers/databases.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool } from './helpers/mcp-http.ts';
import { getPage, signIn, textOf } from './helpers/web-pages.ts';
import type { ToolDefinition } from '../src/tools/tool-types.ts';

const STRIPE_SECRET = 'whsec_test_0c9a77e1b2d34f';
const TEMPLATE = 'https://buy.stripe.com/test_28o5kj?client_reference_id={workspace}&ref={external_id}';
const pricey: ToolDefinition = { name: 'pricey', description: 'Costs 50.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 50, handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }) };

/** A Stripe event as Stripe sends it (https://docs.stripe.com/api/events/object), with a checkout session. */
function checkoutEvent(id: string, session: Record<string, unknown>, type = 'checkout.session.completed') {
  return {
    id, object: 'event', api_version: '2025-09-30.clover', created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1,
    request: { id: null, idempotency_key: null }, type,
    data: { object: { object: 'checkout.session', mode: 'payment', status: 'complete', payment_status: 'paid', amount_total: 1900, currency: 'usd', client_reference_id: null, metadata: {}, ...session } },
  };
}

/** `Stripe-Signature: t=…,v1=…`: HMAC-SHA256 keyed by the endpoint secret over "<t>.<raw payload>", hex. */
const stripeHeader = (payload: string, t = Math.floor(Date.now() / 1000), secret = STRIPE_SECRET) => `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${payload}`).digest('hex')}`;

forEachDialect('billing: checkout link and Stripe events', (dialect) => {
  let server: TestServer;
  let acme: { id: string };
  before(async () => {
    server = await startTestServer({
      dialect,
      extraTools: [pricey],
      env: { TOLLGATE_STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, TOLLGATE_CHECKOUT_URL_TEMPLATE: TEMPLATE, TOLLGATE_LOW_BALANCE_CREDITS: '60', TOLLGATE_INITIAL_CREDITS: '40', TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' },
    });
    const owner = await server.services.accounts.users.findUserByEmail(ADMIN_EMAIL);
    const ws = await server.services.createWorkspace({ slug: 'acme', ownerUserId: owner!.id });
    await server.services.accounts.workspaces.setWorkspaceExternalId(ws.id, 'cus_Q&1');
    acme = ws;
  });
  after(async () => server.stop());
  const balance = () => server.services.credits.getBalance(acme.id);
  const expectedLink = 'https://buy.stripe.com/test_28o5kj?client_reference_id=acme&ref=cus_Q%261';

  const deliver = (payload: unknown, header?: string) => {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return fetch(`${server.url}/api/webhooks/credits`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header ?? stripeHeader(body) }, body });
  };

  test('the dashboard warns at a low balance and its "Buy credits" button goes to the filled-in checkout link', async () => {
    const jar = await signIn(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const page = await getPage(jar, `${server.url}/dashboard/acme`);
    assert.equal(page.status, 200);
    assert.match(textOf(page.body), /Credits are running low: 40 left/);
    const href = /id="buy-credits" href="([^"]+)"/.exec(page.body)?.[1];
    assert.equal(href?.replaceAll('&amp;', '&'), expectedLink);
  });

  test('the out-of-credits tool error quotes the same checkout link', async () => {
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'acme' });
    const res = await callTool(`${server.url}/acme/mcp`, accessToken, 'pricey');
    assert.equal(res.status, 200);
    assert.equal(res.body.result.isError, true);
    assert.ok(res.body.result.content[0].text.includes(expectedLink), res.body.result.content[0].text);
    assert.equal(await balance(), 40);
  });

  test('checkout.session.completed grants metadata.credits to the client_reference_id workspace, once, even when replayed at once', async () => {
    const event = checkoutEvent('evt_1Pq001', { id: 'cs_test_a001', client_reference_id: 'acme', metadata: { credits: '500' } });
    const body = JSON.stringify(event);
    const header = stripeHeader(body);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(body, header)));
    const statuses = await Promise.all(answers.map(async (r) => [r.status, (await r.json()).status]));
    assert.equal(statuses.filter(([s, x]) => s === 200 && x === 'applied').length, 1, JSON.stringify(statuses));
    assert.equal(statuses.filter(([s, x]) => s === 200 && x === 'duplicate').length, 4, JSON.stringify(statuses));
    assert.equal(await balance(), 540);
    const [row] = (await server.services.credits.listLedger(acme.id, { limit: 1 })).entries;
    assert.deepEqual([row.reason, row.amount, row.description], ['purchase', 500, 'Stripe checkout cs_test_a001']);
    // A later redelivery (a fresh signature) is acknowledged, not applied.
    const again = await deliver(body);
    assert.deepEqual([again.status, (await again.json()).status], [200, 'duplicate']);
    assert.equal(await balance(), 540);
  });

  test('a second event for the same session (async_payment_succeeded after completed) grants nothing more', async () => {
    const res = await deliver(checkoutEvent('evt_1Pq002', { id: 'cs_test_a001', client_reference_id: 'acme', metadata: { credits: '500' } }, 'checkout.session.async_payment_succeeded'));
    assert.deepEqual([res.status, (await res.json()).status], [200, 'duplicate']);
    assert.equal(await balance(), 540);
  });

  test('metadata.workspace wins over client_reference_id, and an external id names a workspace too', async () => {
    const byMeta = await deliver(checkoutEvent('evt_1Pq003', { id: 'cs_test_a003', client_reference_id: 'demo', metadata: { credits: '10', workspace: 'cus_Q&1' } }));
    assert.equal((await byMeta.json()).workspace, 'acme');
    assert.equal(await balance(), 550);
  });

  test('a session still awaiting payment and any other event type are acknowledged (200) and ignored', async () => {
    const unpaid = await deliver(checkoutEvent('evt_1Pq004', { id: 'cs_test_a004', client_reference_id: 'acme', payment_status: 'unpaid', metadata: { credits: '10' } }));
    assert.deepEqual([unpaid.status, (await unpaid.json()).status], [200, 'ignored']);
    const other = await deliver({ id: 'evt_1Pq005', object: 'event', type: 'invoice.paid', data: { object: { id: 'in_1' } } });
    assert.deepEqual([other.status, (await other.json()).status], [200, 'ignored']);
    assert.equal(await balance(), 550);
  });

  test('a wrong signature or an old timestamp is refused (400) and grants nothing', async () => {
    const body = JSON.stringify(checkoutEvent('evt_1Pq006', { id: 'cs_test_a006', client_reference_id: 'acme', metadata: { credits: '999' } }));
    const now = Math.floor(Date.now() / 1000);
    const refused: [string, string][] = [
      [stripeHeader(body, now, 'whsec_guess'), 'invalid_signature'],
      [stripeHeader(body.replace('"999"', '"99999"'), now), 'invalid_signature'],
      [`t=${now},v1=${'0'.repeat(64)}`, 'invalid_signature'],
      [`t=${now}`, 'invalid_signature'],
      [stripeHeader(body, now - 301), 'timestamp_out_of_tolerance'],
      ['v1=abc', 'invalid_request'],
    ];
    for (const [header, error] of refused) {
      const res = await deliver(body, header);
      assert.equal(res.status, 400, header);
      const answer = await res.json();
      assert.equal(answer.error, error, header);
      assert.ok(answer.request_id);
    }
    assert.equal(await balance(), 550);
    // The same event, correctly signed now, still applies: refusals claimed nothing.
    assert.equal((await (await deliver(body)).json()).status, 'applied');
    assert.equal(await balance(), 1549);
  });

  test('bad sessions: no workspace, unknown workspace, bad credits, not an event', async () => {
    const cases: [unknown, number, string][] = [
      [checkoutEvent('evt_b1', { id: 'cs_b1', metadata: { credits: '5' } }), 400, 'invalid_request'],
      [checkoutEvent('evt_b2', { id: 'cs_b2', client_reference_id: 'nope-ws', metadata: { credits: '5' } }), 422, 'unknown_workspace'],
      [checkoutEvent('evt_b3', { id: 'cs_b3', client_reference_id: 'acme', metadata: { credits: '-5' } }), 400, 'invalid_request'],
      [checkoutEvent('evt_b4', { id: 'cs_b4', client_reference_id: 'acme', metadata: {} }), 400, 'invalid_request'],
      [{ id: 'x', type: 'checkout.session.completed' }, 400, 'invalid_request'],
      ['{oops', 400, 'invalid_request'],
    ];
    for (const [payload, status, error] of cases) {
      const res = await deliver(payload);
      assert.equal(res.status, status, JSON.stringify(payload));
      assert.equal((await res.json()).error, error);
    }
    assert.equal(await balance(), 1549);
    assert.ok(!server.logs.some((l) => l.includes(STRIPE_SECRET)), 'the secret never reaches the log');
  });
});
