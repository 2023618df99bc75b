// Which plan a workspace is on, and whether it is suspended, read on every call's rate-limit check: cached per
// process for a few seconds (bounded, safe to lose), so a plan change reaches every process within `ttlMs`. The
// plans themselves come from the pricing catalog (configuration overlaid by the database, cached there).
import type { PricingCatalog } from './catalog.ts';
import { CreditsError } from './errors.ts';
import type { LedgerService } from './ledger.ts';
import { DEFAULT_PLAN, type Plan } from './plans.ts';

export interface Standing {
  /** The plan's name as assigned (may name a plan since removed: `plan` is then `default`'s limits). */
  planName: string;
  suspended: boolean;
}

const limitsOf = (p: Plan): Plan => ({ name: p.name, workspacePerMinute: p.workspacePerMinute, grantPerMinute: p.grantPerMinute });

export function planResolver(catalog: Pick<PricingCatalog, 'plans' | 'cachedPlans'>, ledger: LedgerService, options: { ttlMs?: number; maxEntries?: number } = {}) {
  const ttlMs = options.ttlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 50_000;
  const cache = new Map<string, { standing: Standing; expires: number }>();
  // The read in flight per workspace: the calls that find no fresh entry share it, so that a burst on a cold or
  // expired entry makes one read, not one per call (a thousand at once queued past the pool's wait limit).
  const reading = new Map<string, Promise<Standing>>();

  /** The workspace's standing while its entry is fresh, else undefined. */
  function freshStanding(workspaceId: string): Standing | undefined {
    const hit = cache.get(workspaceId);
    return hit && hit.expires > Date.now() ? hit.standing : undefined;
  }

  function standingOf(workspaceId: string): Promise<Standing> {
    const known = freshStanding(workspaceId);
    if (known) return Promise.resolve(known);
    const inFlight = reading.get(workspaceId);
    if (inFlight) return inFlight;
    const t = Date.now();
    const p: Promise<Standing> = ledger
      .getAccount(workspaceId)
      .then((account) => {
        const standing = { planName: account.plan, suspended: account.suspendedAt !== null };
        // Not kept when `forget` came during the read: it may predate the change it was forgotten for.
        if (reading.get(workspaceId) === p) {
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
          cache.set(workspaceId, { standing, expires: t + ttlMs });
        }
        return standing;
      })
      .finally(() => {
        if (reading.get(workspaceId) === p) reading.delete(workspaceId);
      });
    reading.set(workspaceId, p);
    return p;
  }

  /** A workspace on a plan that was since removed falls back to `default`. */
  const planIn = (plans: ReadonlyMap<string, Plan>, standing: Standing): Plan => limitsOf(plans.get(standing.planName) ?? plans.get(DEFAULT_PLAN)!);

  return {
    /** The named plan, or throws CreditsError('unknown_plan') listing the existing ones. */
    async requirePlan(name: string): Promise<Plan> {
      const plans = await catalog.plans();
      const plan = plans.get(name);
      if (!plan) throw new CreditsError('unknown_plan', `No plan named "${name.slice(0, 64)}"; configured plans: ${[...plans.keys()].join(', ')}`);
      return limitsOf(plan);
    },
    async planFor(workspaceId: string): Promise<Plan> {
      const [standing, plans] = await Promise.all([standingOf(workspaceId), catalog.plans()]);
      return planIn(plans, standing);
    },
    standingOf,
    /**
     * The plan and standing at once, when both are in memory and fresh (what `planFor` and `standingOf` would give);
     * undefined when either must be read first. The hot path's shortcut past two awaits per call.
     */
    cached(workspaceId: string): { plan: Plan; standing: Standing } | undefined {
      const standing = freshStanding(workspaceId);
      if (!standing) return undefined;
      const plans = catalog.cachedPlans();
      return plans && { plan: planIn(plans, standing), standing };
    },
    forget(workspaceId: string): void {
      cache.delete(workspaceId);
      reading.delete(workspaceId);
    },
  };
}

export type PlanResolver = ReturnType<typeof planResolver>;
