// Outbound event signatures, the Standard Webhooks convention (https://www.standardwebhooks.com/):
// `webhook-id` (the event id, for dedupe), `webhook-timestamp` (unix seconds) and
// `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, where the key is the base64 part of
// the endpoint secret `whsec_<base64>`. Receivers can use any Standard Webhooks library.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const newEndpointSecret = (): string => `whsec_${randomBytes(24).toString('base64')}`;

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

export function signEvent(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export function eventHeaders(secret: string, id: string, timestamp: number, body: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signEvent(secret, id, timestamp, body) };
}

/** A receiver's check (tests; documented for receivers): any space-separated `v1,` signature may match. */
export function verifyEvent(secret: string, headers: { id?: string; timestamp?: string; signature?: string }, body: string, toleranceSeconds = 300, nowMs = Date.now()): boolean {
  if (!headers.id || !headers.timestamp || !headers.signature || !/^\d{1,12}$/.test(headers.timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(headers.timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signEvent(secret, headers.id, Number(headers.timestamp), body).slice(3), 'base64');
  return headers.signature.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false;
    const given = Buffer.from(s.slice(3), 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
