// The credits module's public face: other modules call these, never the tables.
import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config.ts';
import type { Workspace } from '../accounts/index.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { analyticsService, resolveRange } from './analytics.ts';
import { createLedgerWriter } from './ledger-writer.ts';
import { ledgerService } from './ledger.ts';
import { creditsMetering } from './metering.ts';
import { planResolver } from './plan-resolver.ts';
import { parsePlans, type Plan } from './plans.ts';
import type { RateLimitBackend } from './rate-limit/backend.ts';
import { databaseBackend } from './rate-limit/database.ts';
import { createRateLimiter, type LimitHeadroom } from './rate-limit/limiter.ts';
import { memoryBackend } from './rate-limit/memory.ts';
import { redisBackend } from './rate-limit/redis.ts';
import { creditsTools } from './tools.ts';
import { pricingCatalog, type PlanRecord, type PriceOverride } from './catalog.ts';
import { auditGrant, grantCreditsIn, type GrantInput } from './ledger.ts';
import type { Kysely } from 'kysely';
import type { CreditsTables, LedgerReason } from './tables.ts';
import type { AuditContext } from '../audit/index.ts';
import { checkoutLinks, checkoutUrl, type CheckoutWorkspace, type CheckoutWorkspaceLookup } from './checkout.ts';

export { CreditsError } from './errors.ts';
export type { LedgerEntry, LedgerPage } from './ledger.ts';
export { MAX_GRANT } from './ledger.ts';
export type { UsageReport, UsageTotals, UsageOutcomes, SpendSummary } from './analytics.ts';
export type { Plan } from './plans.ts';
export type { PlanRecord, PriceOverride } from './catalog.ts';
export { MAX_TOOL_PRICE } from './catalog.ts';
export type { LedgerReason } from './tables.ts';
export type { GrantInput } from './ledger.ts';
export type { LimitHeadroom } from './rate-limit/limiter.ts';
export { seedUsageDataset, type SeedUsageOptions, type SeedUsageResult } from './seed.ts';
export { mountCredits } from './routes.ts';

export type CreditsConfig = Pick<
  Config,
  'initialCredits' | 'refundOnError' | 'rateLimitPerMinute' | 'ratePlans' | 'rateLimitBackend' | 'redisUrl' | 'buyCreditsUrl' | 'publicUrl' | 'checkoutUrlTemplate' | 'lowBalanceCredits'
> & Partial<Pick<Config, 'pricingCacheMaxAgeMs'>>;

export interface CreditsModuleOptions {
  /** Replaces the configured rate-limit backend (tests). */
  rateLimitBackend?: RateLimitBackend;
  /** Reads a workspace's external id for a checkout template that uses `{external_id}`. */
  workspaces?: CheckoutWorkspaceLookup;
}

/** `auto`: Redis when configured, the shared database on PostgreSQL, process memory on SQLite. */
export function chooseRateLimitBackend(store: Store, config: CreditsConfig, logger?: Logger): RateLimitBackend {
  const kind = config.rateLimitBackend === 'auto' ? (config.redisUrl ? 'redis' : store.dialect === 'postgres' ? 'database' : 'memory') : config.rateLimitBackend;
  if (kind === 'redis') {
    if (!config.redisUrl) throw new ConfigError('rateLimitBackend (TOLLGATE_RATE_LIMIT_BACKEND)', 'the redis backend needs TOLLGATE_REDIS_URL');
    return redisBackend(config.redisUrl, { logger });
  }
  return kind === 'database' ? databaseBackend(store) : memoryBackend();
}

export function creditsModule(store: Store, config: CreditsConfig, logger?: Logger, options: CreditsModuleOptions = {}) {
  const catalog = pricingCatalog(store, parsePlans(config), { maxAgeMs: config.pricingCacheMaxAgeMs ?? 5000 });
  const ledger = ledgerService(store, { lowBalanceCredits: config.lowBalanceCredits });
  const analytics = analyticsService(store);
  const writer = createLedgerWriter(store, { lowBalanceCredits: config.lowBalanceCredits });
  const limiter = createRateLimiter(options.rateLimitBackend ?? chooseRateLimitBackend(store, config, logger));
  const resolver = planResolver(catalog, ledger);
  catalog.onWorkspaceChange((workspaceId) => resolver.forget(workspaceId));
  const db = store.typed<CreditsTables>();
  const buyUrlFor = checkoutLinks(config, options.workspaces);
  const metering = creditsMetering({ writer, limiter, plans: resolver, prices: catalog, refundOnError: config.refundOnError, buyUrlFor, logger });
  const tools = creditsTools({ ledger, analytics, plans: resolver, limiter, buyUrlFor });

  return {
    metering,
    tools,
    ledger,
    analytics,
    writer,
    limiter,
    buyUrlFor,
    /** The checkout link for a workspace record in hand (the dashboard's "Buy credits" button). */
    checkoutUrlFor: (ws: CheckoutWorkspace): string => checkoutUrl(config, ws),
    lowBalanceCredits: config.lowBalanceCredits,

    /** Workspace hook: every new workspace starts with `initialCredits`. */
    async onWorkspaceCreated(workspace: Workspace): Promise<void> {
      if (config.initialCredits > 0) {
        await ledger.grantCredits({ workspaceId: workspace.id, amount: config.initialCredits, reason: 'initial', description: 'initial credits' });
      }
    },

    // --- for the dashboard and the CLI
    getAccount: ledger.getAccount,
    getBalance: (workspaceId: string) => ledger.getBalance(workspaceId),
    grantCredits: ledger.grantCredits,
    listLedger: ledger.listLedger,
    sumLedger: ledger.sumLedger,
    /** Every plan: the configured ones, overridden or added to by those defined as data. */
    listPlans: async (): Promise<PlanRecord[]> => [...(await catalog.plans()).values()].sort((a, b) => a.name.localeCompare(b.name)),
    async getPlan(name: string): Promise<PlanRecord | undefined> {
      return (await catalog.plans()).get(name);
    },
    upsertPlan: catalog.upsertPlan,
    deletePlan: catalog.deletePlan,
    /** Price overrides by tool name (a tool without one costs its own `cost`). */
    listPrices: (): Promise<PriceOverride[]> => catalog.listPrices(),
    setPrice: catalog.setPrice,
    clearPrice: catalog.clearPrice,
    /** What a call of this tool costs now. */
    costOf: catalog.costOf,
    async planInfo(workspaceId: string): Promise<Plan> {
      return resolver.planFor(workspaceId);
    },
    async setPlan(workspaceId: string, name: string, audit?: AuditContext): Promise<Plan> {
      const plan = await resolver.requirePlan(name);
      await db.transaction().execute(async (trx) => {
        await ledger.setPlanNameIn(trx, workspaceId, plan.name, audit);
        await catalog.announceWorkspaceIn(trx, workspaceId);
      });
      resolver.forget(workspaceId);
      return plan;
    },
    /**
     * Suspends or resumes a workspace: a suspended workspace's tool calls are refused (every process, promptly).
     * `within` runs in the same transaction (the caller's own changes and its audit entry commit with it).
     */
    async setSuspended(workspaceId: string, suspended: boolean, within?: (trx: Kysely<unknown>) => Promise<void>): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await ledger.setSuspendedIn(trx, workspaceId, suspended);
        await within?.(trx as unknown as Kysely<unknown>);
        await catalog.announceWorkspaceIn(trx, workspaceId);
      });
      resolver.forget(workspaceId);
    },
    /**
     * Adds or removes credits inside the caller's transaction (another module's idempotency record commits with
     * it), with its `credits.granted` event and, given `audit`, its audit record. `trx` is a transaction of the
     * shared store.
     */
    async grantCreditsIn(trx: Kysely<unknown>, input: GrantInput, audit?: AuditContext): Promise<{ balance: number; ledgerId: number }> {
      const credits = trx as unknown as Kysely<CreditsTables>;
      const granted = await grantCreditsIn(credits, input, { lowBalanceCredits: config.lowBalanceCredits });
      if (audit) await auditGrant(credits, audit, input, granted);
      return granted;
    },
    isLedgerReason: (s: string): s is LedgerReason => ['initial', 'grant', 'purchase', 'tool_call', 'refund', 'adjustment', 'seed'].includes(s),
    /** Usage per day, tool and client: the last `days` days (default 30), or explicit UTC dates. */
    usageReport(workspaceId: string, range: { days?: number; from?: string; to?: string } = {}) {
      return analytics.usageReport(workspaceId, resolveRange(range));
    },
    spendSummary: (workspaceId: string) => analytics.spendSummary(workspaceId),
    /** Rate-limit headroom without counting a call: the workspace's, and a grant's when given. */
    async rateLimitHeadroom(workspaceId: string, grantId?: string): Promise<LimitHeadroom[]> {
      return limiter.peekRateLimit(await resolver.planFor(workspaceId), workspaceId, grantId);
    },

    /** Writes what is queued, then releases the rate-limit backend. */
    async close(): Promise<void> {
      await writer.close();
      await limiter.close();
      await catalog.close();
    },
  };
}

export type Credits = ReturnType<typeof creditsModule>;
