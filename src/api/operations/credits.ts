// Credits: balance, grant, deduct (both idempotent with an Idempotency-Key header), and the ledger with paging
// and filters.
import { CreditsError, MAX_GRANT, type LedgerReason } from '../../credits/index.ts';
import type { ApiDeps } from '../deps.ts';
import { fingerprintOf, type IdempotencyStore } from '../idempotency.ts';
import { define, type Operation, type OperationInput } from '../operation.ts';
import { ApiProblem } from '../problem.ts';
import { PAGING_QUERY, pageOf, ref, WORKSPACE_SLUG_SCHEMA } from '../schemas.ts';
import { ledgerEntryView } from '../views.ts';

const WS = { workspace: WORKSPACE_SLUG_SCHEMA };
const AMOUNT = { type: 'integer', minimum: 1, maximum: MAX_GRANT };
const DESCRIPTION = { type: 'string', maxLength: 500 };

export function creditOperations(deps: ApiDeps, idempotency: IdempotencyStore): Operation[] {
  const { credits } = deps;

  /** Applies a credit change once per Idempotency-Key, in one transaction with its stored answer. */
  async function change(op: string, input: OperationInput, amount: number, reason: 'grant' | 'purchase' | 'adjustment', description: string) {
    const answer = await idempotency
      .run({ apiKeyId: input.key.id, key: input.idempotencyKey!, fingerprint: fingerprintOf(op, input.params, input.body) }, async (trx) => {
        const at = Date.now();
        // The balance, its ledger row, the credits.granted event (for an addition), the audit record and the stored
        // answer commit together.
        const { balance, ledgerId } = await credits.grantCreditsIn(trx, { workspaceId: input.workspace.id, amount, reason, description, requestId: input.requestId }, input.audit);
        const entry = { id: ledgerId, amount, balanceAfter: balance, reason, description, tool: null, userId: null, clientId: null, requestId: input.requestId, createdAt: at };
        return { status: 201, body: { workspace: input.workspace.slug, balance, entry: ledgerEntryView(entry) } };
      })
      .catch((err: unknown) => {
        if (err instanceof CreditsError) throw new ApiProblem(err.code === 'insufficient_balance' ? 'insufficient_balance' : 'invalid_request', err.message);
        throw err;
      });
    return { status: answer.status, body: answer.body, headers: answer.replayed ? { 'Idempotent-Replayed': 'true' } : undefined };
  }

  return [
    define({
      operationId: 'getBalance',
      method: 'get',
      path: '/workspaces/{workspace}/credits',
      tag: 'Credits',
      summary: "A workspace's balance, plan and standing",
      access: 'read',
      params: WS,
      response: { status: 200, description: 'The balance', schema: ref('Balance') },
      async handle({ workspace }) {
        const a = await credits.getAccount(workspace.id);
        return { status: 200, body: { workspace: workspace.slug, balance: a.balance, plan: a.plan, suspended: a.suspendedAt !== null } };
      },
    }),
    define({
      operationId: 'grantCredits',
      method: 'post',
      path: '/workspaces/{workspace}/credits/grants',
      tag: 'Credits',
      summary: 'Add credits (a purchase or a grant); a retry with the same Idempotency-Key adds nothing and returns the first answer',
      access: 'write',
      deploymentKeyOnly: true,
      idempotency: 'required',
      params: WS,
      body: { type: 'object', additionalProperties: false, required: ['amount'], properties: { amount: AMOUNT, reason: { enum: ['grant', 'purchase'], default: 'grant' }, description: DESCRIPTION } },
      response: { status: 201, description: 'The ledger entry and the new balance', schema: ref('CreditChange') },
      problems: [409, 422],
      async handle(input) {
        const { amount, reason, description } = input.body as { amount: number; reason: 'grant' | 'purchase'; description?: string };
        return change('grantCredits', input, amount, reason, description ?? (reason === 'purchase' ? 'purchase' : 'granted through the API'));
      },
    }),
    define({
      operationId: 'deductCredits',
      method: 'post',
      path: '/workspaces/{workspace}/credits/deductions',
      tag: 'Credits',
      summary: 'Remove credits (never below zero: 409 insufficient_balance); idempotent like grants',
      access: 'write',
      deploymentKeyOnly: true,
      idempotency: 'required',
      params: WS,
      body: { type: 'object', additionalProperties: false, required: ['amount'], properties: { amount: AMOUNT, description: DESCRIPTION } },
      response: { status: 201, description: 'The ledger entry and the new balance', schema: ref('CreditChange') },
      problems: [409, 422],
      async handle(input) {
        const { amount, description } = input.body as { amount: number; description?: string };
        return change('deductCredits', input, -amount, 'adjustment', description ?? 'deducted through the API');
      },
    }),
    define({
      operationId: 'listLedger',
      method: 'get',
      path: '/workspaces/{workspace}/credits/ledger',
      tag: 'Credits',
      summary: 'The ledger, newest first, filtered by reason and time',
      access: 'read',
      params: WS,
      query: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...PAGING_QUERY,
          reason: { enum: ['initial', 'grant', 'purchase', 'tool_call', 'refund', 'adjustment', 'seed'] },
          since: { type: 'string', format: 'date-time', description: 'Entries at or after this time.' },
          until: { type: 'string', format: 'date-time', description: 'Entries before this time.' },
        },
      },
      response: { status: 200, description: 'A page of ledger entries', schema: pageOf('LedgerEntry') },
      async handle({ workspace, query }) {
        const page = await credits.listLedger(workspace.id, {
          limit: query.limit as number,
          before: query.cursor as string | undefined,
          reason: query.reason as LedgerReason | undefined,
          since: query.since ? Date.parse(query.since as string) : undefined,
          until: query.until ? Date.parse(query.until as string) : undefined,
        });
        return { status: 200, body: { data: page.entries.map(ledgerEntryView), next_cursor: page.nextCursor ?? null } };
      },
    }),
  ];
}
