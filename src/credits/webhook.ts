// POST /api/webhooks/credits: a payment system confirms a purchase and the workspace gets the credits, once.
// Steps: configured? → signature and timestamp → parse → idempotency → grant (with the idempotency row, in one
// transaction) → respond.
import { isObject } from '../util/json.ts';
import type { Context, Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { AppEnv } from '../http/env.ts';
import { jsonError } from '../http/errors.ts';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Workspace } from '../accounts/index.ts';
import { createHash } from 'node:crypto';
import { CreditsError } from './errors.ts';
import { auditGrant, grantCreditsIn, MAX_GRANT } from './ledger.ts';
import type { CreditsTables } from './tables.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from './webhook-signature.ts';
import { STRIPE_SIGNATURE_HEADER } from './stripe-signature.ts';
import { stripeWebhook } from './stripe-webhook.ts';

export const WEBHOOK_PATH = '/api/webhooks/credits';

interface Purchase {
  id: string;
  workspace: string;
  credits: number;
  description: string;
}

function parsePurchase(body: Uint8Array): Purchase | string {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return 'The body is not valid JSON';
  }
  if (!isObject(data)) return 'The body must be a JSON object';
  const d = data;
  if (typeof d.id !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(d.id)) return '"id" (the idempotency key) must be 1–200 printable ASCII characters';
  if (typeof d.workspace !== 'string' || !d.workspace) return '"workspace" must be a workspace slug';
  if (typeof d.credits !== 'number' || !Number.isSafeInteger(d.credits) || d.credits < 1 || d.credits > MAX_GRANT) return `"credits" must be a whole number from 1 to ${MAX_GRANT}`;
  if (d.description !== undefined && typeof d.description !== 'string') return '"description" must be a string';
  return { id: d.id, workspace: d.workspace, credits: d.credits, description: (d.description as string | undefined) ?? '' };
}

export interface CreditsWebhookDeps {
  readonly config: Pick<Config, 'webhookSecret' | 'webhookToleranceSeconds' | 'stripeWebhookSecret'>;
  /** The credits module's own tables. */
  readonly store: Store;
  readonly accounts: {
    readonly workspaces: { getWorkspaceBySlug(slug: string): Promise<Workspace | undefined>; findWorkspaceByExternalId(externalId: string): Promise<Workspace | undefined> };
  };
}

export function mountCreditsWebhook(app: Hono<AppEnv>, services: CreditsWebhookDeps): void {
  const db: Kysely<CreditsTables> = services.store.typed<CreditsTables>();
  const { webhookSecret, webhookToleranceSeconds, stripeWebhookSecret } = services.config;
  const stripe = stripeWebhook(services);

  app.post(WEBHOOK_PATH, async (c: Context<AppEnv>) => {
    // Stripe's own events carry Stripe-Signature (stripe-webhook.ts); Tollgate's format carries Tollgate-Signature.
    if (c.req.header(STRIPE_SIGNATURE_HEADER) !== undefined && stripeWebhookSecret) return stripe(c);
    if (!webhookSecret) {
      return jsonError(c, 404, 'not_found', 'The credits webhook is disabled: set TOLLGATE_WEBHOOK_SECRET (or TOLLGATE_STRIPE_WEBHOOK_SECRET for Stripe events) to enable it');
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    // HMAC-SHA256 over "<timestamp>.<raw body>" with the shared secret, compared in constant time (webhook-signature.ts).
    const check = verifyWebhookSignature({
      secret: webhookSecret,
      toleranceSeconds: webhookToleranceSeconds,
      timestampHeader: c.req.header(TIMESTAMP_HEADER),
      signatureHeader: c.req.header(SIGNATURE_HEADER),
      body,
    });
    if (!check.ok) {
      c.get('log').warn({ error: check.error }, 'credits webhook refused');
      return jsonError(c, check.status, check.error, check.description);
    }
    const purchase = parsePurchase(body);
    if (typeof purchase === 'string') return jsonError(c, 400, 'invalid_request', purchase);
    const workspace = await services.accounts.workspaces.getWorkspaceBySlug(purchase.workspace);
    if (!workspace) return jsonError(c, 422, 'unknown_workspace', `No workspace "${purchase.workspace.slice(0, 60)}"`);
    const bodySha256 = createHash('sha256').update(body).digest('hex');

    const applied = await db.transaction().execute(async (trx) => {
      // The idempotency row and the grant commit together: a replay (even a concurrent one) finds the row.
      const claimed = await trx
        .insertInto('credits_webhook_events')
        .values({ idempotency_key: purchase.id, workspace_id: workspace.id, credits: purchase.credits, body_sha256: bodySha256, ledger_id: 0, received_at: Date.now() })
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning('idempotency_key')
        .executeTakeFirst();
      if (!claimed) return undefined;
      const grant = { workspaceId: workspace.id, amount: purchase.credits, reason: 'purchase' as const, description: purchase.description || `payment ${purchase.id}`, requestId: c.get('requestId') };
      const granted = await grantCreditsIn(trx, grant);
      await auditGrant(trx, { actor: { type: 'system', label: 'payment webhook' }, requestId: c.get('requestId') }, grant, granted);
      await trx.updateTable('credits_webhook_events').set({ ledger_id: granted.ledgerId }).where('idempotency_key', '=', purchase.id).execute();
      return granted;
    }).catch((err: unknown) => {
      if (err instanceof CreditsError) return err;
      throw err;
    });
    if (applied instanceof CreditsError) return jsonError(c, 400, 'invalid_request', applied.message);

    if (!applied) {
      const previous = await db.selectFrom('credits_webhook_events').selectAll().where('idempotency_key', '=', purchase.id).executeTakeFirstOrThrow();
      if (previous.body_sha256 !== bodySha256) {
        return jsonError(c, 409, 'idempotency_conflict', `Event "${purchase.id.slice(0, 60)}" was already applied with a different body`);
      }
      return c.json({ status: 'duplicate', id: purchase.id, workspace: workspace.slug, credits: Number(previous.credits), ledger_id: Number(previous.ledger_id), request_id: c.get('requestId') });
    }
    c.get('log').info({ workspace: workspace.slug, credits: purchase.credits, ledgerId: applied.ledgerId }, 'credits purchased');
    return c.json({ status: 'applied', id: purchase.id, workspace: workspace.slug, credits: purchase.credits, balance: applied.balance, ledger_id: applied.ledgerId, request_id: c.get('requestId') });
  });
}
