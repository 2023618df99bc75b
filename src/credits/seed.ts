// Bulk seeding of a usage dataset (the bench's "30-day analytics over 10 million usage events"): writes the
// roll-ups those events would have produced, and ledger rows that keep balance = sum of the ledger.
//
//   ledger: 'summary' (default, seconds): one `seed` ledger row per day carrying that day's credits, plus one
//           offsetting `seed` grant first, so the balance ends where it started.
//   ledger: 'full': one `tool_call` ledger row per event (10 million rows; minutes, set-based SQL), plus the
//           same offsetting grant.
//
// Each day is one transaction, and every commit leaves balance = sum of the ledger.
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { grantCreditsIn } from './ledger.ts';
import { UsageRollups } from './rollups.ts';
import type { CreditsTables } from './tables.ts';
import { DAY_MS, dayOf, HOUR_MS } from './time.ts';

export interface SeedUsageOptions {
  workspaceId: string;
  /** Total tool calls to represent (default 10,000,000). */
  events?: number;
  /** Days ending with `endDay` (default 30, ending today). */
  days?: number;
  endDay?: number;
  /** Tool names, or how many to invent (default 20). */
  tools?: string[] | number;
  /** Client ids, or how many to invent (default 50). */
  clients?: string[] | number;
  creditsPerCall?: number;
  /** Share of calls that failed (default 0.01); failed calls are counted as refunded. */
  errorRate?: number;
  ledger?: 'summary' | 'full';
}

export interface SeedUsageResult {
  events: number;
  credits: number;
  dailyRows: number;
  hourlyRows: number;
  ledgerRows: number;
}

/** Deterministic, uneven weights so the data has a shape (a few busy tools and clients, weekly rhythm). */
const weight = (i: number) => 1 / (1 + (i % 7)) + ((i * 2654435761) % 97) / 970;

export async function seedUsageDataset(store: Store, options: SeedUsageOptions): Promise<SeedUsageResult> {
  const db: Kysely<CreditsTables> = store.typed<CreditsTables>();
  const events = options.events ?? 10_000_000;
  const days = options.days ?? 30;
  const endDay = options.endDay ?? dayOf(Date.now());
  const tools = Array.isArray(options.tools) ? options.tools : Array.from({ length: options.tools ?? 20 }, (_, i) => `tool_${String(i + 1).padStart(2, '0')}`);
  const clients = Array.isArray(options.clients) ? options.clients : Array.from({ length: options.clients ?? 50 }, (_, i) => `seed-client-${i + 1}`);
  const creditsPerCall = options.creditsPerCall ?? 1;
  const errorRate = options.errorRate ?? 0.01;
  const ledgerMode = options.ledger ?? 'summary';

  // Split `events` over day × tool × client by weight, exactly (largest remainders get the leftovers).
  const cells: { day: number; tool: string; client: string; w: number }[] = [];
  for (let d = 0; d < days; d++) for (let t = 0; t < tools.length; t++) for (let c = 0; c < clients.length; c++) {
    cells.push({ day: endDay - days + 1 + d, tool: tools[t], client: clients[c], w: weight(d + 3) * weight(t) * weight(c + 11) });
  }
  const totalW = cells.reduce((s, c) => s + c.w, 0);
  const raw = cells.map((c) => (events * c.w) / totalW);
  const calls = raw.map(Math.floor);
  let left = events - calls.reduce((s, x) => s + x, 0);
  const order = raw.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k++, left--) calls[order[k % order.length][1]]++;

  const perCellCredits = (n: number, errors: number) => (n - errors) * creditsPerCall;
  const totalCredits = cells.reduce((s, _c, i) => s + perCellCredits(calls[i], Math.floor(calls[i] * errorRate)), 0);
  const result: SeedUsageResult = { events, credits: totalCredits, dailyRows: 0, hourlyRows: 0, ledgerRows: 0 };
  if (totalCredits > 0) {
    await db.transaction().execute((trx) => grantCreditsIn(trx, { workspaceId: options.workspaceId, amount: totalCredits, reason: 'seed', description: `seeded usage: ${events} events` }));
    result.ledgerRows++;
  }

  for (let d = 0; d < days; d++) {
    const day = endDay - days + 1 + d;
    const first = d * tools.length * clients.length;
    const last = first + tools.length * clients.length;
    await db.transaction().execute(async (trx) => {
      const rollups = new UsageRollups();
      let dayCalls = 0;
      let dayCredits = 0;
      let dayErrors = 0;
      for (let i = first; i < last; i++) {
        if (!calls[i]) continue;
        const errors = Math.floor(calls[i] * errorRate);
        const credits = perCellCredits(calls[i], errors);
        rollups.addDaily(options.workspaceId, day, cells[i].tool, cells[i].client, { calls: calls[i], credits, errors });
        result.dailyRows++;
        dayCalls += calls[i];
        dayCredits += credits;
        dayErrors += errors;
      }
      // Spread the day over its hours (busier in the middle of the day), exactly.
      const hw = Array.from({ length: 24 }, (_, h) => 1 + Math.sin((Math.PI * h) / 24));
      const hwTotal = hw.reduce((s, x) => s + x, 0);
      const split = (total: number) => {
        const parts = hw.map((x) => Math.floor((total * x) / hwTotal));
        parts[12] += total - parts.reduce((s, x) => s + x, 0);
        return parts;
      };
      const [hc, hcr, he] = [split(dayCalls), split(dayCredits), split(dayErrors)];
      for (let h = 0; h < 24; h++) rollups.addHourly(options.workspaceId, (day * DAY_MS) / HOUR_MS + h, { calls: hc[h], credits: hcr[h], errors: he[h] });
      await rollups.write(trx);
      result.hourlyRows += 24;
      if (!dayCredits) return;

      const balanceRow = await trx
        .updateTable('credits_accounts')
        .set((eb) => ({ balance: eb('balance', '-', dayCredits), updated_at: Date.now() }))
        .where('workspace_id', '=', options.workspaceId)
        .returning('balance')
        .executeTakeFirstOrThrow();
      const balanceAfter = Number(balanceRow.balance);
      if (ledgerMode === 'summary') {
        await trx
          .insertInto('credits_ledger')
          .values({
            workspace_id: options.workspaceId, amount: -dayCredits, balance_after: balanceAfter, reason: 'seed', description: `seeded usage: ${dayCalls} calls`,
            tool: null, user_id: null, client_id: null, request_id: null, created_at: day * DAY_MS + DAY_MS / 2,
          })
          .execute();
        result.ledgerRows++;
        return;
      }
      // One row per successful call, generated by the database (no per-row round trips).
      for (let i = first; i < last; i++) {
        const errors = Math.floor(calls[i] * errorRate);
        const n = calls[i] - errors;
        if (n <= 0) continue;
        const spacing = Math.max(1, Math.floor(DAY_MS / n));
        const series =
          store.dialect === 'postgres'
            ? sql`generate_series(0, ${n - 1}) as g(x)`
            : sql`(with recursive g(x) as (select 0 union all select x + 1 from g where x + 1 < ${n}) select x from g) as g`;
        await sql`insert into credits_ledger (workspace_id, amount, balance_after, reason, description, tool, user_id, client_id, request_id, created_at)
          select ${options.workspaceId}, cast(${-creditsPerCall} as bigint), cast(${balanceAfter} as bigint), 'tool_call', 'seeded', ${cells[i].tool}, null, ${cells[i].client}, null, cast(${day * DAY_MS} as bigint) + x * cast(${spacing} as bigint)
          from ${series}`.execute(trx);
        result.ledgerRows += n;
      }
    });
  }
  return result;
}
