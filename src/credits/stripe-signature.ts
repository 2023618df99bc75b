// Stripe's webhook signatures (https://docs.stripe.com/webhooks#verify-manually):
// `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<raw body>")>[,v1=…][,v0=…]`.
// Only the v1 scheme counts; any v1 value may match (Stripe sends several while an endpoint secret is rolled);
// the timestamp is signed with the body, and a delivery older than the tolerance is refused, so a captured request
// cannot be replayed later. As in Stripe's own libraries (stripe-node, -python, -ruby, -go), only age counts:
// a timestamp ahead of the server clock (a sender whose clock runs fast) is not refused.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const STRIPE_SIGNATURE_HEADER = 'Stripe-Signature';

/** The header value Stripe would send (tests; a sender written in JavaScript). */
export function stripeSignatureHeader(secret: string, timestamp: number, payload: string | Uint8Array): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex')}`;
}

export type StripeSignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; error: 'invalid_request' | 'invalid_signature' | 'timestamp_out_of_tolerance'; description: string };

export function verifyStripeSignature(input: { secret: string; toleranceSeconds: number; header: string | undefined; body: Uint8Array; nowMs?: number }): StripeSignatureCheck {
  if (!input.header) return { ok: false, error: 'invalid_request', description: `Missing ${STRIPE_SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of input.header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === undefined) return { ok: false, error: 'invalid_request', description: `The ${STRIPE_SIGNATURE_HEADER} header has no timestamp (t=…)` };
  if (!signatures.length) return { ok: false, error: 'invalid_signature', description: `The ${STRIPE_SIGNATURE_HEADER} header has no v1 signature` };
  // Stripe's tolerance rule (default 300 s): refused when now − t > tolerance; a future t is not refused.
  const age = (input.nowMs ?? Date.now()) / 1000 - timestamp;
  if (age > input.toleranceSeconds) {
    return { ok: false, error: 'timestamp_out_of_tolerance', description: `The signed timestamp is ${Math.round(age)} s old (tolerance ${input.toleranceSeconds} s)` };
  }
  const expected = createHmac('sha256', input.secret).update(`${timestamp}.`).update(input.body).digest();
  for (const candidate of signatures) {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) continue;
    // Constant-time comparison: response timing reveals nothing about how much of a forged signature matched.
    if (timingSafeEqual(Buffer.from(candidate, 'hex'), expected)) return { ok: true, timestamp };
  }
  return { ok: false, error: 'invalid_signature', description: 'No v1 signature matches the body and timestamp' };
}
