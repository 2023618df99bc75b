// A real key pair that signs JWTs in a test: a machine client's private_key_jwt assertions, an enterprise identity
// provider's identity assertions. Only the public half is ever given to Tollgate.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { signJwt, type JwtPayload } from '../../src/oauth/jwt.ts';

export interface TestSigner {
  kid: string;
  alg: 'ES256' | 'RS256';
  /** The public JWK Set to register. */
  jwks: { keys: Record<string, unknown>[] };
  sign(payload: JwtPayload, header?: { typ?: string; kid?: string; alg?: string }): string;
}

export function testSigner(alg: 'ES256' | 'RS256' = 'ES256'): TestSigner {
  const { publicKey, privateKey } = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = { ...(publicKey as KeyObject).export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return {
    kid,
    alg,
    jwks: { keys: [jwk] },
    sign: (payload, header = {}) => signJwt({ alg, kid, ...header } as { alg: 'ES256'; kid: string; typ?: string }, payload, privateKey),
  };
}

/** An unsigned (`alg: none`) JWT, as an attacker would send it. */
export function unsignedJwt(payload: JwtPayload, header: Record<string, unknown> = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', ...header })}.${b64(payload)}.`;
}

export const nowS = (): number => Math.floor(Date.now() / 1000);
export const newJti = (): string => randomUUID();
