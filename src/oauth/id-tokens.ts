// OpenID Connect id tokens (Core §2), issued when `openid` was granted. RS256 by default (Core §3.1.3.7 makes it
// the default), ES256 for clients that registered `id_token_signed_response_alg: "ES256"`.
import { createHash } from 'node:crypto';
import type { User } from '../accounts/index.ts';
import { signJwt, type JwtAlg } from './jwt.ts';
import type { SigningKeys } from './keys.ts';

export interface IdTokenInput {
  issuer: string;
  user: User;
  clientId: string;
  scopes: string[];
  nonce?: string | null;
  authTime: number;
  accessToken: string;
  alg: JwtAlg;
  ttlSeconds: number;
}

/** The claims the granted scopes release (Core §5.4), shared by id tokens and /userinfo. */
export function userClaims(user: User, scopes: readonly string[]): Record<string, unknown> {
  return {
    sub: user.id,
    ...(scopes.includes('email') ? { email: user.email, email_verified: user.emailVerified } : {}),
    ...(scopes.includes('profile') ? { name: user.name || user.email, preferred_username: user.email } : {}),
  };
}

export async function issueIdToken(keys: SigningKeys, input: IdTokenInput): Promise<string> {
  const signer = await keys.activeSigner(input.alg);
  const now = Math.floor(Date.now() / 1000);
  // Core §3.1.3.6: at_hash is the left half of the hash of the access token.
  const digest = createHash('sha256').update(input.accessToken).digest();
  return signJwt(
    { alg: input.alg, typ: 'JWT', kid: signer.kid },
    {
      iss: input.issuer,
      aud: input.clientId,
      azp: input.clientId,
      iat: now,
      exp: now + input.ttlSeconds,
      auth_time: Math.floor(input.authTime / 1000),
      at_hash: digest.subarray(0, 16).toString('base64url'),
      ...(input.nonce ? { nonce: input.nonce } : {}),
      ...userClaims(input.user, input.scopes),
    },
    signer.privateKey,
  );
}
