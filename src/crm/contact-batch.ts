// `get_contact`'s read on PostgreSQL, combined across calls: the reads that calls issue in one turn of the event loop
// go to the database as ONE statement (each key's contact with its first deals, by a lateral join), instead of one
// round trip per call. Calls resume together after the ledger's group commit, so their reads arrive together too.
// Measured on the bench's metered tool call on PostgreSQL (T_pg alone at 50 connections): 1,750–2,500 → 3,200–3,900
// calls/s, Tollgate's CPU per call 340–470 → 200–250 µs; in a full `npm run bench`, T_pg/T 0.26–0.33 → 0.57. SQLite
// reads in-process and gains nothing from this: it keeps one statement per call.
import { sql, type Kysely } from 'kysely';
import { batchPerTurn, type BatchPerTurn } from '../util/batch-per-turn.ts';
import type { CrmTables } from './tables.ts';

export type ContactWithDealsRow = Record<string, unknown>;

interface Pending {
  workspaceId: string;
  id: string;
  resolve(rows: ContactWithDealsRow[]): void;
  reject(err: unknown): void;
}

/** Keys at most per statement (two array parameters, whatever their length). */
const MAX_KEYS = 500;

export function contactReadBatcher(db: Kysely<CrmTables>, dealColumns: readonly string[]) {
  const batchers = new Map<number, BatchPerTurn<Pending>>();

  function batcherFor(limit: number): BatchPerTurn<Pending> {
    let b = batchers.get(limit);
    if (!b) {
      const deals = sql.join(dealColumns.map((col) => sql`${sql.ref(`d.${col}`)} as ${sql.ref(`d_${col}`)}`));
      b = batchPerTurn<Pending>(async (batch) => {
        try {
          // The same statement text for any number of keys: PostgreSQL prepares it once per connection.
          const { rows } = await sql<ContactWithDealsRow & { k_i: string | number }>`
            select k.i as k_i, c.*, ${deals}
            from unnest(${batch.map((p) => p.workspaceId)}::text[], ${batch.map((p) => p.id)}::text[]) with ordinality as k(ws, cid, i)
            join crm_contacts c on c.workspace_id = k.ws and c.id = k.cid
            left join lateral (
              select * from crm_deals dd where dd.workspace_id = k.ws and dd.contact_id = k.cid
              order by dd.updated_at desc, dd.id limit ${sql.lit(limit)}
            ) d on true
            order by k.i, d.updated_at desc, d.id`.execute(db);
          const byKey: ContactWithDealsRow[][] = batch.map(() => []);
          for (const r of rows) byKey[Number(r.k_i) - 1].push(r);
          batch.forEach((p, i) => p.resolve(byKey[i]));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }, { maxBatch: MAX_KEYS });
      batchers.set(limit, b);
    }
    return b;
  }

  /** The contact's rows (one per deal, or one with null deal columns), as the single-key statement returns them. */
  return (workspaceId: string, id: string, limit: number): Promise<ContactWithDealsRow[]> =>
    new Promise((resolve, reject) => batcherFor(limit).add({ workspaceId, id, resolve, reject }));
}
