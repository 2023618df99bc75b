// The credits module's side of the MCP metering seam: before a handler runs, count the call against the rate
// limits, then deduct its cost (group-committed, durable before `begin` resolves); after it, book a failure and
// refund it when configured. Refused calls (bad arguments, rate limited, out of credits) are counted in the usage
// roll-ups in the same group commit, at zero credits.
import type { Charge, Metering, MeteringDecision, RefusalReason } from '../tools/metering.ts';
import type { Logger } from '../util/logger.ts';
import type { ToolContext, ToolDefinition } from '../tools/tool-types.ts';
import { randomToken } from '../util/ids.ts';
import type { LedgerWriter } from './ledger-writer.ts';
import type { PlanResolver } from './plan-resolver.ts';
import type { PricingCatalog } from './catalog.ts';
import type { RateLimiter } from './rate-limit/limiter.ts';
import { creditsMetrics } from './metrics.ts';

/** What `begin` hands the dispatcher; the extra fields let `finish` book a failure against the right call. */
interface MeteredCharge extends Charge {
  readonly workspaceId: string;
  readonly at: number;
}

export interface CreditsMeteringDeps {
  writer: LedgerWriter;
  limiter: RateLimiter;
  plans: PlanResolver;
  /** Per-tool prices as data (held in memory: no database read per call). */
  prices: Pick<PricingCatalog, 'costOf' | 'cachedCostOf'>;
  refundOnError: boolean;
  buyUrlFor(ctx: Pick<ToolContext, 'workspaceId' | 'workspaceSlug'>): Promise<string>;
  logger?: Logger;
}

export function creditsMetering(deps: CreditsMeteringDeps): Metering {
  const idPrefix = randomToken(6);
  let sequence = 0;

  return {
    async begin(tool: ToolDefinition, ctx: ToolContext): Promise<MeteringDecision> {
      // Both in memory on nearly every call: taken at once, else read.
      const known = deps.plans.cached(ctx.workspaceId);
      const [plan, standing] = known ? [known.plan, known.standing] : await Promise.all([deps.plans.planFor(ctx.workspaceId), deps.plans.standingOf(ctx.workspaceId)]);
      if (standing.suspended) return { kind: 'suspended' };
      const limit = await deps.limiter.checkRateLimit(plan, ctx.workspaceId, ctx.grantId);
      if (!limit.allowed) {
        // Counting the refusal must not turn a 429 into an internal error: a failed write is logged, the 429 stands.
        await deps.writer
          .recordRefusal({ workspaceId: ctx.workspaceId, tool: tool.name, clientId: ctx.clientId, outcome: 'rate_limited', at: Date.now() })
          .catch((err: unknown) => deps.logger?.error({ requestId: ctx.requestId, tool: tool.name, err: { message: (err as Error)?.message } }, 'counting a rate-limited call failed'));
        return { kind: 'rate_limited', retryAfterSeconds: limit.retryAfterSeconds, rateLimit: limit.state };
      }
      const at = Date.now();
      const cost = deps.prices.cachedCostOf(tool) ?? (await deps.prices.costOf(tool));
      const outcome = await deps.writer.deductCredits({
        workspaceId: ctx.workspaceId,
        cost,
        tool: tool.name,
        userId: ctx.userId,
        clientId: ctx.clientId,
        requestId: ctx.requestId,
        at,
      });
      if (!outcome.ok) return { kind: 'insufficient_credits', balance: outcome.balance, cost, buyUrl: await deps.buyUrlFor(ctx) };
      if (cost > 0) creditsMetrics.spent(ctx.workspaceSlug, cost);
      const charge: MeteredCharge = { id: `${idPrefix}.${++sequence}`, cost, workspaceId: ctx.workspaceId, at };
      return { kind: 'ok', charge, rateLimit: limit.state };
    },

    async refuse(tool: ToolDefinition, ctx: ToolContext, reason: RefusalReason): Promise<void> {
      await deps.writer.recordRefusal({ workspaceId: ctx.workspaceId, tool: tool.name, clientId: ctx.clientId, outcome: reason, at: Date.now() });
    },

    async finish(charge: Charge, tool: ToolDefinition, ctx: ToolContext, outcome: { ok: boolean; durationMs: number; unavailable?: boolean }): Promise<void> {
      // A successful call was fully booked by `begin`: nothing more to write on the hot path.
      if (outcome.ok) return;
      const metered = charge as Partial<MeteredCharge>;
      // A call answered 503 is retried by the client: refunded even with refunds of failed calls off.
      const refund = deps.refundOnError || outcome.unavailable ? charge.cost : 0;
      await deps.writer.recordFailure({
        workspaceId: metered.workspaceId ?? ctx.workspaceId,
        refund,
        tool: tool.name,
        userId: ctx.userId,
        clientId: ctx.clientId,
        requestId: ctx.requestId,
        chargedAt: metered.at ?? Date.now(),
        at: Date.now(),
      });
      if (refund > 0) creditsMetrics.refunded(ctx.workspaceSlug, refund);
    },
  };
}
