// Per-tool prices and plans as data. The configuration's plans (`rateLimitPerMinute`, `ratePlans`) and each tool's
// own `cost` are the defaults; rows in `credits_plans` and `credits_tool_prices` override or add to them. Metering
// reads a snapshot of both held in process memory (never the database per call), re-read after `maxAgeMs`; on
// PostgreSQL every change also sends NOTIFY on PRICING_CHANNEL in its own transaction, so every process drops its
// snapshot as soon as the change commits (the max age bounds the delay should a notification be lost).
import { sql, type Kysely } from 'kysely';
import type { Listening, Store } from '../store/store.ts';
import { CreditsError } from './errors.ts';
import { DEFAULT_PLAN, MAX_PER_MINUTE, PLAN_NAME, type Plan } from './plans.ts';
import type { CreditsTables } from './tables.ts';
import { recordAudit, type AuditContext, type AuditEntry } from '../audit/index.ts';

/** What a price or plan change records, beside who asked (the caller's AuditContext). */
type CatalogAudit = Pick<AuditEntry, 'action' | 'target' | 'before' | 'after'>;

export const PRICING_CHANNEL = 'tollgate_pricing';
/** The most a single tool call may cost. */
export const MAX_TOOL_PRICE = 1_000_000_000;
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export interface PlanRecord extends Plan {
  /** `config`: from the configuration only; `database`: defined or overridden through the API, CLI or admin page. */
  source: 'config' | 'database';
}

export interface PriceOverride {
  tool: string;
  cost: number;
  updatedAt: number;
}

interface Snapshot {
  plans: Map<string, PlanRecord>;
  prices: Map<string, PriceOverride>;
  loadedAt: number;
}

export function pricingCatalog(store: Store, configPlans: ReadonlyMap<string, Plan>, options: { maxAgeMs: number }) {
  const db: Kysely<CreditsTables> = store.typed<CreditsTables>();
  let snapshot: Snapshot | undefined;
  let loading: Promise<Snapshot> | undefined;
  // Bumped by every invalidation: a read that started before one is not kept as current.
  let epoch = 0;
  let live = !store.listen;
  let listening: Listening | undefined;
  let closed = false;
  const invalidate = () => {
    epoch++;
    snapshot = undefined;
  };
  const workspaceListeners: ((workspaceId: string) => void)[] = [];
  const heard = (payload: string) => {
    if (payload.startsWith('ws:')) for (const l of workspaceListeners) l(payload.slice(3));
    else invalidate();
  };
  const hear = () => {
    if (listening || closed || !store.listen) return;
    listening = store.listen(PRICING_CHANNEL, heard, (up) => {
      live = up;
      invalidate();
    });
  };

  async function load(): Promise<Snapshot> {
    const started = epoch;
    const [planRows, priceRows] = await Promise.all([db.selectFrom('credits_plans').selectAll().execute(), db.selectFrom('credits_tool_prices').selectAll().execute()]);
    const plans = new Map<string, PlanRecord>();
    for (const p of configPlans.values()) plans.set(p.name, { ...p, source: 'config' });
    for (const r of planRows) plans.set(r.name, { name: r.name, workspacePerMinute: Number(r.workspace_per_minute), grantPerMinute: Number(r.grant_per_minute), source: 'database' });
    const prices = new Map(priceRows.map((r) => [r.tool, { tool: r.tool, cost: Number(r.cost), updatedAt: Number(r.updated_at) }]));
    const s = { plans, prices, loadedAt: Date.now() };
    if (started === epoch) snapshot = s;
    return s;
  }

  /** The snapshot while it is fresh enough to serve, else undefined. */
  function fresh(): Snapshot | undefined {
    hear();
    // Without a live LISTEN connection on PostgreSQL, the max age alone bounds staleness (as on SQLite).
    return snapshot && Date.now() - snapshot.loadedAt < options.maxAgeMs && (live || store.dialect === 'sqlite') ? snapshot : undefined;
  }

  async function current(): Promise<Snapshot> {
    const s = fresh();
    if (s) return s;
    loading ??= load().finally(() => (loading = undefined));
    return loading;
  }

  const costIn = (s: Snapshot, tool: { name: string; cost: number }): number => {
    const override = s.prices.get(tool.name);
    return override ? override.cost : Math.max(0, Math.floor(tool.cost));
  };

  /**
   * Runs a change and, on PostgreSQL, announces it in the same transaction (pg_notify is delivered on commit). With
   * `audit`, what `describe` makes of the write's result is recorded in that transaction too (nothing when undefined).
   */
  async function change<T>(write: (trx: Kysely<CreditsTables>) => Promise<T>, audit?: AuditContext, describe?: (result: T) => CatalogAudit | undefined): Promise<T> {
    const out = await db.transaction().execute(async (trx) => {
      const r = await write(trx);
      const entry = audit && describe?.(r);
      if (audit && entry) await recordAudit(trx, { ...audit, ...entry });
      if (store.dialect === 'postgres') await sql`select pg_notify(${PRICING_CHANNEL}, '*')`.execute(trx);
      return r;
    });
    invalidate();
    return out;
  }

  const checkPlan = (plan: Plan) => {
    if (!PLAN_NAME.test(plan.name)) throw new CreditsError('invalid_plan', 'A plan name is 1–64 lower-case letters, digits, - or _, starting with a letter or digit');
    for (const n of [plan.workspacePerMinute, plan.grantPerMinute]) {
      if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PER_MINUTE) throw new CreditsError('invalid_plan', `Plan limits must be whole numbers from 1 to ${MAX_PER_MINUTE}`);
    }
  };

  return {
    /** The effective plans (configuration overlaid by the database), by name. */
    async plans(): Promise<Map<string, PlanRecord>> {
      return (await current()).plans;
    },
    /** What a call of `tool` costs: its price override, else the tool's own cost. */
    async costOf(tool: { name: string; cost: number }): Promise<number> {
      return costIn(await current(), tool);
    },
    /** `costOf` at once, from the snapshot in memory; undefined when it must be read first (then use `costOf`). */
    cachedCostOf(tool: { name: string; cost: number }): number | undefined {
      const s = fresh();
      return s && costIn(s, tool);
    },
    /** `plans` at once, from the snapshot in memory; undefined when it must be read first. */
    cachedPlans(): Map<string, PlanRecord> | undefined {
      return fresh()?.plans;
    },
    async listPrices(): Promise<PriceOverride[]> {
      return [...(await current()).prices.values()].sort((a, b) => a.tool.localeCompare(b.tool));
    },
    async setPrice(tool: string, cost: number, audit?: AuditContext): Promise<PriceOverride> {
      if (!TOOL_NAME.test(tool)) throw new CreditsError('invalid_price', 'A tool name is 1–128 letters, digits, _, . or -');
      if (!Number.isSafeInteger(cost) || cost < 0 || cost > MAX_TOOL_PRICE) throw new CreditsError('invalid_price', `A price is a whole number of credits from 0 to ${MAX_TOOL_PRICE}`);
      const at = Date.now();
      await change(
        async (trx) => {
          const before = audit ? await trx.selectFrom('credits_tool_prices').select('cost').where('tool', '=', tool).executeTakeFirst() : undefined;
          await trx.insertInto('credits_tool_prices').values({ tool, cost, updated_at: at }).onConflict((oc) => oc.column('tool').doUpdateSet({ cost, updated_at: at })).execute();
          return before ? Number(before.cost) : null;
        },
        audit,
        (before) => ({ action: 'price.set', target: { type: 'tool', id: tool }, before: { cost: before }, after: { cost } }),
      );
      return { tool, cost, updatedAt: at };
    },
    /** Drops a price override (the tool costs its own price again); true when there was one. */
    async clearPrice(tool: string, audit?: AuditContext): Promise<boolean> {
      const before = await change(
        async (trx) => {
          const row = await trx.deleteFrom('credits_tool_prices').where('tool', '=', tool).returning('cost').executeTakeFirst();
          return row ? Number(row.cost) : null;
        },
        audit,
        (cost) => (cost === null ? undefined : { action: 'price.cleared', target: { type: 'tool', id: tool }, before: { cost }, after: { cost: null } }),
      );
      return before !== null;
    },
    async upsertPlan(plan: Plan, audit?: AuditContext): Promise<PlanRecord> {
      checkPlan(plan);
      const at = Date.now();
      const values = { name: plan.name, workspace_per_minute: plan.workspacePerMinute, grant_per_minute: plan.grantPerMinute, updated_at: at };
      await change(
        async (trx) => {
          const before = audit ? await trx.selectFrom('credits_plans').select(['workspace_per_minute', 'grant_per_minute']).where('name', '=', plan.name).executeTakeFirst() : undefined;
          await trx
            .insertInto('credits_plans')
            .values(values)
            .onConflict((oc) => oc.column('name').doUpdateSet({ workspace_per_minute: values.workspace_per_minute, grant_per_minute: values.grant_per_minute, updated_at: at }))
            .execute();
          return before;
        },
        audit,
        (before) => ({
          action: 'plan.defined',
          target: { type: 'plan', id: plan.name },
          before: before ? { workspace_per_minute: Number(before.workspace_per_minute), grant_per_minute: Number(before.grant_per_minute) } : null,
          after: { workspace_per_minute: plan.workspacePerMinute, grant_per_minute: plan.grantPerMinute },
        }),
      );
      return { name: plan.name, workspacePerMinute: plan.workspacePerMinute, grantPerMinute: plan.grantPerMinute, source: 'database' };
    },
    /**
     * Deletes a plan defined in the database (one that overrides a configured plan reverts to the configuration);
     * workspaces on a plan that no longer exists fall back to `default`. Throws for configured-only plans.
     */
    async deletePlan(name: string, audit?: AuditContext): Promise<'deleted' | 'reverted'> {
      const deleted = await change(
        (trx) => trx.deleteFrom('credits_plans').where('name', '=', name).returning(['workspace_per_minute', 'grant_per_minute']).executeTakeFirst(),
        audit,
        (row) =>
          row && {
            action: 'plan.deleted',
            target: { type: 'plan', id: name },
            before: { workspace_per_minute: Number(row.workspace_per_minute), grant_per_minute: Number(row.grant_per_minute) },
            after: configPlans.has(name) ? { reverted_to: 'configuration' } : null,
          },
      );
      if (deleted) return configPlans.has(name) ? 'reverted' : 'deleted';
      if (configPlans.has(name)) throw new CreditsError('invalid_plan', `Plan "${name}" comes from the configuration (${name === DEFAULT_PLAN ? 'TOLLGATE_RATE_LIMIT_PER_MINUTE' : 'TOLLGATE_RATE_PLANS'}); change it there`);
      throw new CreditsError('unknown_plan', `No plan named "${name.slice(0, 64)}"`);
    },
    /** Called with a workspace id when another process announces a change to that workspace's plan or standing. */
    onWorkspaceChange(listener: (workspaceId: string) => void): void {
      workspaceListeners.push(listener);
      hear();
    },
    /** Announces a workspace's plan or standing change to every process (PostgreSQL), in the caller's transaction. */
    async announceWorkspaceIn(trx: Kysely<CreditsTables>, workspaceId: string): Promise<void> {
      if (store.dialect === 'postgres') await sql`select pg_notify(${PRICING_CHANNEL}, ${'ws:' + workspaceId})`.execute(trx);
    },
    /** True while changes are heard (SQLite: always, there is nothing to hear; PostgreSQL: the LISTEN connection is up). */
    get live(): boolean {
      return live;
    },
    /** Forgets the snapshot (tests; a change made by another process on SQLite is seen after the max age). */
    invalidate,
    async close(): Promise<void> {
      closed = true;
      await listening?.close();
      listening = undefined;
    },
  };
}

export type PricingCatalog = ReturnType<typeof pricingCatalog>;
