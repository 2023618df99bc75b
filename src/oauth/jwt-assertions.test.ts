import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAssertion, CLOCK_SKEW_S, MAX_ASSERTION_LIFETIME_S } from './jwt-assertions.ts';
import { newJti, nowS, testSigner } from '../../test/helpers/jwt-signer.ts';

const signer = testSigner('ES256');
const AUD = 'https://as.example';
const base = () => ({ iss: 'c', sub: 'c', aud: AUD, exp: nowS() + 60, jti: newJti() });
const reason = (token: string, typ?: string) => {
  const r = checkAssertion(token, { audiences: [AUD], typ });
  return r.ok ? 'ok' : r.reason;
};

test('checkAssertion accepts a well-formed one-time JWT and reports when its jti may be forgotten', () => {
  const r = checkAssertion(signer.sign(base()), { audiences: [AUD] });
  assert.ok(r.ok);
  if (r.ok) assert.ok(r.expiresAt >= (nowS() + 60 + CLOCK_SKEW_S) * 1000 - 1000);
  assert.equal(reason(signer.sign({ ...base(), aud: ['x', AUD] })), 'ok', 'aud may be an array containing us');
});

test('checkAssertion refuses, with a reason, each claim that is wrong', () => {
  assert.match(reason(signer.sign({ ...base(), aud: 'https://other' })), /aud/);
  assert.match(reason(signer.sign({ ...base(), exp: nowS() - CLOCK_SKEW_S - 5 })), /expired/);
  assert.equal(reason(signer.sign({ ...base(), exp: nowS() - 5 })), 'ok', 'within the clock skew');
  assert.match(reason(signer.sign({ ...base(), exp: '9999999999' })), /no exp/);
  assert.match(reason(signer.sign({ ...base(), exp: nowS() + 3600 })), /within/);
  assert.match(reason(signer.sign({ ...base(), nbf: nowS() + 600 })), /nbf/);
  assert.match(reason(signer.sign({ ...base(), iat: nowS() + 600 })), /iat/);
  assert.match(reason(signer.sign({ ...base(), jti: 'x'.repeat(256) })), /jti/);
  assert.match(reason(signer.sign({ ...base(), jti: 42 })), /jti/);
  assert.match(reason(signer.sign(base(), { alg: 'HS256' })), /ES256 or RS256/);
  assert.match(reason(signer.sign(base(), { typ: 'JWT' }), 'oauth-id-jag+jwt'), /typ/);
  assert.equal(reason(signer.sign(base(), { typ: 'OAUTH-ID-JAG+JWT' }), 'oauth-id-jag+jwt'), 'ok', 'typ compares case-insensitively');
  assert.match(reason('a.b'), /not a signed JWT/);
});

test('checkAssertion judges the lifetime as exp − iat: one issued long ago with a far exp is refused, though exp − now is short', () => {
  const now = nowS();
  // Issued an hour ago, expiring in 5 minutes: exp − now = 300 s passes the exp − now limit, exp − iat = 3,900 s does not.
  assert.match(reason(signer.sign({ ...base(), iat: now - 3600, exp: now + 300 })), /issued too long ago \(iat/);
  // Issued within the window but living longer than the maximum from its iat.
  assert.match(reason(signer.sign({ ...base(), iat: now - 300, exp: now + 400 })), /within 600 s of its iat/);
  assert.equal(reason(signer.sign({ ...base(), iat: now - 300, exp: now + 300 })), 'ok', 'exp − iat = 600 s is the maximum, allowed');
  // An iat older than the maximum lifetime plus the clock skew cannot belong to a live assertion.
  assert.match(reason(signer.sign({ ...base(), iat: now - MAX_ASSERTION_LIFETIME_S - CLOCK_SKEW_S - 5, exp: now + 30 })), /issued too long ago/);
  assert.match(reason(signer.sign({ ...base(), iat: now + CLOCK_SKEW_S + 5 })), /issued in the future \(iat\)/);
  assert.equal(reason(signer.sign({ ...base(), iat: now + CLOCK_SKEW_S - 5 })), 'ok', 'an iat within the clock skew ahead is accepted');
  assert.match(reason(signer.sign({ ...base(), iat: 'yesterday' })), /iat is not a number/);
  assert.equal(reason(signer.sign({ ...base(), iat: undefined })), 'ok', 'iat is optional (RFC 7523 §3 item 6: MAY)');
});
