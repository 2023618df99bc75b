// Balances and the append-only ledger outside the per-call hot path: grants, purchases, adjustments, reads.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import { CreditsError } from './errors.ts';
import { enqueueEvent, enqueueEvents } from '../webhooks/index.ts';
import { balanceCrossings } from './balance-lines.ts';
import { recordAudit, type AuditContext } from '../audit/index.ts';
import { DEFAULT_PLAN } from './plans.ts';
import type { CreditsTables, LedgerReason } from './tables.ts';

export interface LedgerEntry {
  id: number;
  amount: number;
  balanceAfter: number;
  reason: LedgerReason;
  description: string;
  tool: string | null;
  userId: string | null;
  clientId: string | null;
  requestId: string | null;
  createdAt: number;
}

export interface LedgerPage {
  entries: LedgerEntry[];
  /** Pass back as `before` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface GrantInput {
  workspaceId: string;
  /** Positive adds credits; negative removes them (never below zero). */
  amount: number;
  reason: Extract<LedgerReason, 'initial' | 'grant' | 'purchase' | 'adjustment' | 'seed'>;
  description?: string;
  userId?: string | null;
  requestId?: string | null;
}

export const MAX_GRANT = 1_000_000_000_000;

export interface BalanceLineOptions {
  /** The low-balance line (TOLLGATE_LOW_BALANCE_CREDITS): a removal that crosses it, or reaches zero, queues an event. */
  lowBalanceCredits?: number;
}

/**
 * Adds (or removes) credits and writes the ledger row in the caller's transaction, with its events: `credits.granted`
 * for an addition; `credits.low` / `credits.exhausted` for a removal that crosses a line (balance-lines.ts, the rule
 * the ledger writer uses). Throws CreditsError ('insufficient_balance') when a removal would take the balance below zero.
 */
export async function grantCreditsIn(trx: Kysely<CreditsTables>, input: GrantInput, options: BalanceLineOptions = {}): Promise<{ balance: number; ledgerId: number }> {
  if (!Number.isSafeInteger(input.amount) || input.amount === 0 || Math.abs(input.amount) > MAX_GRANT) {
    throw new CreditsError('invalid_amount', `The amount must be a non-zero whole number of credits up to ${MAX_GRANT}`);
  }
  const at = Date.now();
  let balance: number;
  if (input.amount > 0) {
    // One statement: insert the account or add to it, locking its row until the transaction ends.
    const row = await trx
      .insertInto('credits_accounts')
      .values({ workspace_id: input.workspaceId, balance: input.amount, plan: DEFAULT_PLAN, updated_at: at, suspended_at: null })
      .onConflict((oc) => oc.column('workspace_id').doUpdateSet((eb) => ({ balance: eb('credits_accounts.balance', '+', eb.ref('excluded.balance')), updated_at: at })))
      .returning('balance')
      .executeTakeFirstOrThrow();
    balance = Number(row.balance);
  } else {
    // Conditional: a removal applies only when the balance covers it, atomically with the check.
    const row = await trx
      .updateTable('credits_accounts')
      .set((eb) => ({ balance: eb('balance', '+', input.amount), updated_at: at }))
      .where('workspace_id', '=', input.workspaceId)
      .where('balance', '>=', -input.amount)
      .returning('balance')
      .executeTakeFirst();
    if (!row) throw new CreditsError('insufficient_balance', `Removing ${-input.amount} credits would take the balance below zero`);
    balance = Number(row.balance);
  }
  const inserted = await trx
    .insertInto('credits_ledger')
    .values({
      workspace_id: input.workspaceId,
      amount: input.amount,
      balance_after: balance,
      reason: input.reason,
      description: (input.description ?? '').slice(0, 500),
      tool: null,
      user_id: input.userId ?? null,
      client_id: null,
      request_id: input.requestId ?? null,
      created_at: at,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const crossings = balanceCrossings(new Map([[input.workspaceId, balance - input.amount]]), new Map([[input.workspaceId, balance]]), options.lowBalanceCredits);
  if (crossings.length) await enqueueEvents(trx, crossings);
  if (input.amount > 0) {
    await enqueueEvent(trx, { type: 'credits.granted', workspaceId: input.workspaceId, data: { workspace_id: input.workspaceId, amount: input.amount, balance, reason: input.reason, ledger_id: Number(inserted.id) } });
  }
  return { balance, ledgerId: Number(inserted.id) };
}

/** The audit record of a grant or deduction, in the transaction that made it. */
export function auditGrant(trx: Kysely<CreditsTables>, audit: AuditContext, input: GrantInput, granted: { balance: number; ledgerId: number }): Promise<void> {
  return recordAudit(trx, {
    ...audit,
    action: input.amount > 0 ? 'credits.granted' : 'credits.deducted',
    target: { type: 'workspace', id: input.workspaceId },
    workspaceId: input.workspaceId,
    before: { balance: granted.balance - input.amount },
    after: { balance: granted.balance, amount: input.amount, reason: input.reason, description: input.description ?? '', ledger_id: granted.ledgerId },
  });
}

function encodeCursor(createdAt: number, id: number): string {
  return Buffer.from(`${createdAt}:${id}`).toString('base64url');
}
function decodeCursor(cursor: string): { createdAt: number; id: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? { createdAt: Number(m[1]), id: Number(m[2]) } : undefined;
}

export function ledgerService(store: Store, options: BalanceLineOptions = {}) {
  const db: Kysely<CreditsTables> = store.typed<CreditsTables>();

  return {
    /** Adds (or with a negative amount removes) credits; the balance change and its ledger row commit together. */
    grantCredits(input: GrantInput, audit?: AuditContext): Promise<{ balance: number; ledgerId: number }> {
      return db.transaction().execute(async (trx) => {
        const granted = await grantCreditsIn(trx, input, options);
        if (audit) await auditGrant(trx, audit, input, granted);
        return granted;
      });
    },

    /** The workspace's balance and plan (a workspace never credited has 0 on the default plan). */
    async getAccount(workspaceId: string): Promise<{ balance: number; plan: string; updatedAt: number | null; suspendedAt: number | null }> {
      const row = await db.selectFrom('credits_accounts').select(['balance', 'plan', 'updated_at', 'suspended_at']).where('workspace_id', '=', workspaceId).executeTakeFirst();
      return row
        ? { balance: Number(row.balance), plan: row.plan, updatedAt: Number(row.updated_at), suspendedAt: row.suspended_at === null ? null : Number(row.suspended_at) }
        : { balance: 0, plan: DEFAULT_PLAN, updatedAt: null, suspendedAt: null };
    },

    /** Suspends (tool calls refused) or resumes a workspace, in the caller's transaction. */
    async setSuspendedIn(trx: Kysely<CreditsTables>, workspaceId: string, suspended: boolean): Promise<void> {
      const at = Date.now();
      const suspended_at = suspended ? at : null;
      await trx
        .insertInto('credits_accounts')
        .values({ workspace_id: workspaceId, balance: 0, plan: DEFAULT_PLAN, updated_at: at, suspended_at })
        .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ suspended_at, updated_at: at }))
        .execute();
    },

    async getBalance(workspaceId: string): Promise<number> {
      return (await this.getAccount(workspaceId)).balance;
    },

    /** Assigns a plan (the caller checks the name against the configured plans). */
    async setPlanName(workspaceId: string, plan: string, audit?: AuditContext): Promise<void> {
      await db.transaction().execute((trx) => this.setPlanNameIn(trx, workspaceId, plan, audit));
    },

    /** Assigns a plan in the caller's transaction; with `audit`, the change (before and after) is recorded in it. */
    async setPlanNameIn(trx: Kysely<CreditsTables>, workspaceId: string, plan: string, audit?: AuditContext): Promise<void> {
      const at = Date.now();
      const before = audit ? await trx.selectFrom('credits_accounts').select('plan').where('workspace_id', '=', workspaceId).executeTakeFirst() : undefined;
      await trx
        .insertInto('credits_accounts')
        .values({ workspace_id: workspaceId, balance: 0, plan, updated_at: at, suspended_at: null })
        .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ plan, updated_at: at }))
        .execute();
      if (audit) await recordAudit(trx, { ...audit, action: 'plan.changed', target: { type: 'workspace', id: workspaceId }, workspaceId, before: { plan: before?.plan ?? DEFAULT_PLAN }, after: { plan } });
    },

    /**
     * Newest first, `limit` per page (1–500); `before` is the previous page's `nextCursor`. Filters: `reason`, and
     * `since`/`until` (epoch ms, inclusive/exclusive).
     */
    async listLedger(workspaceId: string, options: { limit?: number; before?: string; reason?: LedgerReason; since?: number; until?: number } = {}): Promise<LedgerPage> {
      const limit = Math.max(1, Math.min(500, Math.floor(options.limit ?? 50)));
      let q = db.selectFrom('credits_ledger').selectAll().where('workspace_id', '=', workspaceId);
      if (options.reason) q = q.where('reason', '=', options.reason);
      if (options.since !== undefined) q = q.where('created_at', '>=', options.since);
      if (options.until !== undefined) q = q.where('created_at', '<', options.until);
      const cursor = options.before ? decodeCursor(options.before) : undefined;
      if (cursor) {
        q = q.where((eb) => eb.or([eb('created_at', '<', cursor.createdAt), eb.and([eb('created_at', '=', cursor.createdAt), eb('id', '<', cursor.id)])]));
      }
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const entries = rows.slice(0, limit).map(
        (r): LedgerEntry => ({
          id: Number(r.id),
          amount: Number(r.amount),
          balanceAfter: Number(r.balance_after),
          reason: r.reason,
          description: r.description,
          tool: r.tool,
          userId: r.user_id,
          clientId: r.client_id,
          requestId: r.request_id,
          createdAt: Number(r.created_at),
        }),
      );
      const last = entries.at(-1);
      return rows.length > limit && last ? { entries, nextCursor: encodeCursor(last.createdAt, last.id) } : { entries };
    },

    /** The sum of every ledger row: equals the balance, always (the invariant tests and `credits show` check). */
    async sumLedger(workspaceId: string): Promise<number> {
      const r = await db
        .selectFrom('credits_ledger')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total'))
        .where('workspace_id', '=', workspaceId)
        .executeTakeFirstOrThrow();
      return Number(r.total);
    },
  };
}

export type LedgerService = ReturnType<typeof ledgerService>;
