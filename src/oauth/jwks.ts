// JWK Sets (RFC 7517 §5) of parties Tollgate trusts to sign JWTs: a machine client's keys (private_key_jwt) and an
// enterprise identity provider's (ID-JAG). Only public ES256 and RS256 keys are used; a JWS names its key by `kid`.
import type { KeyObject } from 'node:crypto';
import { isObject } from '../util/json.ts';
import { publicKeyFromJwk, verifyEs256, verifyRs256, type DecodedJwt } from './jwt.ts';

export interface PublicJwk {
  kty: 'EC' | 'RSA';
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Parses a JWK Set, keeping its usable public signature keys (EC P-256 and RSA of at least 2048 bits). Throws an
 * Error with a reason safe to show when it is not a JWK Set, holds a private key, or has no usable key.
 */
export function parseJwks(value: unknown): { keys: PublicJwk[] } {
  if (!isObject(value) || !Array.isArray(value.keys)) throw new Error('a JWK Set is a JSON object with a "keys" array');
  if (value.keys.length > 20) throw new Error('a JWK Set may hold at most 20 keys');
  const keys: PublicJwk[] = [];
  for (const k of value.keys) {
    if (!isObject(k)) continue;
    // RFC 7517 §4: a public JWK Set never carries private members; one that does was published by mistake.
    if (PRIVATE_MEMBERS.some((m) => m in k)) throw new Error('the JWK Set contains a private key: publish only the public keys');
    if (k.use !== undefined && k.use !== 'sig') continue;
    if (k.kty === 'EC' && k.crv === 'P-256' && typeof k.x === 'string' && typeof k.y === 'string') keys.push(k as PublicJwk);
    else if (k.kty === 'RSA' && typeof k.n === 'string' && typeof k.e === 'string' && Buffer.from(k.n, 'base64url').length >= 256) keys.push(k as PublicJwk);
  }
  if (!keys.length) throw new Error('the JWK Set has no usable signing key (EC P-256 or RSA ≥ 2048 bits)');
  for (const k of keys) {
    try {
      publicKeyFromJwk(k);
    } catch {
      throw new Error(`the key ${typeof k.kid === 'string' ? k.kid.slice(0, 64) : '(without kid)'} is not a valid public key`);
    }
  }
  return { keys };
}

const keyAlg = (k: PublicJwk): 'ES256' | 'RS256' => (k.kty === 'EC' ? 'ES256' : 'RS256');

/**
 * The keys of the set that may have signed this JWS: its `alg` must be ES256 or RS256 (never `none`, never HMAC —
 * RFC 8725 §3.1), and its `kid`, when given, picks the key; without one, every key of that type is tried.
 */
export function candidateKeys(jwks: { keys: PublicJwk[] }, header: Record<string, unknown>): PublicJwk[] {
  const alg = header.alg;
  if (alg !== 'ES256' && alg !== 'RS256') return [];
  return jwks.keys.filter((k) => keyAlg(k) === alg && (k.alg === undefined || k.alg === alg) && (header.kid === undefined || k.kid === header.kid));
}

/** True when one of the set's keys verifies the JWS signature. */
export function verifyWithJwks(decoded: DecodedJwt, jwks: { keys: PublicJwk[] }): boolean {
  for (const jwk of candidateKeys(jwks, decoded.header)) {
    let key: KeyObject;
    try {
      key = publicKeyFromJwk(jwk);
    } catch {
      continue;
    }
    if (decoded.header.alg === 'ES256' ? verifyEs256(decoded, key) : verifyRs256(decoded, key)) return true;
  }
  return false;
}
