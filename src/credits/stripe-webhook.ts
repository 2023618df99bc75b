// The Stripe branch of POST /api/webhooks/credits. Steps: signature and tolerance → read the event → ignore what
// grants nothing (200) → find the workspace → grant, with the event's and the session's idempotency rows, in one
// transaction → respond. Stripe retries any non-2xx answer for days, so a refusal here is one an operator should
// see in Stripe's dashboard (a bad signature, a session that names no workspace).
import type { Context } from 'hono';
import type { Kysely } from 'kysely';
import { createHash } from 'node:crypto';
import type { AppEnv } from '../http/env.ts';
import { jsonError } from '../http/errors.ts';
import type { Workspace } from '../accounts/index.ts';
import { CreditsError } from './errors.ts';
import { auditGrant, grantCreditsIn } from './ledger.ts';
import type { CreditsTables } from './tables.ts';
import { STRIPE_SIGNATURE_HEADER, verifyStripeSignature } from './stripe-signature.ts';
import { readStripeEvent, type StripePurchase } from './stripe-events.ts';
import type { CreditsWebhookDeps } from './webhook.ts';

/** Idempotency keys of Stripe events and sessions share the webhook's table, namespaced apart from Tollgate's own. */
export const stripeEventKey = (eventId: string) => `stripe:event:${eventId}`;
export const stripeSessionKey = (sessionId: string) => `stripe:session:${sessionId}`;

async function findWorkspace(deps: CreditsWebhookDeps, refs: readonly string[]): Promise<Workspace | undefined> {
  for (const ref of refs) {
    const ws = (await deps.accounts.workspaces.getWorkspaceBySlug(ref)) ?? (await deps.accounts.workspaces.findWorkspaceByExternalId(ref));
    if (ws) return ws;
  }
  return undefined;
}

export function stripeWebhook(deps: CreditsWebhookDeps) {
  const db: Kysely<CreditsTables> = deps.store.typed<CreditsTables>();

  async function grantOnce(purchase: StripePurchase, workspace: Workspace, bodySha256: string, requestId: string) {
    return db.transaction().execute(async (trx) => {
      // Both rows or neither: a replayed event id, or a second event for the same session, finds its row and grants nothing.
      const row = { workspace_id: workspace.id, credits: purchase.credits, body_sha256: bodySha256, ledger_id: 0, received_at: Date.now() };
      const claimed = await trx
        .insertInto('credits_webhook_events')
        .values([{ ...row, idempotency_key: stripeEventKey(purchase.eventId) }, { ...row, idempotency_key: stripeSessionKey(purchase.sessionId) }])
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning('idempotency_key')
        .execute();
      if (claimed.length < 2) {
        // One of the two was there already: undo the other by rolling the transaction back.
        throw new DuplicateEvent();
      }
      const grant = { workspaceId: workspace.id, amount: purchase.credits, reason: 'purchase' as const, description: purchase.description, requestId };
      const granted = await grantCreditsIn(trx, grant);
      await auditGrant(trx, { actor: { type: 'system', label: 'Stripe webhook' }, requestId }, grant, granted);
      await trx
        .updateTable('credits_webhook_events')
        .set({ ledger_id: granted.ledgerId })
        .where('idempotency_key', 'in', [stripeEventKey(purchase.eventId), stripeSessionKey(purchase.sessionId)])
        .execute();
      return granted;
    });
  }

  return async (c: Context<AppEnv>): Promise<Response> => {
    const secret = (deps.config.stripeWebhookSecret ?? '') as string;
    const body = new Uint8Array(await c.req.arrayBuffer());
    const check = verifyStripeSignature({ secret, toleranceSeconds: deps.config.webhookToleranceSeconds, header: c.req.header(STRIPE_SIGNATURE_HEADER), body });
    if (!check.ok) {
      c.get('log').warn({ error: check.error }, 'stripe webhook refused');
      return jsonError(c, 400, check.error, check.description);
    }
    const reading = readStripeEvent(body);
    if (reading.kind === 'invalid') return jsonError(c, 400, 'invalid_request', reading.description);
    if (reading.kind === 'ignored') {
      c.get('log').info({ eventId: reading.eventId, type: reading.type, reason: reading.reason }, 'stripe event ignored');
      return c.json({ status: 'ignored', id: reading.eventId, type: reading.type, reason: reading.reason, request_id: c.get('requestId') });
    }
    const { purchase } = reading;
    const workspace = await findWorkspace(deps, purchase.workspaceRefs);
    if (!workspace) return jsonError(c, 422, 'unknown_workspace', `No workspace "${purchase.workspaceRefs[0].slice(0, 60)}" (by slug or external id)`);
    const bodySha256 = createHash('sha256').update(body).digest('hex');
    try {
      const granted = await grantOnce(purchase, workspace, bodySha256, c.get('requestId'));
      c.get('log').info({ workspace: workspace.slug, credits: purchase.credits, ledgerId: granted.ledgerId, eventId: purchase.eventId }, 'credits purchased through stripe');
      return c.json({ status: 'applied', id: purchase.eventId, workspace: workspace.slug, credits: purchase.credits, balance: granted.balance, ledger_id: granted.ledgerId, request_id: c.get('requestId') });
    } catch (err) {
      if (err instanceof DuplicateEvent) {
        // Stripe delivers at least once: a replay is acknowledged (2xx) so it stops retrying, and grants nothing.
        return c.json({ status: 'duplicate', id: purchase.eventId, workspace: workspace.slug, request_id: c.get('requestId') });
      }
      if (err instanceof CreditsError) return jsonError(c, 400, 'invalid_request', err.message);
      throw err;
    }
  };
}

class DuplicateEvent extends Error {}
