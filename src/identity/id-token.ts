// Validating an OpenID Connect id_token (OpenID Connect Core §3.1.3.7) received from a provider's token endpoint.
// Pure: the caller hands in the keys it found for the token's `kid` (jwks.ts) and the values it expects.
import type { KeyObject } from 'node:crypto';
import { decodeJwt, verifyEs256, verifyRs256, type DecodedJwt } from '../oauth/index.ts';

export type IdTokenFailure =
  | 'malformed'
  | 'unsupported_alg'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_azp'
  | 'expired'
  | 'issued_in_future'
  | 'wrong_nonce'
  | 'no_subject';

export class IdTokenError extends Error {
  readonly reason: IdTokenFailure;
  constructor(reason: IdTokenFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The algorithms a provider's id_token may use; `none` and HMAC never (OpenID Connect Core §3.1.3.7 items 6–8). */
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const;

const MAX_ID_TOKEN_LENGTH = 65536;

export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  nonce: string;
  /** Seconds of clock difference tolerated on `exp` and `iat`. */
  skewSeconds: number;
  now?: number;
}

export interface IdTokenClaims {
  iss: string;
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  [claim: string]: unknown;
}

/** The header of an id_token, before its key is looked up; throws IdTokenError when it is not a usable JWS. */
export function readIdTokenHeader(token: string): { decoded: DecodedJwt; alg: (typeof ID_TOKEN_ALGS)[number]; kid: string | undefined } {
  // An id_token with many group claims (Entra sends up to 200 group ids) is larger than an access token.
  const decoded = decodeJwt(token, MAX_ID_TOKEN_LENGTH);
  if (!decoded) throw new IdTokenError('malformed', 'the id_token is not a compact JWS');
  const alg = decoded.header.alg;
  if (!ID_TOKEN_ALGS.includes(alg as never)) throw new IdTokenError('unsupported_alg', `the id_token is signed with ${String(alg).slice(0, 20)}, which Tollgate does not accept`);
  const kid = typeof decoded.header.kid === 'string' ? decoded.header.kid : undefined;
  return { decoded, alg: alg as (typeof ID_TOKEN_ALGS)[number], kid };
}

const verifies = (decoded: DecodedJwt, key: KeyObject): boolean => (decoded.header.alg === 'ES256' ? verifyEs256(decoded, key) : verifyRs256(decoded, key));

/** Checks the signature with one of `keys` and every claim Core §3.1.3.7 asks for; returns the claims. */
export function validateIdToken(decoded: DecodedJwt, keys: readonly KeyObject[], expect: IdTokenExpectations): IdTokenClaims {
  if (keys.length === 0) throw new IdTokenError('unknown_key', 'the provider publishes no key that matches the id_token');
  if (!keys.some((k) => verifies(decoded, k))) throw new IdTokenError('bad_signature', 'the id_token signature does not verify');
  const p = decoded.payload;
  // Core §3.1.3.7 item 2: iss must exactly match the issuer of the provider's discovery document.
  if (p.iss !== expect.issuer) throw new IdTokenError('wrong_issuer', 'the id_token was issued by another provider');
  // Item 3: aud must contain our client_id; item 4–5: with several audiences, azp must be there and be us.
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (!aud.includes(expect.clientId)) throw new IdTokenError('wrong_audience', 'the id_token was issued to another client');
  if ((aud.length > 1 || p.azp !== undefined) && p.azp !== expect.clientId) throw new IdTokenError('wrong_azp', 'the id_token names another authorized party');
  const now = Math.floor((expect.now ?? Date.now()) / 1000);
  // Item 9: the current time must be before exp; item 10: iat within a small skew.
  if (typeof p.exp !== 'number' || now > p.exp + expect.skewSeconds) throw new IdTokenError('expired', 'the id_token has expired');
  if (typeof p.iat !== 'number' || p.iat > now + expect.skewSeconds) throw new IdTokenError('issued_in_future', 'the id_token was issued in the future');
  // Item 11: the nonce sent in the authentication request must come back unchanged (replay protection).
  if (typeof p.nonce !== 'string' || p.nonce !== expect.nonce) throw new IdTokenError('wrong_nonce', 'the id_token does not belong to this sign-in (nonce mismatch)');
  if (typeof p.sub !== 'string' || p.sub.length === 0 || p.sub.length > 255) throw new IdTokenError('no_subject', 'the id_token names no subject');
  return p as IdTokenClaims;
}
