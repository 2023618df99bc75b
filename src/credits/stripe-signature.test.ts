import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { stripeSignatureHeader, verifyStripeSignature } from './stripe-signature.ts';

const secret = 'whsec_test_5f2b1c';
const body = '{"id":"evt_1","object":"event"}';
const now = 1_760_000_000;
const bytes = new TextEncoder().encode(body);
// As Stripe documents it: HMAC-SHA256 keyed with the endpoint secret over "<t>.<payload>", hex.
const v1 = (t: number, key = secret) => createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
const check = (header: string | undefined, nowS = now) => verifyStripeSignature({ secret, toleranceSeconds: 300, header, body: bytes, nowMs: nowS * 1000 });

test('a header built as Stripe documents it verifies; the helper builds the same header', () => {
  assert.deepEqual(check(`t=${now},v1=${v1(now)}`), { ok: true, timestamp: now });
  assert.equal(stripeSignatureHeader(secret, now, body), `t=${now},v1=${v1(now)}`);
});

test('any of several v1 values may match (secret rolling); v0 and unknown schemes are ignored', () => {
  assert.equal(check(`t=${now},v1=${v1(now, 'old')},v1=${v1(now)},v0=abc`).ok, true);
  assert.deepEqual(check(`t=${now},v0=${v1(now)}`), { ok: false, error: 'invalid_signature', description: 'The Stripe-Signature header has no v1 signature' });
});

test('wrong secret, altered body, junk: refused as invalid_signature', () => {
  assert.equal((check(`t=${now},v1=${v1(now, 'whsec_other')}`) as { error: string }).error, 'invalid_signature');
  assert.equal((check(`t=${now},v1=${'0'.repeat(64)}`) as { error: string }).error, 'invalid_signature');
  assert.equal((check(`t=${now},v1=zz`) as { error: string }).error, 'invalid_signature');
  // The timestamp is signed: the right body's signature under another timestamp fails.
  assert.equal((check(`t=${now + 1},v1=${v1(now)}`) as { error: string }).error, 'invalid_signature');
});

test('an old timestamp is refused even when correctly signed; inside the tolerance it passes', () => {
  assert.equal((check(`t=${now - 301},v1=${v1(now - 301)}`) as { error: string }).error, 'timestamp_out_of_tolerance');
  assert.equal(check(`t=${now - 299},v1=${v1(now - 299)}`).ok, true);
});

test('a future timestamp is accepted, as Stripe\'s libraries do (they refuse only now − t > tolerance)', () => {
  assert.deepEqual(check(`t=${now + 301},v1=${v1(now + 301)}`), { ok: true, timestamp: now + 301 });
  assert.equal(check(`t=${now + 86_400},v1=${v1(now + 86_400)}`).ok, true);
  // Still signed: a future timestamp with another timestamp's signature is refused.
  assert.equal((check(`t=${now + 301},v1=${v1(now)}`) as { error: string }).error, 'invalid_signature');
});

test('several v1 signatures (secret rotation): accepted when any matches, in any position; none matching is refused', () => {
  assert.equal(check(`t=${now},v1=${v1(now)},v1=${v1(now, 'whsec_old')}`).ok, true);
  assert.equal(check(`t=${now},v1=${v1(now, 'whsec_old')},v1=${v1(now, 'whsec_older')},v1=${v1(now)}`).ok, true);
  assert.equal((check(`t=${now},v1=${v1(now, 'whsec_old')},v1=${v1(now, 'whsec_older')}`) as { error: string }).error, 'invalid_signature');
  // A v0 value is never checked, even when it is the right HMAC, and does not spoil a matching v1.
  assert.equal((check(`t=${now},v0=${v1(now)},v1=${v1(now, 'whsec_old')}`) as { error: string }).error, 'invalid_signature');
  assert.equal(check(`t=${now},v0=deadbeef,v1=${v1(now)}`).ok, true);
});

test('missing header or timestamp: invalid_request', () => {
  assert.equal((check(undefined) as { error: string }).error, 'invalid_request');
  assert.equal((check(`v1=${v1(now)}`) as { error: string }).error, 'invalid_request');
  assert.equal((check(`t=abc,v1=${v1(now)}`) as { error: string }).error, 'invalid_request');
});
