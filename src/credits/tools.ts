// The free built-in tools every endpoint offers: the caller's balance and plan, and usage analytics with the
// rate-limit headroom. Cost 0, scope mcp:read.
import type { ToolContext, ToolDefinition, ToolResult } from '../tools/tool-types.ts';
import type { AnalyticsService } from './analytics.ts';
import { MAX_RANGE_DAYS, resolveRange } from './analytics.ts';
import { CreditsError } from './errors.ts';
import type { LedgerService } from './ledger.ts';
import type { PlanResolver } from './plan-resolver.ts';
import type { RateLimiter } from './rate-limit/limiter.ts';

export interface CreditsToolDeps {
  ledger: LedgerService;
  analytics: AnalyticsService;
  plans: PlanResolver;
  limiter: RateLimiter;
  buyUrlFor(ctx: Pick<ToolContext, 'workspaceId' | 'workspaceSlug'>): Promise<string>;
}

const n = (x: number) => x.toLocaleString('en-US');
const outcomesSchema = {
  type: 'object',
  description: 'Every call that reached a known tool, by outcome (they sum to calls).',
  properties: { ok: { type: 'integer' }, toolError: { type: 'integer' }, badArguments: { type: 'integer' }, outOfCredits: { type: 'integer' }, rateLimited: { type: 'integer' } },
  required: ['ok', 'toolError', 'badArguments', 'outOfCredits', 'rateLimited'],
};
const totalsSchema = {
  type: 'object',
  properties: { calls: { type: 'integer' }, credits: { type: 'integer' }, errors: { type: 'integer', description: 'Calls that did not end ok.' }, outcomes: outcomesSchema },
  required: ['calls', 'credits', 'errors', 'outcomes'],
};
const limitSchema = {
  type: 'object',
  properties: { limit: { type: 'integer' }, remaining: { type: 'integer' }, resetSeconds: { type: 'integer' }, windowSeconds: { type: 'integer' } },
  required: ['limit', 'remaining', 'resetSeconds', 'windowSeconds'],
};

function result(text: string, structured: Record<string, unknown>): ToolResult {
  // The JSON also goes in a text block for clients that do not read structuredContent (MCP 2025-06-18 §Tools).
  return { content: [{ type: 'text', text }, { type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

export function creditsTools(deps: CreditsToolDeps): ToolDefinition[] {
  const checkCreditBalance: ToolDefinition = {
    name: 'check_credit_balance',
    title: 'Check credit balance',
    description: 'Shows this workspace\'s credit balance, its plan (rate limits) and the credits spent in the last 24 hours and 30 days. Free.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    outputSchema: {
      type: 'object',
      properties: {
        workspace: { type: 'string' },
        balance: { type: 'integer' },
        plan: { type: 'object', properties: { name: { type: 'string' }, workspacePerMinute: { type: 'integer' }, grantPerMinute: { type: 'integer' } }, required: ['name'] },
        spend: { type: 'object', properties: { last24h: { type: 'integer' }, last30d: { type: 'integer' } }, required: ['last24h', 'last30d'] },
        buyUrl: { type: 'string' },
      },
      required: ['workspace', 'balance', 'plan', 'spend', 'buyUrl'],
    },
    scope: 'mcp:read',
    cost: 0,
    annotations: { title: 'Check credit balance', readOnlyHint: true, openWorldHint: false },
    async handler(_args, ctx) {
      const [account, spend] = await Promise.all([deps.ledger.getAccount(ctx.workspaceId), deps.analytics.spendSummary(ctx.workspaceId)]);
      const plan = await deps.plans.planFor(ctx.workspaceId);
      const buyUrl = await deps.buyUrlFor(ctx);
      return result(
        `Balance: ${n(account.balance)} credits in workspace ${ctx.workspaceSlug} (plan "${plan.name}": ${n(plan.workspacePerMinute)} calls/min per workspace, ${n(plan.grantPerMinute)} per connection). ` +
          `Spent ${n(spend.last24h)} credits in the last 24 hours and ${n(spend.last30d)} in the last 30 days. Buy more at ${buyUrl}`,
        { workspace: ctx.workspaceSlug, balance: account.balance, plan: { ...plan }, spend: { ...spend }, buyUrl },
      );
    },
  };

  const getAccountAnalytics: ToolDefinition = {
    name: 'get_account_analytics',
    title: 'Account analytics',
    description:
      `Usage of this workspace over a date range (the last 30 days by default): calls, credits and errors per day, per tool and per client, every call counted by outcome (ok, tool error, bad arguments, out of credits, rate limited), and the rate-limit headroom (limit, remaining, seconds until reset). Dates are UTC. Free.`,
    inputSchema: {
      type: 'object',
      properties: {
        days: { type: 'integer', minimum: 1, maximum: MAX_RANGE_DAYS, description: 'Days back from today (default 30); ignored when "from" is given.' },
        from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'First day, YYYY-MM-DD (UTC).' },
        to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Last day, YYYY-MM-DD (UTC); default today.' },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        workspace: { type: 'string' },
        range: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, days: { type: 'integer' } }, required: ['from', 'to', 'days'] },
        totals: totalsSchema,
        byDay: { type: 'array', items: { ...totalsSchema, properties: { ...totalsSchema.properties, date: { type: 'string' } } } },
        byTool: { type: 'array', items: { ...totalsSchema, properties: { ...totalsSchema.properties, tool: { type: 'string' } } } },
        byClient: { type: 'array', items: { ...totalsSchema, properties: { ...totalsSchema.properties, clientId: { type: 'string' } } } },
        rateLimit: { type: 'object', properties: { workspace: limitSchema, grant: limitSchema }, required: ['workspace'] },
      },
      required: ['workspace', 'range', 'totals', 'byDay', 'byTool', 'byClient', 'rateLimit'],
    },
    scope: 'mcp:read',
    cost: 0,
    annotations: { title: 'Account analytics', readOnlyHint: true, openWorldHint: false },
    async handler(args, ctx) {
      let range;
      try {
        range = resolveRange({
          days: typeof args.days === 'number' ? args.days : undefined,
          from: typeof args.from === 'string' ? args.from : undefined,
          to: typeof args.to === 'string' ? args.to : undefined,
        });
      } catch (err) {
        if (err instanceof CreditsError) return { content: [{ type: 'text', text: err.message }], isError: true };
        throw err;
      }
      const plan = await deps.plans.planFor(ctx.workspaceId);
      const [report, headroom] = await Promise.all([deps.analytics.usageReport(ctx.workspaceId, range), deps.limiter.peekRateLimit(plan, ctx.workspaceId, ctx.grantId)]);
      const rateLimit = Object.fromEntries(headroom.map(({ name, ...h }) => [name, h]));
      const ws = headroom[0];
      const topTools = report.byTool.slice(0, 3).map((t) => `${t.tool} (${n(t.calls)})`).join(', ') || 'none';
      const o = report.totals.outcomes;
      const breakdown = `${n(o.ok)} ok, ${n(o.toolError)} tool errors, ${n(o.badArguments)} bad arguments, ${n(o.outOfCredits)} out of credits, ${n(o.rateLimited)} rate limited`;
      return result(
        `Workspace ${ctx.workspaceSlug}, ${report.range.from} to ${report.range.to} (UTC): ${n(report.totals.calls)} calls (${breakdown}), ${n(report.totals.credits)} credits, ${n(report.totals.errors)} errors. ` +
          `Top tools: ${topTools}. Rate limit: ${n(ws.remaining)} of ${n(ws.limit)} calls left this minute, resets in ${ws.resetSeconds} s.`,
        { workspace: ctx.workspaceSlug, ...report, rateLimit },
      );
    },
  };

  return [checkCreditBalance, getAccountAnalytics];
}
