// Applies a plan's limits for one call: the workspace's and the grant's counters are counted together, and the
// call is allowed only when both are within their quota.
import type { RateLimitState } from '../../tools/metering.ts';
import type { Plan } from '../plans.ts';
import { RATE_WINDOW_SECONDS } from '../plans.ts';
import type { RateLimitBackend, WindowCount } from './backend.ts';

export interface LimitHeadroom {
  name: 'workspace' | 'grant';
  limit: number;
  remaining: number;
  resetSeconds: number;
  windowSeconds: number;
}

export type LimitDecision =
  | { allowed: true; state: RateLimitState; limits: LimitHeadroom[] }
  | { allowed: false; state: RateLimitState; retryAfterSeconds: number; limits: LimitHeadroom[] };

const WINDOW_MS = RATE_WINDOW_SECONDS * 1000;

const specsFor = (plan: Plan, workspaceId: string, grantId?: string) => {
  const specs: { name: 'workspace' | 'grant'; key: string; limit: number }[] = [{ name: 'workspace', key: `ws:${workspaceId}`, limit: plan.workspacePerMinute }];
  if (grantId) specs.push({ name: 'grant', key: `grant:${grantId}`, limit: plan.grantPerMinute });
  return specs;
};

function headroom(specs: ReturnType<typeof specsFor>, counts: WindowCount[]): LimitHeadroom[] {
  return specs.map((s, i) => ({
    name: s.name,
    limit: s.limit,
    remaining: Math.max(0, s.limit - counts[i].count),
    resetSeconds: Math.max(1, Math.ceil(counts[i].resetMs / 1000)),
    windowSeconds: RATE_WINDOW_SECONDS,
  }));
}

// The dispatcher renders this as the IETF `RateLimit-Policy` / `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers).
const toState = (h: LimitHeadroom): RateLimitState => ({ policy: h.name, limit: h.limit, remaining: h.remaining, resetSeconds: h.resetSeconds, windowSeconds: h.windowSeconds });

export function createRateLimiter(backend: RateLimitBackend) {
  return {
    backend,
    /** Counts the call and decides. The state describes the limit closest to running out (or the one exceeded). */
    async checkRateLimit(plan: Plan, workspaceId: string, grantId: string): Promise<LimitDecision> {
      const specs = specsFor(plan, workspaceId, grantId);
      const counts = await backend.hit(specs.map((s) => s.key), WINDOW_MS, specs.map((s) => s.limit));
      const limits = headroom(specs, counts);
      const exceeded = specs.map((s, i) => (counts[i].count > s.limit ? limits[i] : undefined)).filter((h) => h !== undefined);
      if (exceeded.length) {
        // Blocked until every exceeded window has reset.
        const binding = exceeded.reduce((a, b) => (b.resetSeconds > a.resetSeconds ? b : a));
        return { allowed: false, state: toState(binding), retryAfterSeconds: binding.resetSeconds, limits };
      }
      const binding = limits.reduce((a, b) => (b.remaining < a.remaining ? b : a));
      return { allowed: true, state: toState(binding), limits };
    },
    /** Headroom without counting a call (for analytics and the dashboard). */
    async peekRateLimit(plan: Plan, workspaceId: string, grantId?: string): Promise<LimitHeadroom[]> {
      const specs = specsFor(plan, workspaceId, grantId);
      return headroom(specs, await backend.peek(specs.map((s) => s.key), WINDOW_MS));
    },
    close: () => backend.close(),
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
