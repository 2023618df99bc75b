// RFC 9068 JWT access tokens: issued for one grant and one resource; verified by signature, issuer, audience,
// expiry, and the grant still standing.
import type { Config } from '../config/config.ts';
import { randomToken } from '../util/ids.ts';
import type { SigningKeys } from './keys.ts';
import type { GrantsService } from './grants.ts';
import { decodeJwt, signJwt, verifyEs256 } from './jwt.ts';
import { canonicalizeResource, issuerFor, parseResource } from './resource.ts';

export interface AccessTokenInput {
  grantId: string;
  userId: string;
  clientId: string;
  workspaceId: string;
  workspaceSlug: string;
  /** Canonical resource URL: becomes `aud`. */
  resource: string;
  scopes: string[];
  /** Every resource the token is for, when more than one (`resource` first); `aud` is then an array. */
  audience?: string[];
  /** The generation of the refresh token issued with it (0, the code's, is left out of the token). */
  refreshGeneration?: number;
}

export interface VerifiedAccessToken {
  userId: string;
  clientId: string;
  workspaceId: string;
  workspaceSlug: string;
  grantId: string;
  scopes: string[];
  resource: string;
  expiresAt: number;
  jti: string;
  /** The `gen` claim: using the token proves its client received the refresh token of that generation. */
  refreshGeneration: number;
}

export type VerifyResult = { ok: true; token: VerifiedAccessToken } | { ok: false; description: string };

const fail = (description: string): VerifyResult => ({ ok: false, description });

export function accessTokensService(config: Pick<Config, 'publicUrl' | 'issuerMode' | 'accessTokenTtlSeconds'>, keys: SigningKeys, grants: GrantsService) {
  return {
    async issueAccessToken(input: AccessTokenInput): Promise<{ accessToken: string; expiresIn: number; jti: string }> {
      const signer = await keys.activeSigner();
      const now = Math.floor(Date.now() / 1000);
      const jti = randomToken(16);
      const target = parseResource(config.publicUrl, input.resource);
      const payload = {
        iss: issuerFor(config, target?.kind === 'workspace' ? target.slug : undefined),
        sub: input.userId,
        aud: input.audience && input.audience.length > 1 ? input.audience : input.resource,
        client_id: input.clientId,
        scope: input.scopes.join(' '),
        iat: now,
        exp: now + config.accessTokenTtlSeconds,
        jti,
        workspace: input.workspaceSlug,
        workspace_id: input.workspaceId,
        gid: input.grantId,
        ...(input.refreshGeneration ? { gen: input.refreshGeneration } : {}),
      };
      // RFC 9068 §2.1: "typ" MUST be "at+jwt".
      const accessToken = signJwt({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid }, payload, signer.privateKey);
      return { accessToken, expiresIn: config.accessTokenTtlSeconds, jti };
    },

    /**
     * Checks a bearer token for the resource the request was made to. Any failure is the same to the client
     * (RFC 6750 §3.1 invalid_token); the description is for logs and the connection log.
     */
    async verifyAccessToken(token: string, expectedResource: string): Promise<VerifyResult> {
      const decoded = decodeJwt(token);
      if (!decoded) return fail('malformed token');
      // RFC 9068 §4: reject tokens whose typ is not at+jwt (an id token must not work as an access token).
      if (decoded.header.typ !== 'at+jwt' || decoded.header.alg !== 'ES256' || typeof decoded.header.kid !== 'string') return fail('not an access token');
      const key = await keys.publicKey(decoded.header.kid);
      if (!key) return fail('unknown signing key');
      if (!verifyEs256(decoded, key)) return fail('bad signature');
      const p = decoded.payload;
      const resource = canonicalizeResource(expectedResource);
      if (!resource) return fail('bad resource');
      const target = parseResource(config.publicUrl, resource);
      if (p.iss !== issuerFor(config, target?.kind === 'workspace' ? target.slug : undefined)) return fail('wrong issuer');
      // RFC 8707 / RFC 9068 §4: the audience must be this resource.
      const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
      if (!aud.includes(resource)) return fail('issued for another resource');
      if (typeof p.exp !== 'number' || p.exp * 1000 <= Date.now()) return fail('expired');
      if (typeof p.gid !== 'string' || typeof p.sub !== 'string' || typeof p.client_id !== 'string' || typeof p.workspace_id !== 'string') return fail('missing claims');
      const refreshGeneration = Number.isSafeInteger(p.gen) && (p.gen as number) > 0 ? (p.gen as number) : 0;
      if (!(await grants.isGrantActive(p.gid, refreshGeneration))) return fail('grant revoked');
      grants.touchGrant(p.gid);
      return {
        ok: true,
        token: {
          userId: p.sub,
          clientId: p.client_id,
          workspaceId: p.workspace_id,
          workspaceSlug: String(p.workspace ?? ''),
          grantId: p.gid,
          scopes: typeof p.scope === 'string' && p.scope ? p.scope.split(' ') : [],
          resource,
          expiresAt: p.exp * 1000,
          jti: String(p.jti ?? ''),
          refreshGeneration,
        },
      };
    },
  };
}

export type AccessTokens = ReturnType<typeof accessTokensService>;

/**
 * Verifies one of Tollgate's access tokens whatever resource it was issued for (introspection, revocation,
 * userinfo): the signature, issuer, expiry and grant are checked as for the resource named in its own `aud`.
 */
export async function verifyAnyAccessToken(accessTokens: AccessTokens, token: string): Promise<VerifyResult> {
  const decoded = decodeJwt(token);
  const aud = decoded?.payload.aud;
  const first = Array.isArray(aud) ? aud[0] : aud;
  if (typeof first !== 'string') return fail('malformed token');
  return accessTokens.verifyAccessToken(token, first);
}
