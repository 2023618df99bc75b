// Usage analytics read only the roll-ups (day × tool × client, and per hour), never the ledger's per-call rows,
// so an answer over millions of calls reads at most a few thousand rows.
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { CreditsError } from './errors.ts';
import type { CreditsTables } from './tables.ts';
import { dayOf, formatDay, HOUR_MS, hourOf } from './time.ts';

/** Every `tools/call` that reached a known tool, by how it ended. */
export interface UsageOutcomes {
  ok: number;
  /** The handler threw or returned `isError` (refunded when configured). */
  toolError: number;
  /** Refused: the arguments did not match the tool's schema. */
  badArguments: number;
  /** Refused: the cost did not fit the balance. */
  outOfCredits: number;
  /** Refused with 429: over the plan's rate limit. */
  rateLimited: number;
}

export interface UsageTotals {
  /** Every call that reached a known tool, whatever its outcome (= the sum of `outcomes`). */
  calls: number;
  credits: number;
  /** Every call that did not end ok (= calls − outcomes.ok). */
  errors: number;
  outcomes: UsageOutcomes;
}

/** A roll-up sum as the database returns it (bigint sums may come back as strings). */
type CountsRow = Record<'calls' | 'credits' | 'errors' | 'bad_arguments' | 'out_of_credits' | 'rate_limited', number | string>;

export interface UsageReport {
  range: { from: string; to: string; days: number };
  totals: UsageTotals;
  /** Every day of the range, oldest first, zeros included. */
  byDay: (UsageTotals & { date: string })[];
  /** Most calls first. */
  byTool: (UsageTotals & { tool: string })[];
  /** Most calls first; at most `maxClients`, the rest summed in `otherClients`. */
  byClient: (UsageTotals & { clientId: string })[];
  otherClients?: UsageTotals & { count: number };
}

export interface SpendSummary {
  /** Credits spent on tool calls (refunds deducted) in the last 24 hours and 30 days. */
  last24h: number;
  last30d: number;
}

export const MAX_RANGE_DAYS = 366;

const zero = (): UsageTotals => ({ calls: 0, credits: 0, errors: 0, outcomes: { ok: 0, toolError: 0, badArguments: 0, outOfCredits: 0, rateLimited: 0 } });
/** A roll-up row's counts as totals: `errors` in the tables is tool errors only; the report's is every non-ok call. */
const totalsOf = (r: CountsRow): UsageTotals => {
  const outcomes = { ok: 0, toolError: Number(r.errors), badArguments: Number(r.bad_arguments), outOfCredits: Number(r.out_of_credits), rateLimited: Number(r.rate_limited) };
  const errors = outcomes.toolError + outcomes.badArguments + outcomes.outOfCredits + outcomes.rateLimited;
  outcomes.ok = Number(r.calls) - errors;
  return { calls: Number(r.calls), credits: Number(r.credits), errors, outcomes };
};
const add = (t: UsageTotals, u: UsageTotals) => {
  t.calls += u.calls;
  t.credits += u.credits;
  t.errors += u.errors;
  for (const k of Object.keys(t.outcomes) as (keyof UsageOutcomes)[]) t.outcomes[k] += u.outcomes[k];
};
const byCallsDesc = <T extends UsageTotals>(a: [string, T], b: [string, T]) => b[1].calls - a[1].calls || (a[0] < b[0] ? -1 : 1);

/** Resolves a range request (`days` back from today, or explicit UTC dates) to day numbers. */
export function resolveRange(input: { days?: number; from?: string; to?: string }, now = Date.now()): { fromDay: number; toDay: number } {
  const today = dayOf(now);
  const toDay = input.to !== undefined ? parseDayOrThrow(input.to, 'to') : today;
  const fromDay = input.from !== undefined ? parseDayOrThrow(input.from, 'from') : toDay - ((input.days ?? 30) - 1);
  if (input.days !== undefined && (!Number.isInteger(input.days) || input.days < 1 || input.days > MAX_RANGE_DAYS)) {
    throw new CreditsError('invalid_range', `days must be a whole number from 1 to ${MAX_RANGE_DAYS}`);
  }
  if (fromDay > toDay) throw new CreditsError('invalid_range', '"from" must not be after "to"');
  if (toDay - fromDay + 1 > MAX_RANGE_DAYS) throw new CreditsError('invalid_range', `A range covers at most ${MAX_RANGE_DAYS} days`);
  return { fromDay, toDay };
}

function parseDayOrThrow(text: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) throw new CreditsError('invalid_range', `"${field}" must be a date like 2025-06-18`);
  return dayOf(ms);
}

export function analyticsService(store: Store) {
  const db: Kysely<CreditsTables> = store.typed<CreditsTables>();

  return {
    /** Calls (by outcome), credits and errors per day, per tool and per client over `[fromDay, toDay]` (UTC days). */
    async usageReport(workspaceId: string, range: { fromDay: number; toDay: number }, options: { maxClients?: number } = {}): Promise<UsageReport> {
      const maxClients = options.maxClients ?? 100;
      // The two-dimensional roll-ups: a 30-day answer reads days × tools plus days × clients rows, however many
      // calls they sum up.
      const sums = (eb: any) => (['calls', 'credits', 'errors', 'bad_arguments', 'out_of_credits', 'rate_limited'] as const).map((c) => eb.fn.sum(c).as(c));
      const byTool = db
        .selectFrom('credits_usage_daily_tool')
        .where('workspace_id', '=', workspaceId)
        .where('day', '>=', range.fromDay)
        .where('day', '<=', range.toDay);
      const [dayRows, toolRows, clientRows] = (await Promise.all([
        byTool.select('day').select(sums).groupBy('day').execute(),
        byTool.select('tool').select(sums).groupBy('tool').execute(),
        db
          .selectFrom('credits_usage_daily_client')
          .where('workspace_id', '=', workspaceId)
          .where('day', '>=', range.fromDay)
          .where('day', '<=', range.toDay)
          .select('client_id')
          .select(sums)
          .groupBy('client_id')
          .execute(),
      ])) as [({ day: number } & CountsRow)[], ({ tool: string } & CountsRow)[], ({ client_id: string } & CountsRow)[]];
      const totals = zero();
      const days = new Map<number, UsageTotals>();
      for (let d = range.fromDay; d <= range.toDay; d++) days.set(d, zero());
      for (const r of dayRows) {
        const t = totalsOf(r);
        add(totals, t);
        add(days.get(Number(r.day))!, t);
      }
      const sortedClients = clientRows.map((r) => [r.client_id, totalsOf(r)] as [string, UsageTotals]).sort(byCallsDesc);
      const report: UsageReport = {
        range: { from: formatDay(range.fromDay), to: formatDay(range.toDay), days: range.toDay - range.fromDay + 1 },
        totals,
        byDay: [...days.entries()].map(([d, t]) => ({ date: formatDay(d), ...t })),
        byTool: toolRows.map((r) => [r.tool, totalsOf(r)] as [string, UsageTotals]).sort(byCallsDesc).map(([tool, t]) => ({ tool, ...t })),
        byClient: sortedClients.slice(0, maxClients).map(([clientId, t]) => ({ clientId, ...t })),
      };
      if (sortedClients.length > maxClients) {
        const other = { ...zero(), count: sortedClients.length - maxClients };
        for (const [, t] of sortedClients.slice(maxClients)) add(other, t);
        report.otherClients = other;
      }
      return report;
    },

    /**
     * Net credits spent on calls in the last 24 h and 30 days: whole hours from the hourly roll-up, plus the
     * ledger rows of the one partial hour at the start of each window, so the answer is exact.
     */
    async spendSummary(workspaceId: string, now = Date.now()): Promise<SpendSummary> {
      const start24 = now - 24 * HOUR_MS;
      const start30 = now - 30 * 24 * HOUR_MS;
      const firstWhole24 = hourOf(start24 - 1) + 1;
      const firstWhole30 = hourOf(start30 - 1) + 1;
      const hours = await db
        .selectFrom('credits_usage_hourly')
        .select([
          sql<number>`coalesce(sum(case when hour >= ${firstWhole24} then credits else 0 end), 0)`.as('h24'),
          sql<number>`coalesce(sum(credits), 0)`.as('h30'),
        ])
        .where('workspace_id', '=', workspaceId)
        .where('hour', '>=', firstWhole30)
        .executeTakeFirstOrThrow();
      const edges = await db
        .selectFrom('credits_ledger')
        .select([
          sql<number>`coalesce(sum(case when created_at < ${firstWhole24 * HOUR_MS} and created_at >= ${start24} then amount else 0 end), 0)`.as('e24'),
          sql<number>`coalesce(sum(case when created_at < ${firstWhole30 * HOUR_MS} and created_at >= ${start30} then amount else 0 end), 0)`.as('e30'),
        ])
        .where('workspace_id', '=', workspaceId)
        .where('reason', 'in', ['tool_call', 'refund'])
        .where((eb) =>
          eb.or([
            eb.and([eb('created_at', '>=', start24), eb('created_at', '<', firstWhole24 * HOUR_MS)]),
            eb.and([eb('created_at', '>=', start30), eb('created_at', '<', firstWhole30 * HOUR_MS)]),
          ]),
        )
        .executeTakeFirstOrThrow();
      return { last24h: Number(hours.h24) - Number(edges.e24), last30d: Number(hours.h30) - Number(edges.e30) };
    },
  };
}

export type AnalyticsService = ReturnType<typeof analyticsService>;
