// The claim checks every JWT presented to the token endpoint as proof shares, whether it authenticates a client
// (RFC 7523 §3, private_key_jwt) or is the grant itself (the ID-JAG of enterprise-managed authorization).
import { decodeJwt, type DecodedJwt, type JwtPayload } from './jwt.ts';

/** Clock difference tolerated between Tollgate and the signer. */
export const CLOCK_SKEW_S = 60;
/**
 * A one-time JWT living longer than this (exp − iat, or exp − now without iat) is refused: its `jti` would have to be
 * remembered that long. One issued longer ago than this (plus the clock skew) is refused too.
 */
export const MAX_ASSERTION_LIFETIME_S = 600;

export type AssertionCheck = { ok: true; decoded: DecodedJwt; payload: JwtPayload; expiresAt: number; jti: string } | { ok: false; reason: string };

export interface AssertionExpectations {
  /** `typ` the header must carry (exactly, case-insensitively as RFC 7515 §4.1.9 allows), or undefined for any. */
  typ?: string;
  /** The values of which `aud` must contain one (RFC 7523 §3 item 3). */
  audiences: readonly string[];
  now?: number;
}

const fail = (reason: string): AssertionCheck => ({ ok: false, reason });
const seconds = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Decodes a compact JWS and checks `typ`, `aud`, `exp`, `nbf`, `iat` and that a `jti` is present. Not the signature. */
export function checkAssertion(token: string, expect: AssertionExpectations): AssertionCheck {
  const decoded = decodeJwt(token);
  if (!decoded) return fail('the assertion is not a signed JWT (compact JWS)');
  const { header, payload } = decoded;
  if (expect.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toLowerCase() !== expect.typ.toLowerCase())) {
    return fail(`the assertion's typ must be ${expect.typ}`);
  }
  // RFC 8725 §3.1: the algorithm is ours to choose, never `none` or a symmetric one.
  if (header.alg !== 'ES256' && header.alg !== 'RS256') return fail('the assertion must be signed with ES256 or RS256');
  const now = (expect.now ?? Date.now()) / 1000;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.some((a) => typeof a === 'string' && expect.audiences.includes(a))) return fail(`the assertion's aud must be ${expect.audiences[0]}`);
  const exp = seconds(payload.exp);
  // RFC 7523 §3 item 4: "The JWT MUST contain an exp claim"; expired JWTs are rejected.
  if (exp === undefined) return fail('the assertion has no exp');
  if (exp + CLOCK_SKEW_S <= now) return fail('the assertion has expired');
  if (exp - now > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) return fail(`the assertion must expire within ${MAX_ASSERTION_LIFETIME_S} s`);
  const nbf = seconds(payload.nbf);
  if (payload.nbf !== undefined && (nbf === undefined || nbf - CLOCK_SKEW_S > now)) return fail('the assertion is not valid yet (nbf)');
  // RFC 7523 §3 item 6: iat is when the JWT was issued. Its lifetime is exp − iat (both on the signer's clock), so an
  // assertion issued long ago with a far exp is refused even though exp − now looks short.
  const iat = seconds(payload.iat);
  if (payload.iat !== undefined) {
    if (iat === undefined) return fail('the assertion\'s iat is not a number of seconds');
    if (iat - CLOCK_SKEW_S > now) return fail('the assertion was issued in the future (iat)');
    if (now - iat > MAX_ASSERTION_LIFETIME_S + CLOCK_SKEW_S) return fail(`the assertion was issued too long ago (iat more than ${MAX_ASSERTION_LIFETIME_S} s in the past)`);
    if (exp - iat > MAX_ASSERTION_LIFETIME_S) return fail(`the assertion must expire within ${MAX_ASSERTION_LIFETIME_S} s of its iat`);
  }
  // RFC 7523 §3 item 7: a jti lets the server refuse a replayed JWT; Tollgate requires one.
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 255) return fail('the assertion needs a jti (at most 255 characters)');
  return { ok: true, decoded, payload, expiresAt: Math.ceil((exp + CLOCK_SKEW_S) * 1000), jti: payload.jti };
}
