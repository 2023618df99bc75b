// Usage totals as the credits module reports them: `errors` is every call that did not end ok, `outcomes` every
// call by how it ended (ok is what is left).
import type { Store } from '../../src/store/store.ts';
import type { CreditsTables } from '../../src/credits/tables.ts';

export interface ExpectedOutcomes {
  toolError?: number;
  badArguments?: number;
  outOfCredits?: number;
  rateLimited?: number;
}

export function usageTotals(calls: number, credits: number, o: ExpectedOutcomes = {}) {
  const outcomes = { ok: 0, toolError: o.toolError ?? 0, badArguments: o.badArguments ?? 0, outOfCredits: o.outOfCredits ?? 0, rateLimited: o.rateLimited ?? 0 };
  const errors = outcomes.toolError + outcomes.badArguments + outcomes.outOfCredits + outcomes.rateLimited;
  return { calls, credits, errors, outcomes: { ...outcomes, ok: calls - errors } };
}

/** Each usage roll-up table's sums for a workspace (all days and hours), read straight from the tables. */
export async function rollupSums(store: Store, workspaceId: string): Promise<Record<string, Record<string, number>>> {
  const db = store.typed<CreditsTables>();
  const sums: Record<string, Record<string, number>> = {};
  for (const table of ['credits_usage_daily', 'credits_usage_daily_tool', 'credits_usage_daily_client', 'credits_usage_hourly'] as const) {
    const row = await db
      .selectFrom(table)
      .select((eb) => (['calls', 'credits', 'errors', 'bad_arguments', 'out_of_credits', 'rate_limited'] as const).map((c) => eb.fn.sum<number>(c).as(c)))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirstOrThrow();
    sums[table] = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
  }
  return sums;
}

/** The same sums in all four roll-up grains. */
export const inEveryRollup = (sums: Record<string, number>) => ({
  credits_usage_daily: sums,
  credits_usage_daily_tool: sums,
  credits_usage_daily_client: sums,
  credits_usage_hourly: sums,
});
