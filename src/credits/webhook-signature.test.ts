import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { signatureHeader, verifyWebhookSignature } from './webhook-signature.ts';

const secret = 'whsec_test';
const body = Buffer.from('{"id":"evt_1","workspace":"acme","credits":500}');
const nowMs = 1_750_000_000_000;
const ts = String(nowMs / 1000);
const check = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
  verifyWebhookSignature({ secret, toleranceSeconds: 300, timestampHeader: ts, signatureHeader: signatureHeader(secret, ts, body), body, nowMs, ...over });

test('the signature is HMAC-SHA256 over "<timestamp>.<body>" in hex (the documented computation)', () => {
  const expected = createHmac('sha256', secret).update(`${ts}.${body.toString()}`).digest('hex');
  assert.equal(signatureHeader(secret, ts, body), `v1=${expected}`);
  assert.deepEqual(check(), { ok: true, timestamp: Number(ts) });
});

test('forgeries are refused: wrong secret, altered body, altered timestamp, truncated or missing signature', () => {
  assert.equal(check({ signatureHeader: signatureHeader('other', ts, body) }).ok, false);
  const altered = Buffer.from(body.toString().replace('500', '5000'));
  assert.deepEqual(check({ body: altered }), { ok: false, status: 401, error: 'invalid_signature', description: 'The signature does not match the body and timestamp' });
  assert.equal(check({ timestampHeader: String(Number(ts) + 1) }).ok, false);
  assert.equal(check({ signatureHeader: signatureHeader(secret, ts, body).slice(0, 40) }).ok, false);
  assert.equal(check({ signatureHeader: 'v0=' + signatureHeader(secret, ts, body).slice(3) }).ok, false);
  const missing = check({ signatureHeader: undefined });
  assert.ok(!missing.ok && missing.status === 400);
});

test('timestamps outside the tolerance window are refused either way; malformed ones are a 400', () => {
  const at = (offsetS: number) => {
    const t = String(Number(ts) + offsetS);
    return check({ timestampHeader: t, signatureHeader: signatureHeader(secret, t, body) });
  };
  assert.equal(at(-300).ok, true);
  assert.equal(at(299).ok, true);
  for (const skew of [-301, 301, -86_400]) {
    const r = at(skew);
    assert.ok(!r.ok && r.status === 401 && r.error === 'timestamp_out_of_tolerance', String(skew));
  }
  const r = check({ timestampHeader: '2025-06-18T00:00:00Z' });
  assert.ok(!r.ok && r.status === 400);
});

test('any one of several v1 signatures may match (sender-side secret rotation)', () => {
  const header = `${signatureHeader('old-secret', ts, body)}, ${signatureHeader(secret, ts, body)}`;
  assert.equal(check({ signatureHeader: header }).ok, true);
});
