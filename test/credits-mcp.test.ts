// Issue: credits §1–4 and §7 through the real MCP endpoint: out of credits is an in-band tool error (HTTP 200,
// never 401/403); a rate limit is 429 with Retry-After and the IETF RateLimit headers, which also ride on
// successful calls; the free built-in tools; refunds; usage counts every call to a known tool by outcome (defects
// §6). (1,000 concurrent HTTP calls: credits-mcp-processes.test.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { forEachDialect } from './helpers/databases.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool, legacyCall } from './helpers/mcp-http.ts';
import { inEveryRollup, rollupSums, usageTotals } from './helpers/usage.ts';
import { getPage, signIn, textOf } from './helpers/web-pages.ts';
import { ToolError, type ToolDefinition } from '../src/tools/tool-types.ts';

const fixtures: ToolDefinition[] = [
  { name: 'paid_echo', description: 'Costs 1.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 1, handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }) },
  { name: 'pricey', description: 'Costs 7.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 7, handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }) },
  {
    name: 'strict_echo', description: 'Costs 1; takes a whole number.', scope: 'mcp:read', cost: 1,
    inputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false },
    handler: async (args) => ({ content: [{ type: 'text', text: String(args.n) }] }),
  },
  {
    name: 'always_fails', description: 'Costs 5, then fails.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 5,
    handler: async () => {
      throw new ToolError('upstream unavailable');
    },
  },
];

forEachDialect('credits through the MCP endpoint', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, extraTools: fixtures, env: { TOLLGATE_INITIAL_CREDITS: '10', TOLLGATE_RATE_LIMIT_PER_MINUTE: '1000000', TOLLGATE_RATE_PLANS: 'tiny:1000/3,five:1000/5' } });
  });
  after(async () => server.stop());

  const newWorkspace = async (slug: string, balance: number) => {
    const ws = await server.services.createWorkspace({ slug, ownerUserId: (await server.services.accounts.users.findUserByEmail('owner@example.com'))!.id });
    const current = await server.services.credits.getBalance(ws.id);
    if (balance > current) await server.services.credits.grantCredits({ workspaceId: ws.id, amount: balance - current, reason: 'grant' });
    if (balance < current) await server.services.credits.grantCredits({ workspaceId: ws.id, amount: balance - current, reason: 'adjustment' });
    return { ws, url: `${server.url}/${slug}/mcp` };
  };

  test('out of credits: HTTP 200, an isError tool result stating balance, cost and where to buy, structuredContent {error, balance, cost}', async () => {
    const { ws, url: wsUrl } = await newWorkspace('broke', 3);
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'broke' });
    const res = await callTool(wsUrl, accessToken, 'pricey');
    assert.equal(res.status, 200);
    const result = res.body.result;
    assert.equal(result.isError, true);
    assert.deepEqual(result.structuredContent, { error: 'insufficient_credits', balance: 3, cost: 7 });
    const text = result.content[0].text;
    assert.match(text, /7 credits/);
    assert.match(text, /has 3/);
    assert.ok(text.includes(`${server.url}/dashboard/broke`), text);
    assert.equal(await server.services.credits.getBalance(ws.id), 3);
    assert.equal(res.headers.get('www-authenticate'), null);
  });

  test('a successful call is charged once and carries RateLimit-Policy and RateLimit headers', async () => {
    const { ws, url: wsUrl } = await newWorkspace('charged', 10);
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'charged' });
    const res = await callTool(wsUrl, accessToken, 'paid_echo');
    assert.equal(res.status, 200);
    assert.equal(res.body.result.isError, undefined);
    assert.equal(await server.services.credits.getBalance(ws.id), 9);
    assert.match(res.headers.get('ratelimit-policy') ?? '', /^"(workspace|grant)";q=1000000;w=60$/);
    assert.match(res.headers.get('ratelimit') ?? '', /^"(workspace|grant)";r=999999;t=\d+$/);
    const [row] = (await server.services.credits.listLedger(ws.id, { limit: 1 })).entries;
    assert.deepEqual([row.reason, row.amount, row.tool, row.clientId, row.requestId], ['tool_call', -1, 'paid_echo', 'test-client', res.headers.get('x-request-id')]);
  });

  test('a failed call is refunded', async () => {
    const { ws, url: wsUrl } = await newWorkspace('refunded', 10);
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'refunded' });
    const res = await callTool(wsUrl, accessToken, 'always_fails');
    assert.equal(res.status, 200);
    assert.equal(res.body.result.isError, true);
    assert.equal(await server.services.credits.getBalance(ws.id), 10);
    assert.deepEqual((await server.services.credits.listLedger(ws.id, { limit: 2 })).entries.map((e) => [e.reason, e.amount]), [['refund', 5], ['tool_call', -5]]);
    assert.deepEqual((await server.services.credits.usageReport(ws.id, { days: 1 })).byTool.find((t) => t.tool === 'always_fails'), { tool: 'always_fails', ...usageTotals(1, 0, { toolError: 1 }) });
  });

  test('over the rate limit: 429 with Retry-After and the RateLimit headers, nothing charged', async () => {
    const { ws, url: wsUrl } = await newWorkspace('limited', 10);
    await server.services.credits.setPlan(ws.id, 'tiny');
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'limited' });
    const statuses = [];
    let refused;
    for (let i = 0; i < 4; i++) {
      const res = await callTool(wsUrl, accessToken, 'paid_echo');
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const retryAfter = Number(refused!.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
    assert.equal(refused!.headers.get('ratelimit-policy'), '"grant";q=3;w=60');
    assert.match(refused!.headers.get('ratelimit') ?? '', /^"grant";r=0;t=\d+$/);
    assert.equal(await server.services.credits.getBalance(ws.id), 7);
    // Another connection (grant) of the same workspace still has headroom under the workspace limit.
    const other = await mintAccessToken(server.services, { workspace: 'limited', clientId: 'other-client' });
    assert.equal((await callTool(wsUrl, other.accessToken, 'paid_echo')).status, 200);
  });

  test('the free built-in tools are listed at cost 0, work at a zero balance, and report balance, spend and headroom', async () => {
    const { ws, url: wsUrl } = await newWorkspace('freebies', 5);
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'freebies', scopes: ['mcp:read'] });
    const list = await legacyCall(wsUrl, accessToken, 'tools/list');
    const names = list.body.result.tools.map((t: { name: string }) => t.name);
    assert.ok(names.includes('check_credit_balance') && names.includes('get_account_analytics'));
    for (let i = 0; i < 5; i++) assert.equal((await callTool(wsUrl, accessToken, 'paid_echo')).body.result.isError, undefined);
    assert.equal(await server.services.credits.getBalance(ws.id), 0);

    const balance = await callTool(wsUrl, accessToken, 'check_credit_balance');
    assert.equal(balance.status, 200);
    const b = balance.body.result.structuredContent;
    assert.deepEqual({ balance: b.balance, plan: b.plan.name, spend: b.spend, workspace: b.workspace }, { balance: 0, plan: 'default', spend: { last24h: 5, last30d: 5 }, workspace: 'freebies' });
    assert.match(balance.body.result.content[0].text, /Balance: 0 credits/);

    const analytics = await callTool(wsUrl, accessToken, 'get_account_analytics', { days: 7 });
    const a = analytics.body.result.structuredContent;
    assert.equal(a.range.days, 7);
    assert.equal(a.byDay.length, 7);
    const paid = a.byTool.find((t: { tool: string }) => t.tool === 'paid_echo');
    assert.deepEqual(paid, { tool: 'paid_echo', ...usageTotals(5, 5) });
    assert.deepEqual(a.byClient.map((c: { clientId: string }) => c.clientId), ['test-client']);
    assert.equal(a.totals.credits, 5);
    assert.equal(a.rateLimit.workspace.limit, 1000000);
    assert.ok(a.rateLimit.workspace.remaining < 1000000 && a.rateLimit.workspace.resetSeconds >= 1);
    assert.ok(a.rateLimit.grant);
    assert.equal(await server.services.credits.getBalance(ws.id), 0, 'free tools charge nothing');

    const bad = await callTool(wsUrl, accessToken, 'get_account_analytics', { from: '2025-02-30' });
    assert.equal(bad.body.result.isError, true);
  });

  test('usage counts every call that reached a known tool by outcome, in the roll-ups, get_account_analytics and the dashboard', async () => {
    const { ws, url: wsUrl } = await newWorkspace('tally', 8);
    await server.services.credits.setPlan(ws.id, 'five'); // 5 metered calls a minute per connection
    const { accessToken } = await mintAccessToken(server.services, { workspace: 'tally' });
    const client = new Client({ name: 'tally-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(wsUrl), { requestInit: { headers: { Authorization: `Bearer ${accessToken}` } } }));
    try {
      assert.equal((await client.callTool({ name: 'paid_echo', arguments: {} })).isError, undefined); // ok, balance 7
      assert.equal((await client.callTool({ name: 'always_fails', arguments: {} })).isError, true); // tool error, refunded
      for (const args of [{ n: 'one' }, { n: 1, extra: true }]) {
        const bad = await client.callTool({ name: 'strict_echo', arguments: args }); // bad arguments, not metered
        assert.equal(bad.isError, true);
        assert.match((bad.content as { text: string }[])[0].text, /^Invalid arguments for strict_echo/);
      }
      assert.equal((await client.callTool({ name: 'pricey', arguments: {} })).isError, undefined); // ok, balance 0
      for (const name of ['pricey', 'paid_echo']) {
        const broke = await client.callTool({ name, arguments: {} }); // out of credits
        assert.equal((broke.structuredContent as { error: string }).error, 'insufficient_credits');
      }
      for (let i = 0; i < 2; i++) await assert.rejects(client.callTool({ name: 'paid_echo', arguments: {} }), /429|Rate limit/i); // rate limited
      await assert.rejects(client.callTool({ name: 'no_such_tool', arguments: {} }), /unknown tool/); // not counted: no known tool
    } finally {
      await client.close();
    }
    assert.equal(await server.services.credits.getBalance(ws.id), 0);
    assert.equal(await server.services.credits.sumLedger(ws.id), 0);

    // 9 calls: 2 ok, 1 tool error, 2 bad arguments, 2 out of credits, 2 rate limited; 8 credits spent.
    assert.deepEqual(await rollupSums(server.services.store, ws.id), inEveryRollup({ calls: 9, credits: 8, errors: 1, bad_arguments: 2, out_of_credits: 2, rate_limited: 2 }));

    // get_account_analytics, from another connection (this one is rate limited): itself one more ok call.
    const other = await mintAccessToken(server.services, { workspace: 'tally', clientId: 'other-client', scopes: ['mcp:read'] });
    const analytics = await callTool(wsUrl, other.accessToken, 'get_account_analytics', { days: 7 });
    assert.equal(analytics.status, 200);
    const a = analytics.body.result.structuredContent;
    assert.deepEqual(a.totals, usageTotals(10, 8, { toolError: 1, badArguments: 2, outOfCredits: 2, rateLimited: 2 }));
    assert.deepEqual(a.byDay.at(-1), { date: a.range.to, ...a.totals });
    const byTool = Object.fromEntries(a.byTool.map(({ tool, ...t }: { tool: string }) => [tool, t]));
    assert.deepEqual(byTool, {
      paid_echo: usageTotals(4, 1, { outOfCredits: 1, rateLimited: 2 }),
      pricey: usageTotals(2, 7, { outOfCredits: 1 }),
      strict_echo: usageTotals(2, 0, { badArguments: 2 }),
      always_fails: usageTotals(1, 0, { toolError: 1 }),
      get_account_analytics: usageTotals(1, 0),
    });
    assert.deepEqual(a.byClient.map((c: { clientId: string; calls: number; errors: number }) => [c.clientId, c.calls, c.errors]), [['test-client', 9, 7], ['other-client', 1, 0]]);
    assert.match(analytics.body.result.content[0].text, /10 calls \(3 ok, 1 tool errors, 2 bad arguments, 2 out of credits, 2 rate limited\), 8 credits, 7 errors/);

    // The dashboard: errors are every non-ok call, broken down by outcome; the daily chart gets the errors too.
    const owner = await signIn(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const page = await getPage(owner, `${server.url}/dashboard/tally?days=7`);
    assert.equal(page.status, 200);
    const stat = (label: string) => new RegExp(`<div class="label">${label}</div><div class="value"[^>]*>([^<]*)</div>`).exec(page.body)?.[1];
    assert.deepEqual([stat('Calls'), stat('Credits'), stat('Errors')], ['10', '8', '7']);
    assert.equal(textOf(/<div class="sub" id="error-outcomes">([\s\S]*?)<\/div>/.exec(page.body)?.[1] ?? ''), '1 tool error · 2 bad arguments · 2 out of credits · 2 rate limited');
    const chartData = JSON.parse(/<script type="application\/json" id="usage-data">([\s\S]*?)<\/script>/.exec(page.body)![1]);
    assert.deepEqual([chartData.calls.at(-1), chartData.credits.at(-1), chartData.errors.at(-1)], [10, 8, 7]);
    assert.equal(chartData.tools.calls[chartData.tools.names.indexOf('paid_echo')], 4);
  });
});
