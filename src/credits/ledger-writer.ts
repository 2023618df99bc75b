// Group commit for the per-call hot path. Every tool call's deduction, its ledger row and its usage roll-ups (and the
// counts of refused calls) are written in ONE transaction, shared with every other call that arrived while the
// previous batch was committing;
// each caller's promise resolves only after that transaction is durable (PostgreSQL: committed; SQLite: the WAL
// synced, see src/store/sqlite-dialect.ts), so no call is ever acknowledged before its ledger row is on disk, and
// one commit and one sync serve the whole batch.
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { CreditsTables, LedgerTable } from './tables.ts';
import { UsageRollups, type Usage } from './rollups.ts';
import { powerOfTwoChunks, prepareQuery, type PreparedQuery } from '../store/prepared.ts';
import { creditsMetrics } from './metrics.ts';
import { enqueueEvents } from '../webhooks/index.ts';
import { balanceCrossings } from './balance-lines.ts';
import { planStatement, type BatchOp } from './ledger-statement.ts';

export interface ChargeRequest {
  workspaceId: string;
  /** Credits to deduct; 0 records usage only. */
  cost: number;
  tool: string;
  userId: string;
  clientId: string;
  requestId: string;
  /** When the call started (epoch ms): its usage is booked in this day and hour. */
  at: number;
}

/** `balance` after the deduction when ok (null when the batch had no need to know it: a free call, no account); the balance that was too low when not. */
export type ChargeOutcome = { ok: true; balance: number | null } | { ok: false; balance: number };

export interface FailureRecord {
  workspaceId: string;
  /** Credits to give back (0 when refunds are off or the call was free). */
  refund: number;
  tool: string;
  userId: string;
  clientId: string;
  requestId: string;
  /** When the failed call was charged: the error and the refund are booked in that call's day and hour. */
  chargedAt: number;
  at: number;
}

/** A call refused before metering: counted in the roll-ups (a call, zero credits), nothing spent. */
export interface RefusalRecord {
  workspaceId: string;
  tool: string;
  clientId: string;
  outcome: 'bad_arguments' | 'rate_limited';
  /** When the call arrived (epoch ms): it is counted in this day and hour. */
  at: number;
}

type Op =
  | { kind: 'charge'; req: ChargeRequest; resolve: (o: ChargeOutcome) => void; reject: (e: unknown) => void }
  | { kind: 'failure'; rec: FailureRecord; resolve: (o: ChargeOutcome) => void; reject: (e: unknown) => void }
  | { kind: 'refusal'; rec: RefusalRecord; resolve: (o: ChargeOutcome) => void; reject: (e: unknown) => void };

export interface LedgerWriterOptions {
  /** Most calls committed in one transaction. */
  maxBatch?: number;
  /** Transactions in flight at once (default 1). */
  maxInFlight?: number;
  /**
   * A batch that takes a workspace's balance to this or below writes a `credits.low` event, to zero a
   * `credits.exhausted` one, in the batch's own transaction (only when a balance crosses: no extra statement per call).
   */
  lowBalanceCredits?: number;
}

type LedgerRow = Omit<LedgerTable, 'id'>;
const LEDGER_COLUMNS = ['workspace_id', 'amount', 'balance_after', 'reason', 'description', 'tool', 'user_id', 'client_id', 'request_id', 'created_at'] as const satisfies readonly (keyof LedgerRow)[];

const RETRYABLE_PG = new Set(['40P01', '40001']);
/** A constraint or data error, caused by what one statement wrote (PostgreSQL classes 22 and 23; SQLite CONSTRAINT, TOOBIG, MISMATCH). */
function isDataError(err: unknown): boolean {
  const e = err as { code?: string; errcode?: number };
  return (typeof e?.code === 'string' && /^2[23]/.test(e.code)) || [18, 19, 20].includes(Number(e?.errcode) & 0xff);
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);


export function createLedgerWriter(store: Store, options: LedgerWriterOptions = {}) {
  const maxBatch = options.maxBatch ?? 500;
  const queue: Op[] = [];
  // One transaction at a time by default: SQLite has one connection anyway, and on PostgreSQL overlapping
  // batches of a busy workspace only queue on its balance row lock (measured: 1 in flight beats 2 and 4).
  const maxInFlight = options.maxInFlight ?? 1;
  let scheduled = false;
  let inFlight = 0;

  // The batch's statements, compiled once per shape (see src/store/prepared.ts).
  const db = store.typed<CreditsTables>();
  const shapes = new Map<string, PreparedQuery<any>>();
  const shape = <R,>(key: string, build: () => PreparedQuery<R>): PreparedQuery<R> => {
    let q = shapes.get(key);
    if (!q) shapes.set(key, (q = build()));
    return q;
  };
  const selectBalances = (n: number) =>
    shape<{ workspace_id: string; balance: number }>(`balances:${n}`, () =>
      prepareQuery((slot) => {
        const q = db.selectFrom('credits_accounts').select(['workspace_id', 'balance']).where('workspace_id', 'in', Array.from({ length: n }, (_, i) => slot(i) as string)).orderBy('workspace_id');
        // PostgreSQL: row locks in a fixed order, so concurrent batches in several processes never deadlock.
        // SQLite: BEGIN IMMEDIATE already holds the database's single write lock.
        return store.dialect === 'postgres' ? q.forUpdate() : q;
      }),
    );
  const addToBalance = prepareQuery((slot) =>
    db
      .updateTable('credits_accounts')
      .set((eb) => ({ balance: eb('balance', '+', slot(0) as number), updated_at: slot(1) as number }))
      .where('workspace_id', '=', slot(2) as string),
  );
  const insertLedger = (n: number) =>
    shape(`ledger:${n}`, () =>
      prepareQuery((slot) =>
        db.insertInto('credits_ledger').values(Array.from({ length: n }, (_, r) => Object.fromEntries(LEDGER_COLUMNS.map((c, j) => [c, slot(r * LEDGER_COLUMNS.length + j)])) as unknown as LedgerRow)),
      ),
    );
  const idle: (() => void)[] = [];
  let closed = false;
  // PostgreSQL: the balances this process last saw, so that a batch for a workspace known to be short of room skips
  // the one-statement attempt (ledger-statement.ts). A hint only: the statement itself checks the balance.
  const knownBalances = new Map<string, number>();
  const KNOWN_LIMIT = 10_000;
  const remember = (workspaceId: string, balance: number) => {
    if (knownBalances.size >= KNOWN_LIMIT && !knownBalances.has(workspaceId)) knownBalances.clear();
    knownBalances.set(workspaceId, balance);
  };

  function enqueue(op: Op): void {
    queue.push(op);
    schedule();
  }

  function schedule(): void {
    // A new transaction starts only once the previous batch is durable: the calls that arrive while the disk syncs
    // would wait for that sync anyway (a sync covers only what was committed before it began), so they lose nothing
    // by sharing one transaction after it — and one transaction per sync writes far fewer pages than many small ones.
    if (scheduled || !queue.length || inFlight >= maxInFlight) return;
    scheduled = true;
    // setImmediate, not a microtask: every request the poll phase has read joins this batch.
    setImmediate(() => {
      scheduled = false;
      while (queue.length && inFlight < maxInFlight) {
        const batch = queue.splice(0, maxBatch);
        inFlight++;
        const acks: (() => void)[] = [];
        commitBatch(batch, acks).finally(() => {
          inFlight--;
          if (!queue.length && !inFlight) idle.splice(0).forEach((f) => f());
          schedule();
          // The batch is durable. Its calls are answered in the turn's check phase after the next batch has been
          // written (scheduled just above, so its callback runs first): the next commit and its disk sync start
          // before these calls run their handlers and write their answers, and overlap them, instead of waiting for
          // them (with every connection waiting on the disk, that wait left the core idle).
          if (acks.length) setImmediate(() => acks.forEach((ack) => ack()));
        });
      }
    });
  }

  /** Commits `batch`; the answers of the calls it made durable are pushed to `acks`, for the caller to run. */
  async function commitBatch(batch: Op[], acks: (() => void)[]): Promise<void> {
    if (store.dialect === 'postgres') {
      const rest = await commitInOneStatement(batch, acks);
      if (!rest.length) return;
      batch = rest;
    }
    let outcomes: ChargeOutcome[];
    const started = performance.now();
    try {
      outcomes = await withRetry(() => applyBatch(batch));
      creditsMetrics.batch(batch.length, performance.now() - started, true);
    } catch (err) {
      creditsMetrics.batch(batch.length, performance.now() - started, false);
      // One bad call must not sink the others that shared its transaction: retry them one by one. (Not for a busy or
      // unreachable database: that would fail each of them again, slowly.)
      if (batch.length > 1 && isDataError(err)) {
        for (const op of batch) await commitBatch([op], acks);
        return;
      }
      for (const op of batch) op.reject(err);
      return;
    }
    // The commit has returned, so the batch is durable: it may be acknowledged.
    batch.forEach((op, i) => acks.push(() => op.resolve(outcomes[i])));
  }

  /**
   * PostgreSQL: the batch in one statement where every charged workspace has room (ledger-statement.ts). Pushes the
   * answers of the operations it wrote to `acks`; returns the rest, in batch order, for the general path.
   */
  async function commitInOneStatement(batch: Op[], acks: (() => void)[]): Promise<Op[]> {
    const ops: BatchOp[] = batch.map((op) => (op.kind === 'charge' ? { kind: 'charge', ...op.req } : { kind: op.kind, ...op.rec } as BatchOp));
    const plan = planStatement(ops, options.lowBalanceCredits, knownBalances, Date.now());
    if (!plan) return batch;
    const started = performance.now();
    let rows: { workspace_id: string; balance: number | string }[];
    try {
      ({ rows } = await withRetry(() => db.executeQuery(plan.query)));
    } catch (err) {
      creditsMetrics.batch(plan.covered.length, performance.now() - started, false);
      // An error the server reported (a SQLSTATE) rolled the statement back: the general path can try, and knows how
      // to isolate a bad call. Anything else (the connection lost) may have come after the commit: trying again could
      // charge twice, so the calls fail, as they do when the general path loses its commit.
      if (/^[0-9A-Z]{5}$/.test(String((err as { code?: unknown }).code))) return batch;
      for (const op of batch) op.reject(err);
      return [];
    }
    creditsMetrics.batch(plan.covered.length, performance.now() - started, true);
    const applied = new Map(rows.map((r) => [r.workspace_id, Number(r.balance)]));
    for (const [workspaceId, balance] of applied) remember(workspaceId, balance);
    const covered = new Set(plan.covered);
    const rest: Op[] = [];
    batch.forEach((op, i) => {
      const workspaceId = ops[i].workspaceId;
      const change = plan.changes.get(workspaceId);
      if (!covered.has(i) || (change && !applied.has(workspaceId))) {
        rest.push(op);
        return;
      }
      const end = applied.get(workspaceId);
      const outcome: ChargeOutcome = { ok: true, balance: end === undefined || !change ? null : end - change.delta + plan.running.get(i)! };
      acks.push(() => op.resolve(outcome));
    });
    return rest;
  }

  async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 4 || !code || !RETRYABLE_PG.has(code)) throw err;
        await new Promise((r) => setTimeout(r, 5 * attempt));
      }
    }
  }

  /** The whole batch in one transaction: lock the balances, decide each call in order, write everything. */
  function applyBatch(batch: Op[]): Promise<ChargeOutcome[]> {
    return db.transaction().execute(async (trx: Kysely<CreditsTables>) => {
      const at = Date.now();
      // Refusals touch no balance: their workspaces' rows are neither read nor locked.
      const workspaceIds = [...new Set(batch.flatMap((op) => (op.kind === 'charge' ? [op.req.workspaceId] : op.kind === 'failure' ? [op.rec.workspaceId] : [])))].sort();
      const balances = new Map<string, number>();
      for (let i = 0; i < workspaceIds.length; i += 256) {
        const ids = workspaceIds.slice(i, i + 256);
        const { rows } = await trx.executeQuery(selectBalances(ids.length)(ids));
        for (const r of rows) balances.set(r.workspace_id, Number(r.balance));
      }
      const startBalances = new Map(balances);
      const deltas = new Map<string, number>();
      const ledger: LedgerRow[] = [];
      const usage = new UsageRollups();
      const addUsage = (workspaceId: string, when: number, tool: string, clientId: string, u: Usage) => usage.add(workspaceId, when, tool, clientId, u);

      const outcomes: ChargeOutcome[] = batch.map((op) => {
        if (op.kind === 'charge') {
          const r = op.req;
          const tool = clip(r.tool, 128);
          const clientId = clip(r.clientId, 2048);
          const balance = balances.get(r.workspaceId);
          if (r.cost > 0) {
            // Never below zero: a call that does not fit the balance is refused, not charged (but counted).
            if (balance === undefined || balance < r.cost) {
              addUsage(r.workspaceId, r.at, tool, clientId, { calls: 1, credits: 0, errors: 0, outOfCredits: 1 });
              return { ok: false, balance: balance ?? 0 };
            }
            const after = balance - r.cost;
            balances.set(r.workspaceId, after);
            deltas.set(r.workspaceId, (deltas.get(r.workspaceId) ?? 0) - r.cost);
            ledger.push({
              workspace_id: r.workspaceId, amount: -r.cost, balance_after: after, reason: 'tool_call', description: '',
              tool, user_id: clip(r.userId, 64), client_id: clientId, request_id: clip(r.requestId, 64), created_at: r.at,
            });
          }
          addUsage(r.workspaceId, r.at, tool, clientId, { calls: 1, credits: r.cost, errors: 0 });
          return { ok: true, balance: balances.get(r.workspaceId) ?? null };
        }
        if (op.kind === 'refusal') {
          const x = op.rec;
          const refused = x.outcome === 'bad_arguments' ? { badArguments: 1 } : { rateLimited: 1 };
          addUsage(x.workspaceId, x.at, clip(x.tool, 128), clip(x.clientId, 2048), { calls: 1, credits: 0, errors: 0, ...refused });
          return { ok: true, balance: null };
        }
        const f = op.rec;
        const tool = clip(f.tool, 128);
        const clientId = clip(f.clientId, 2048);
        const balance = balances.get(f.workspaceId);
        if (f.refund > 0 && balance !== undefined) {
          const after = balance + f.refund;
          balances.set(f.workspaceId, after);
          deltas.set(f.workspaceId, (deltas.get(f.workspaceId) ?? 0) + f.refund);
          ledger.push({
            workspace_id: f.workspaceId, amount: f.refund, balance_after: after, reason: 'refund', description: 'tool call failed',
            tool, user_id: clip(f.userId, 64), client_id: clientId, request_id: clip(f.requestId, 64), created_at: f.at,
          });
          addUsage(f.workspaceId, f.chargedAt, tool, clientId, { calls: 0, credits: -f.refund, errors: 1 });
        } else {
          addUsage(f.workspaceId, f.chargedAt, tool, clientId, { calls: 0, credits: 0, errors: 1 });
        }
        return { ok: true, balance: balances.get(f.workspaceId) ?? null };
      });

      // In workspace order (the balances' lock order on PostgreSQL).
      for (const workspaceId of workspaceIds) {
        const delta = deltas.get(workspaceId);
        if (delta) await trx.executeQuery(addToBalance([delta, at, workspaceId]));
      }
      let first = 0;
      for (const n of powerOfTwoChunks(ledger.length)) {
        const values: unknown[] = [];
        for (let r = first; r < first + n; r++) for (const c of LEDGER_COLUMNS) values.push(ledger[r][c]);
        await trx.executeQuery(insertLedger(n)(values));
        first += n;
      }
      await usage.write(trx);
      for (const [workspaceId, balance] of balances) remember(workspaceId, balance);
      const crossings = balanceCrossings(startBalances, balances, options.lowBalanceCredits);
      if (crossings.length) await enqueueEvents(trx, crossings);
      return outcomes;
    });
  }

  return {
    /** Deducts `cost` atomically (never below zero) and records the call; resolves once durable. */
    deductCredits(req: ChargeRequest): Promise<ChargeOutcome> {
      if (closed) return Promise.reject(new Error('the ledger writer is closed'));
      return new Promise((resolve, reject) => enqueue({ kind: 'charge', req, resolve, reject }));
    },
    /** Records a failed call: an error in the roll-ups and, when `refund` > 0, a refund row. */
    recordFailure(rec: FailureRecord): Promise<void> {
      if (closed) return Promise.reject(new Error('the ledger writer is closed'));
      return new Promise((resolve, reject) => enqueue({ kind: 'failure', rec, resolve: () => resolve(), reject }));
    },
    /** Counts a refused call in the roll-ups, in the next group commit; resolves once durable. */
    recordRefusal(rec: RefusalRecord): Promise<void> {
      if (closed) return Promise.reject(new Error('the ledger writer is closed'));
      return new Promise((resolve, reject) => enqueue({ kind: 'refusal', rec, resolve: () => resolve(), reject }));
    },
    /** Resolves when everything queued so far has been written. */
    async flush(): Promise<void> {
      while (queue.length || inFlight || scheduled) await new Promise<void>((r) => (inFlight ? idle.push(r) : setImmediate(r)));
    },
    async close(): Promise<void> {
      await this.flush();
      closed = true;
    },
  };
}

export type LedgerWriter = ReturnType<typeof createLedgerWriter>;
