// Payment webhook signatures: `Tollgate-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` with
// `Tollgate-Timestamp: <unix seconds>`. Signing the timestamp with the body binds the two, so an old delivery
// cannot be replayed under a fresh timestamp; the tolerance window bounds how old a delivery may be.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'Tollgate-Timestamp';
export const SIGNATURE_HEADER = 'Tollgate-Signature';

/** The hex signature a sender computes: HMAC-SHA256 over `<timestamp>.<body bytes>`. */
export function signWebhook(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value for a signed delivery (used by tests and by senders written in JavaScript). */
export function signatureHeader(secret: string, timestamp: number | string, body: string | Uint8Array): string {
  return `v1=${signWebhook(secret, timestamp, body)}`;
}

export type SignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; status: 400 | 401; error: 'invalid_request' | 'invalid_signature' | 'timestamp_out_of_tolerance'; description: string };

export function verifyWebhookSignature(input: {
  secret: string;
  toleranceSeconds: number;
  timestampHeader: string | undefined;
  signatureHeader: string | undefined;
  body: Uint8Array;
  nowMs?: number;
}): SignatureCheck {
  const { timestampHeader, signatureHeader: sigHeader } = input;
  if (!timestampHeader || !/^\d{1,12}$/.test(timestampHeader.trim())) {
    return { ok: false, status: 400, error: 'invalid_request', description: `Missing or malformed ${TIMESTAMP_HEADER} header (unix seconds)` };
  }
  if (!sigHeader) return { ok: false, status: 400, error: 'invalid_request', description: `Missing ${SIGNATURE_HEADER} header (v1=<hex HMAC-SHA256>)` };
  const timestamp = Number(timestampHeader.trim());
  const skew = Math.abs((input.nowMs ?? Date.now()) / 1000 - timestamp);
  if (skew > input.toleranceSeconds) {
    return { ok: false, status: 401, error: 'timestamp_out_of_tolerance', description: `The timestamp is ${Math.round(skew)} s away from the server clock (tolerance ${input.toleranceSeconds} s)` };
  }
  const expected = Buffer.from(signWebhook(input.secret, timestampHeader.trim(), input.body), 'hex');
  // Several `v1=` values may be sent (e.g. while the sender rotates secrets): any one matching is enough.
  const candidates = sigHeader.split(',').map((p) => p.trim()).filter((p) => p.startsWith('v1=')).map((p) => p.slice(3));
  for (const candidate of candidates) {
    if (!/^[0-9a-f]{64}$/i.test(candidate)) continue;
    // Constant-time comparison, so response timing reveals nothing about how much of a forged signature matched.
    if (timingSafeEqual(Buffer.from(candidate, 'hex'), expected)) return { ok: true, timestamp };
  }
  return { ok: false, status: 401, error: 'invalid_signature', description: 'The signature does not match the body and timestamp' };
}
