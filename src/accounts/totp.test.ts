import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base32Decode, base32Encode, hotp, matchTotp, otpauthUri, totpAt, totpStep } from './totp.ts';

const RFC_KEY = Buffer.from('12345678901234567890', 'ascii');

test('RFC 4226 Appendix D: HOTP values for counters 0–9', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  expected.forEach((code, counter) => assert.equal(hotp(RFC_KEY, counter), code));
});

test('RFC 6238 Appendix B (SHA-1): the 8-digit test vectors, and their last six digits as 6-digit codes', () => {
  const vectors: [number, string][] = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130']];
  for (const [t, code] of vectors) {
    assert.equal(hotp(RFC_KEY, totpStep(t * 1000), 8), code, `T=${t}`);
    assert.equal(totpAt(RFC_KEY, t * 1000), code.slice(2), `T=${t}`);
  }
});

test('base32 (RFC 4648 §10 vectors) round-trips', () => {
  const vectors: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
  for (const [plain, encoded] of vectors) {
    assert.equal(base32Encode(Buffer.from(plain)), encoded);
    assert.equal(base32Decode(encoded.toLowerCase() + '===').toString(), plain);
  }
  assert.throws(() => base32Decode('MZ1W'));
});

test('matchTotp: the current step and one either side match; two away, malformed codes and wrong codes do not', () => {
  const now = 1_700_000_000_000;
  const step = totpStep(now);
  assert.equal(matchTotp(RFC_KEY, totpAt(RFC_KEY, now), now), step);
  assert.equal(matchTotp(RFC_KEY, hotp(RFC_KEY, step - 1), now), step - 1);
  assert.equal(matchTotp(RFC_KEY, hotp(RFC_KEY, step + 1), now), step + 1);
  assert.equal(matchTotp(RFC_KEY, hotp(RFC_KEY, step - 2), now), undefined);
  assert.equal(matchTotp(RFC_KEY, hotp(RFC_KEY, step + 2), now), undefined);
  for (const bad of ['', '12345', '1234567', '12345a', ' 123456', '１２３４５６']) assert.equal(matchTotp(RFC_KEY, bad, now), undefined, bad);
  const wrong = String((Number(totpAt(RFC_KEY, now)) + 1) % 1_000_000).padStart(6, '0');
  if (![step - 1, step, step + 1].some((s) => hotp(RFC_KEY, s) === wrong)) assert.equal(matchTotp(RFC_KEY, wrong, now), undefined);
});

test('otpauth URI: issuer, account, base32 secret and the parameters apps need', () => {
  const uri = new URL(otpauthUri({ issuer: 'Tollgate (auth.example.com)', account: 'ada@example.com', key: Buffer.from('foobar') }));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname.slice(1)), 'Tollgate (auth.example.com):ada@example.com');
  assert.ok(!uri.search.includes('+'), 'spaces are %20');
  assert.equal(uri.searchParams.get('secret'), 'MZXW6YTBOI');
  assert.equal(uri.searchParams.get('issuer'), 'Tollgate (auth.example.com)');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
  assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
});
