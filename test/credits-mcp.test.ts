// Issue: credits §1–4 and §7 through the real MCP endpoint: out of credits is an in-band tool error (HTTP 200,
// never 401/403); a rate limit is 429 with Retry-After and the IETF RateLimit headers, which also ride on
// successful calls; the free built-in tools; refunds. (1,000 concurrent HTTP calls: credits-mcp-processes.test.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool, legacyCall } from './helpers/mcp-http.ts';
import { ToolError, type ToolDefinition } from '../src/tools/tool-types.ts';

const fixtures: ToolDefinition[] = [
  { name: 'paid_echo', description: 'Costs 1.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 1, handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }) },
  { name: 'pricey', description: 'Costs 7.', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: 7, handler: async () => ({ content: [{ type: 'text', text: 'ok' }] }) },
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
    server = await startTestServer({ dialect, extraTools: fixtures, env: { TOLLGATE_INITIAL_CREDITS: '10', TOLLGATE_RATE_LIMIT_PER_MINUTE: '1000000', TOLLGATE_RATE_PLANS: 'tiny:1000/3' } });
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
    assert.deepEqual((await server.services.credits.usageReport(ws.id, { days: 1 })).byTool.find((t) => t.tool === 'always_fails'), { tool: 'always_fails', calls: 1, credits: 0, errors: 1 });
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
    assert.deepEqual(paid, { tool: 'paid_echo', calls: 5, credits: 5, errors: 0 });
    assert.deepEqual(a.byClient.map((c: { clientId: string }) => c.clientId), ['test-client']);
    assert.equal(a.totals.credits, 5);
    assert.equal(a.rateLimit.workspace.limit, 1000000);
    assert.ok(a.rateLimit.workspace.remaining < 1000000 && a.rateLimit.workspace.resetSeconds >= 1);
    assert.ok(a.rateLimit.grant);
    assert.equal(await server.services.credits.getBalance(ws.id), 0, 'free tools charge nothing');

    const bad = await callTool(wsUrl, accessToken, 'get_account_analytics', { from: '2025-02-30' });
    assert.equal(bad.body.result.isError, true);
  });
});
