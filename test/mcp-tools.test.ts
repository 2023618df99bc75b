// Requirements (MCP endpoints §5, credits seam): tools/list shows what the token's scopes allow and calling outside
// them is 403 insufficient_scope; arguments are validated with field-naming messages and never charged; handlers get
// the caller's context; the metering seam's answers become 429 (+ Retry-After, RateLimit headers), an in-band
// out-of-credits result, or a run with RateLimit headers; failures are refunded through `finish`; the connection log
// records first calls and errors; the demo CRM keeps each workspace's data to itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool, legacyCall, modernCall } from './helpers/mcp-http.ts';
import { ToolError, type ToolContext, type ToolDefinition } from '../src/tools/tool-types.ts';
import type { Charge, Metering, MeteringDecision } from '../src/tools/metering.ts';

const testTools: ToolDefinition[] = [
  {
    name: 'whoami',
    description: 'Returns the caller context.',
    inputSchema: { type: 'object', properties: {} },
    scope: 'mcp:read',
    cost: 1,
    handler: async (_args, ctx) => ({ content: [{ type: 'text', text: 'me' }], structuredContent: { ...ctx } }),
  },
  {
    name: 'explode',
    description: 'Fails unexpectedly.',
    inputSchema: { type: 'object', properties: {} },
    scope: 'mcp:read',
    cost: 1,
    handler: async () => {
      throw new Error('secret internals at /srv/x.ts:42');
    },
  },
  {
    name: 'refuse_politely',
    description: 'Fails with a message for the caller.',
    inputSchema: { type: 'object', properties: {} },
    scope: 'mcp:read',
    cost: 1,
    handler: async () => {
      throw new ToolError('That widget is locked.', { widget: 'locked' });
    },
  },
];

/** A metering seam whose answers the test chooses (the credits module's own suite tests the real one). */
class ScriptedMetering implements Metering {
  readonly decisions = new Map<string, MeteringDecision>();
  readonly begun: { tool: string; ctx: ToolContext }[] = [];
  readonly finished: { tool: string; charge: Charge; ok: boolean; durationMs: number }[] = [];
  failBegin = false;
  async begin(tool: ToolDefinition, ctx: ToolContext): Promise<MeteringDecision> {
    this.begun.push({ tool: tool.name, ctx });
    if (this.failBegin) throw new Error('ledger unavailable');
    return this.decisions.get(tool.name) ?? { kind: 'ok', charge: { id: `charge-${this.begun.length}`, cost: tool.cost } };
  }
  async finish(charge: Charge, tool: ToolDefinition, _ctx: ToolContext, outcome: { ok: boolean; durationMs: number }): Promise<void> {
    this.finished.push({ tool: tool.name, charge, ...outcome });
  }
  readonly refused: { tool: string; reason: string }[] = [];
  async refuse(tool: ToolDefinition, _ctx: ToolContext, reason: string): Promise<void> {
    this.refused.push({ tool: tool.name, reason });
  }
}

describe('MCP tools, scopes and metering', () => {
  let srv: TestServer;
  let url: string;
  let metering: ScriptedMetering;
  // The server's metering, switchable between the credits module's own and a scripted one for a test.
  let current: 'real' | 'scripted' = 'real';
  before(async () => {
    srv = await startTestServer({
      env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' },
      extraTools: testTools,
      wrapMetering: (real: Metering): Metering => ({
        begin: (tool, ctx) => (current === 'scripted' ? metering : real).begin(tool, ctx),
        finish: (charge, tool, ctx, outcome) => (current === 'scripted' ? metering : real).finish(charge, tool, ctx, outcome),
        refuse: (tool, ctx, reason) => (current === 'scripted' ? metering : real).refuse(tool, ctx, reason),
      }),
    });
    await srv.services.createWorkspace({ slug: 'acme' });
    url = `${srv.url}/demo/mcp`;
  });
  after(async () => srv.stop());
  const useScripted = () => {
    metering = new ScriptedMetering();
    current = 'scripted';
  };
  const useReal = () => {
    current = 'real';
  };

  test('tools/list shows what the scopes allow; a call outside them is 403 insufficient_scope asking for the union', async () => {
    useScripted();
    const reader = await mintAccessToken(srv.services, { scopes: ['mcp:read'], clientId: 'scope-client' });
    const names = (await legacyCall(url, reader.accessToken, 'tools/list')).body.result.tools.map((t: { name: string }) => t.name);
    assert.ok(names.includes('search_contacts') && names.includes('pipeline_summary'));
    for (const w of ['create_contact', 'update_contact', 'create_deal', 'move_deal_stage']) assert.ok(!names.includes(w), w);
    const r = await callTool(url, reader.accessToken, 'create_contact', { name: 'X' });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('www-authenticate'), `Bearer resource_metadata="${srv.url}/.well-known/oauth-protected-resource/demo/mcp", error="insufficient_scope", scope="mcp:read mcp:write", error_description="The tool create_contact needs the mcp:write scope"`);
    assert.equal(r.body.error, 'insufficient_scope');
    assert.equal(metering.begun.length, 0, 'nothing was metered');
    const writer = await mintAccessToken(srv.services, { scopes: ['mcp:read', 'mcp:write'] });
    const all = (await legacyCall(url, writer.accessToken, 'tools/list')).body.result.tools.map((t: { name: string }) => t.name);
    assert.ok(all.includes('create_contact'));
    const m = await modernCall(url, reader.accessToken, 'tools/call', { name: 'move_deal_stage', arguments: { id: 'dl_abcd1234', stage: 'won' } });
    assert.equal(m.status, 403, '2026-07-28 too');
  });

  test('bad arguments are a tool error naming the field, and cost nothing', async () => {
    useScripted();
    const { accessToken } = await mintAccessToken(srv.services);
    const r = await callTool(url, accessToken, 'create_deal', { title: 'X', amount: 'lots', stage: 'closed', colour: 'red' });
    assert.equal(r.status, 200);
    assert.equal(r.body.result.isError, true);
    const text = r.body.result.content[0].text;
    for (const part of ['create_deal', 'field "amount" must be number', 'field "stage" must be one of', 'unknown field "colour"']) assert.ok(text.includes(part), `${part} in ${text}`);
    assert.equal(metering.begun.length, 0);
    assert.deepEqual(metering.refused, [{ tool: 'create_deal', reason: 'bad_arguments' }], 'counted as a refused call');
  });

  test("a handler receives the caller's context, and the request id is the response's", async () => {
    useScripted();
    const t = await mintAccessToken(srv.services, { clientId: 'ctx-client', scopes: ['mcp:read'] });
    const r = await callTool(url, t.accessToken, 'whoami');
    const ctx = r.body.result.structuredContent;
    assert.deepEqual(
      { userId: ctx.userId, workspaceId: ctx.workspaceId, workspaceSlug: ctx.workspaceSlug, clientId: ctx.clientId, grantId: ctx.grantId, scopes: ctx.scopes },
      { userId: t.userId, workspaceId: t.workspaceId, workspaceSlug: 'demo', clientId: 'ctx-client', grantId: t.grantId, scopes: ['mcp:read'] },
    );
    assert.equal(ctx.requestId, r.headers.get('x-request-id'));
    // The context metering saw is the handler's; its trace-context function is not part of the JSON the tool echoed.
    const { traceHeaders, ...begun } = metering.begun[0].ctx;
    assert.equal(typeof traceHeaders, 'function');
    assert.deepEqual(begun, ctx);
    assert.equal(metering.finished[0].ok, true);
    assert.ok(metering.finished[0].durationMs >= 0);
    assert.equal(metering.finished[0].charge.id, 'charge-1');
  });

  test('rate limited → 429 with Retry-After and the RateLimit headers; the handler does not run', async () => {
    useScripted();
    metering.decisions.set('whoami', { kind: 'rate_limited', retryAfterSeconds: 12.2, rateLimit: { policy: 'workspace', limit: 60, remaining: 0, resetSeconds: 12.2, windowSeconds: 60 } });
    const { accessToken } = await mintAccessToken(srv.services);
    for (const r of [await callTool(url, accessToken, 'whoami'), await modernCall(url, accessToken, 'tools/call', { name: 'whoami', arguments: {} })]) {
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), '13');
      assert.equal(r.headers.get('ratelimit-policy'), '"workspace";q=60;w=60');
      assert.equal(r.headers.get('ratelimit'), '"workspace";r=0;t=13');
      assert.equal(r.body.id, 1);
      assert.match(r.body.error.message, /Rate limit exceeded/);
    }
    assert.equal(metering.finished.length, 0);
  });

  test('out of credits is an in-band tool error with the balance, the cost and where to buy — never 401/403', async () => {
    useScripted();
    metering.decisions.set('search_contacts', { kind: 'insufficient_credits', balance: 0, cost: 1, buyUrl: 'https://billing.example.com/buy' });
    const { accessToken } = await mintAccessToken(srv.services);
    for (const [r, modern] of [[await callTool(url, accessToken, 'search_contacts', { query: 'x' }), false], [await modernCall(url, accessToken, 'tools/call', { name: 'search_contacts', arguments: {} }), true]] as const) {
      assert.equal(r.status, 200);
      const result = r.body.result;
      assert.equal(result.isError, true);
      assert.deepEqual(result.structuredContent, { error: 'insufficient_credits', balance: 0, cost: 1 });
      assert.match(result.content[0].text, /costs 1 credit and the workspace "demo" has 0\. Buy more credits at https:\/\/billing\.example\.com\/buy/);
      assert.equal(result.resultType, modern ? 'complete' : undefined);
    }
    assert.equal(metering.finished.length, 0);
  });

  test('RateLimit headers ride on successful calls', async () => {
    useScripted();
    metering.decisions.set('whoami', { kind: 'ok', charge: { id: 'c1', cost: 1 }, rateLimit: { policy: 'grant', limit: 100, remaining: 97, resetSeconds: 30 } });
    const { accessToken } = await mintAccessToken(srv.services);
    const r = await callTool(url, accessToken, 'whoami');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('ratelimit-policy'), '"grant";q=100');
    assert.equal(r.headers.get('ratelimit'), '"grant";r=97;t=30');
  });

  test('a failing handler is reported (its own message, or a generic one with the request id) and finished as failed', async () => {
    useScripted();
    const { accessToken } = await mintAccessToken(srv.services);
    const polite = await callTool(url, accessToken, 'refuse_politely');
    assert.equal(polite.body.result.isError, true);
    assert.equal(polite.body.result.content[0].text, 'That widget is locked.');
    assert.deepEqual(polite.body.result.structuredContent, { widget: 'locked' });
    const boom = await callTool(url, accessToken, 'explode');
    assert.equal(boom.status, 200);
    assert.equal(boom.body.result.isError, true);
    assert.doesNotMatch(boom.text, /secret internals/);
    assert.ok(boom.body.result.content[0].text.includes(boom.headers.get('x-request-id')!));
    assert.ok(srv.logs.some((l) => l.includes('tool handler failed') && l.includes('secret internals')), 'the cause is in the log');
    assert.deepEqual(metering.finished.map((f) => [f.tool, f.ok]), [['refuse_politely', false], ['explode', false]]);
  });

  test('metering that fails is a JSON-RPC internal error, not a 500, and the handler does not run', async () => {
    useScripted();
    metering.failBegin = true;
    const { accessToken } = await mintAccessToken(srv.services);
    const r = await callTool(url, accessToken, 'whoami');
    assert.equal(r.status, 200);
    assert.equal(r.body.error.code, -32603);
    assert.equal(metering.finished.length, 0);
  });

  test('the connection log gets one first-call event per grant, and the errors a client meets', async () => {
    useScripted();
    const t = await mintAccessToken(srv.services, { clientId: 'log-client', scopes: ['mcp:read'] });
    for (let i = 0; i < 3; i++) await legacyCall(url, t.accessToken, 'ping');
    await callTool(url, t.accessToken, 'create_contact', { name: 'X' });
    let events: Awaited<ReturnType<typeof srv.services.oauth.clientEvents.list>> = [];
    for (let i = 0; i < 50 && events.length < 2; i++) {
      events = await srv.services.oauth.clientEvents.list('log-client');
      if (events.length < 2) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(events.filter((e) => e.kind === 'mcp_first_call').length, 1);
    const err = events.find((e) => e.kind === 'mcp_error');
    assert.match(err?.detail ?? '', /insufficient_scope: create_contact needs mcp:write/);
    assert.equal(err?.workspaceId, t.workspaceId);
    assert.ok(err?.requestId);
  });

  test('the demo CRM over HTTP: seeded data in demo, nothing of it visible from another workspace', async () => {
    useReal();
    const demo = await mintAccessToken(srv.services);
    const acme = await mintAccessToken(srv.services, { workspace: 'acme' });
    const acmeUrl = `${srv.url}/acme/mcp`;
    const maria = (await callTool(url, demo.accessToken, 'search_contacts', { query: 'maria' })).body.result.structuredContent.contacts[0];
    assert.equal(maria.company, 'Northwind Logistics');
    const fromAcme = await callTool(acmeUrl, acme.accessToken, 'get_contact', { id: maria.id });
    assert.equal(fromAcme.body.result.isError, true);
    assert.match(fromAcme.body.result.content[0].text, /No contact with id/);
    const created = (await callTool(acmeUrl, acme.accessToken, 'create_contact', { name: 'Acme Person', email: 'p@acme.test' })).body.result.structuredContent.contact;
    assert.equal((await callTool(url, demo.accessToken, 'get_contact', { id: created.id })).body.result.isError, true);
    assert.deepEqual((await callTool(acmeUrl, acme.accessToken, 'search_contacts', {})).body.result.structuredContent.contacts.map((c: { id: string }) => c.id), [created.id]);
  });
});
