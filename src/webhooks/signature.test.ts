import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { eventHeaders, newEndpointSecret, signEvent, verifyEvent } from './signature.ts';

// The Standard Webhooks specification's own example (github.com/standard-webhooks/standard-webhooks, spec).
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const SPEC_TS = 1614265330;
const SPEC_BODY = '{"test": 2432232314}';

test('signatures are HMAC-SHA256 over "<id>.<timestamp>.<body>" keyed by the base64 part of the secret', () => {
  const expected = createHmac('sha256', Buffer.from(SPEC_SECRET.slice(6), 'base64')).update(`${SPEC_ID}.${SPEC_TS}.${SPEC_BODY}`).digest('base64');
  assert.equal(signEvent(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY), `v1,${expected}`);
  assert.equal(signEvent(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
});

test('a receiver verifies; a changed body, id, old timestamp or other secret fails', () => {
  const secret = newEndpointSecret();
  const now = Date.now();
  const ts = Math.floor(now / 1000);
  const h = eventHeaders(secret, 'evt_1', ts, '{"a":1}');
  const given = { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'] };
  assert.equal(verifyEvent(secret, given, '{"a":1}', 300, now), true);
  assert.equal(verifyEvent(secret, { ...given, signature: `v1,AAAA ${given.signature}` }, '{"a":1}', 300, now), true);
  assert.equal(verifyEvent(secret, given, '{"a":2}', 300, now), false);
  assert.equal(verifyEvent(secret, { ...given, id: 'evt_2' }, '{"a":1}', 300, now), false);
  assert.equal(verifyEvent(secret, given, '{"a":1}', 300, now + 301_000), false);
  assert.equal(verifyEvent(newEndpointSecret(), given, '{"a":1}', 300, now), false);
});
