import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, createHmac, type KeyObject } from 'node:crypto';
import { signJwt } from '../oauth/jwt.ts';
import { IdTokenError, readIdTokenHeader, validateIdToken, type IdTokenFailure } from './id-token.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ISS = 'https://idp.example.com';
const now = Math.floor(Date.now() / 1000);
const good = { iss: ISS, sub: 'u1', aud: 'tollgate', nonce: 'n-1', iat: now, exp: now + 300, email: 'a@example.com' };
const expect = { issuer: ISS, clientId: 'tollgate', nonce: 'n-1', skewSeconds: 60 };

function check(token: string, keys: KeyObject[], overrides: Partial<typeof expect> = {}) {
  const { decoded } = readIdTokenHeader(token);
  return validateIdToken(decoded, keys, { ...expect, ...overrides });
}
function refused(fn: () => unknown, reason: IdTokenFailure) {
  assert.throws(fn, (e: unknown) => e instanceof IdTokenError && e.reason === reason, reason);
}

test('RS256 and ES256 id_tokens with the right claims validate', () => {
  assert.equal(check(signJwt({ alg: 'RS256', kid: 'r' }, good, rsa.privateKey), [rsa.publicKey]).sub, 'u1');
  assert.equal(check(signJwt({ alg: 'ES256', kid: 'e' }, good, ec.privateKey), [ec.publicKey]).email, 'a@example.com');
  // Several audiences: azp must name us (Core §3.1.3.7 items 4–5).
  assert.equal(check(signJwt({ alg: 'ES256', kid: 'e' }, { ...good, aud: ['tollgate', 'api'], azp: 'tollgate' }, ec.privateKey), [ec.publicKey]).sub, 'u1');
});

test('each claim check refuses a token that fails it', () => {
  const es = (claims: Record<string, unknown>) => signJwt({ alg: 'ES256', kid: 'e' }, claims, ec.privateKey);
  refused(() => check(es({ ...good, iss: 'https://evil.example' }), [ec.publicKey]), 'wrong_issuer');
  refused(() => check(es({ ...good, iss: `${ISS}/` }), [ec.publicKey]), 'wrong_issuer');
  refused(() => check(es({ ...good, aud: 'someone-else' }), [ec.publicKey]), 'wrong_audience');
  refused(() => check(es({ ...good, aud: ['tollgate', 'api'] }), [ec.publicKey]), 'wrong_azp');
  refused(() => check(es({ ...good, azp: 'api' }), [ec.publicKey]), 'wrong_azp');
  refused(() => check(es({ ...good, exp: now - 120 }), [ec.publicKey]), 'expired');
  refused(() => check(es({ ...good, exp: undefined }), [ec.publicKey]), 'expired');
  refused(() => check(es({ ...good, iat: now + 600 }), [ec.publicKey]), 'issued_in_future');
  refused(() => check(es({ ...good, nonce: 'n-2' }), [ec.publicKey]), 'wrong_nonce');
  refused(() => check(es({ ...good, nonce: undefined }), [ec.publicKey]), 'wrong_nonce');
  refused(() => check(es({ ...good, sub: '' }), [ec.publicKey]), 'no_subject');
  // Within the skew: a token that expired 30 s ago still passes with 60 s tolerance.
  assert.equal(check(es({ ...good, exp: now - 30 }), [ec.publicKey]).sub, 'u1');
});

test('signatures: another key, no key, a swapped algorithm, none and HMAC are refused', () => {
  const token = signJwt({ alg: 'ES256', kid: 'e' }, good, ec.privateKey);
  refused(() => check(token, [other.publicKey]), 'bad_signature');
  refused(() => check(token, []), 'unknown_key');
  refused(() => check(token, [rsa.publicKey]), 'bad_signature');
  const [h, p] = token.split('.');
  const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`;
  refused(() => readIdTokenHeader(none), 'unsupported_alg');
  // HS256 with the public key as the "secret": the classic algorithm-confusion attack.
  const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'e' })).toString('base64url');
  const pem = ec.publicKey.export({ type: 'spki', format: 'pem' });
  const mac = createHmac('sha256', createSecretKey(Buffer.from(pem))).update(`${hsHeader}.${p}`).digest('base64url');
  refused(() => readIdTokenHeader(`${hsHeader}.${p}.${mac}`), 'unsupported_alg');
  refused(() => readIdTokenHeader(`${h}.${p}`), 'malformed');
  refused(() => readIdTokenHeader('not a jwt'), 'malformed');
  // A payload changed after signing.
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...good, sub: 'admin' })).toString('base64url')}.${token.split('.')[2]}`;
  refused(() => check(forged, [ec.publicKey]), 'bad_signature');
});
