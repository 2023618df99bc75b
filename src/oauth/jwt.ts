// Compact JWS with ES256 (RFC 7515, RFC 7518 §3.4: the signature is the raw 64-byte r||s, not DER) and, for OpenID
// Connect id tokens, RS256 (RFC 7518 §3.3).
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export type JwtAlg = 'ES256' | 'RS256';
export type JwtHeader = { alg: JwtAlg; typ?: string; kid: string };
export type JwtPayload = Record<string, unknown>;

const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function signJwt(header: JwtHeader, payload: JwtPayload, privateKey: KeyObject): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const sig = sign('sha256', Buffer.from(input), header.alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return `${input}.${sig.toString('base64url')}`;
}

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: JwtPayload;
  signingInput: string;
  signature: Buffer;
}

/** Splits and parses a compact JWS without checking it; undefined when it is not one. */
export function decodeJwt(token: string, maxLength = 8192): DecodedJwt | undefined {
  if (token.length > maxLength) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

/** True when the ES256 signature verifies with the public key. */
export function verifyEs256(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  if (decoded.header.alg !== 'ES256' || decoded.signature.length !== 64 || publicKey.asymmetricKeyType !== 'ec') return false;
  return verify('sha256', Buffer.from(decoded.signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, decoded.signature);
}

/** True when an RS256 signature verifies with the public key. */
export function verifyRs256(decoded: DecodedJwt, publicKey: KeyObject): boolean {
  if (decoded.header.alg !== 'RS256' || publicKey.asymmetricKeyType !== 'rsa') return false;
  return verify('sha256', Buffer.from(decoded.signingInput), publicKey, decoded.signature);
}

export const publicKeyFromJwk = (jwk: Record<string, unknown>): KeyObject => createPublicKey({ key: jwk as never, format: 'jwk' });
