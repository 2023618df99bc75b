// Which plan a workspace is on, read on every call's rate-limit check: cached per process for a few seconds
// (bounded, safe to lose), so a plan change reaches every process within `ttlMs`.
import { CreditsError } from './errors.ts';
import type { LedgerService } from './ledger.ts';
import { DEFAULT_PLAN, type Plan } from './plans.ts';

export function planResolver(plans: Map<string, Plan>, ledger: LedgerService, options: { ttlMs?: number; maxEntries?: number } = {}) {
  const ttlMs = options.ttlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 50_000;
  const cache = new Map<string, { plan: Plan; expires: number }>();
  const lookup = (name: string): Plan => plans.get(name) ?? plans.get(DEFAULT_PLAN)!;

  return {
    plans,
    /** The named plan, or throws CreditsError('unknown_plan') listing the configured ones. */
    requirePlan(name: string): Plan {
      const plan = plans.get(name);
      if (!plan) throw new CreditsError('unknown_plan', `No plan named "${name.slice(0, 64)}"; configured plans: ${[...plans.keys()].join(', ')}`);
      return plan;
    },
    async planFor(workspaceId: string): Promise<Plan> {
      const t = Date.now();
      const hit = cache.get(workspaceId);
      if (hit && hit.expires > t) return hit.plan;
      // A workspace on a plan that was since removed from the configuration falls back to `default`.
      const plan = lookup((await ledger.getAccount(workspaceId)).plan);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(workspaceId, { plan, expires: t + ttlMs });
      return plan;
    },
    forget(workspaceId: string): void {
      cache.delete(workspaceId);
    },
  };
}

export type PlanResolver = ReturnType<typeof planResolver>;
