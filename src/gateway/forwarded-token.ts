// The identity Tollgate forwards to an upstream instead of the client's token (MCP security best practices: no
// token passthrough). A short-lived JWT signed with Tollgate's signing keys, verifiable against its JWKS:
// `aud` = the upstream, `sub`, the workspace, the client id, the scopes, the grant id, a `jti`. Signing costs more
// than the rest of a proxied call, so a token is reused for the same caller and upstream while more than half of
// its life is left.
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { signJwt } from '../oauth/jwt.ts';
import type { ToolContext } from '../tools/tool-types.ts';

export interface ForwardSigner {
  activeSigner(): Promise<{ kid: string; privateKey: KeyObject }>;
}

export const FORWARDED_TOKEN_TYPE = 'tollgate-forwarded+jwt';
/** `sub` of the tokens Tollgate sends on its own behalf (initialize, tools/list). */
export const GATEWAY_SUBJECT = 'tollgate:gateway';

export function forwardedTokens(signer: ForwardSigner, options: { issuer: string; ttlSeconds: number; cacheSize?: number }) {
  const max = options.cacheSize ?? 10_000;
  const cache = new Map<string, { token: string; reuseUntil: number }>();

  async function sign(audience: string, claims: Record<string, unknown>): Promise<string> {
    const { kid, privateKey } = await signer.activeSigner();
    const now = Math.floor(Date.now() / 1000);
    return signJwt({ alg: 'ES256', typ: FORWARDED_TOKEN_TYPE, kid }, { iss: options.issuer, aud: audience, iat: now, exp: now + options.ttlSeconds, jti: randomBytes(12).toString('base64url'), ...claims }, privateKey);
  }

  async function cached(key: string, make: () => Promise<string>): Promise<string> {
    const hit = cache.get(key);
    const now = Date.now();
    if (hit && hit.reuseUntil > now) return hit.token;
    const token = await make();
    if (cache.size >= max && !cache.has(key)) cache.delete(cache.keys().next().value as string);
    cache.set(key, { token, reuseUntil: now + (options.ttlSeconds * 1000) / 2 });
    return token;
  }

  return {
    /** For a call made on behalf of `ctx`'s caller. */
    forCaller(audience: string, ctx: ToolContext): Promise<string> {
      const scope = ctx.scopes.join(' ');
      return cached(`${audience}\n${ctx.grantId}\n${ctx.workspaceId}\n${scope}`, () =>
        sign(audience, { sub: ctx.userId, client_id: ctx.clientId, scope, workspace: ctx.workspaceSlug, workspace_id: ctx.workspaceId, gid: ctx.grantId }),
      );
    },
    /** For what Tollgate asks on its own behalf (initialize, tools/list). */
    forGateway(audience: string): Promise<string> {
      return cached(`${audience}\n`, () => sign(audience, { sub: GATEWAY_SUBJECT, scope: '' }));
    },
  };
}

export type ForwardedTokens = ReturnType<typeof forwardedTokens>;
