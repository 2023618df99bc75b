// Stripe's own signed events on the credits webhook, so no relay is needed: `checkout.session.completed` (and
// `checkout.session.async_payment_succeeded`, for payment methods that settle later) grants the credits named in
// the session's `metadata.credits` to the workspace named by `metadata.workspace` or `client_reference_id` (a slug
// or an external id), once per event id and once per session. Every other event type is acknowledged with 200 and
// ignored, as Stripe expects of an endpoint (https://docs.stripe.com/webhooks#handle-events).
import { isObject } from '../util/json.ts';
import { MAX_GRANT } from './ledger.ts';

/** The event types that can grant credits; any other is acknowledged and ignored. */
export const STRIPE_GRANTING_EVENTS = new Set(['checkout.session.completed', 'checkout.session.async_payment_succeeded']);

export interface StripePurchase {
  readonly eventId: string;
  readonly sessionId: string;
  /** Candidates for the workspace, in order: `metadata.workspace`, then `client_reference_id` (each a slug or an external id). */
  readonly workspaceRefs: readonly string[];
  readonly credits: number;
  readonly description: string;
}

export type StripeEventReading =
  | { kind: 'purchase'; purchase: StripePurchase }
  | { kind: 'ignored'; eventId: string; type: string; reason: string }
  | { kind: 'invalid'; description: string };

const REF_RE = /^[\x21-\x7e]{1,200}$/;

export function readStripeEvent(body: Uint8Array): StripeEventReading {
  let event: unknown;
  try {
    event = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return { kind: 'invalid', description: 'The body is not valid JSON' };
  }
  if (!isObject(event) || event.object !== 'event') return { kind: 'invalid', description: 'The body is not a Stripe event object' };
  if (typeof event.id !== 'string' || !REF_RE.test(event.id)) return { kind: 'invalid', description: 'The event has no usable "id"' };
  if (typeof event.type !== 'string') return { kind: 'invalid', description: 'The event has no "type"' };
  const eventId = event.id;
  const type = event.type.slice(0, 100);
  if (!STRIPE_GRANTING_EVENTS.has(event.type)) return { kind: 'ignored', eventId, type, reason: 'not a checkout event' };
  const session = isObject(event.data) ? event.data.object : undefined;
  if (!isObject(session) || typeof session.id !== 'string' || !REF_RE.test(session.id)) return { kind: 'invalid', description: 'The event carries no checkout session (data.object)' };
  // A session completed with a payment still pending (bank debits) is credited when async_payment_succeeded comes.
  if (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required') {
    return { kind: 'ignored', eventId, type, reason: `payment_status is ${String(session.payment_status).slice(0, 40)}` };
  }
  const metadata = isObject(session.metadata) ? session.metadata : {};
  const refs = [metadata.workspace, session.client_reference_id].filter((r): r is string => typeof r === 'string' && REF_RE.test(r));
  if (!refs.length) return { kind: 'invalid', description: 'The session names no workspace: set metadata.workspace or client_reference_id' };
  // Stripe metadata values are strings.
  const rawCredits = metadata.credits;
  const credits = typeof rawCredits === 'string' && /^\d{1,10}$/.test(rawCredits) ? Number(rawCredits) : typeof rawCredits === 'number' ? rawCredits : NaN;
  if (!Number.isSafeInteger(credits) || credits < 1 || credits > MAX_GRANT) return { kind: 'invalid', description: `metadata.credits must be a whole number from 1 to ${MAX_GRANT}` };
  return { kind: 'purchase', purchase: { eventId, sessionId: session.id, workspaceRefs: refs, credits, description: `Stripe checkout ${session.id}`.slice(0, 500) } };
}
