// Token revocation (RFC 7009). Revoking an access or a refresh token ends the whole grant, so the next MCP request
// with any of its tokens fails. Unknown tokens, and tokens of other clients, get the same 200 (§2.2), and nothing is
// revoked for a client that does not own the token.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { OAuthEndpointDeps } from './endpoint-helpers.ts';
import { verifyAnyAccessToken } from './access-tokens.ts';
import { authenticateClient } from './client-auth.ts';
import { readOAuthForm } from './endpoint-helpers.ts';
import { NO_STORE, OAuthError } from './errors.ts';
import type { Grant } from './grants.ts';

export async function handleRevocation(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<Response> {
  const form = await readOAuthForm(c);
  const { client } = await authenticateClient(c, form, services.oauth);
  if (!form.token) throw new OAuthError('invalid_request', 'token is required');
  const grant = await findGrantOfToken(services, form.token, form.token_type_hint);
  if (grant && grant.clientId === client.clientId) {
    if (await services.oauth.grants.revokeGrant(grant.id, 'revoked by the client')) {
      await services.oauth.clientEvents.record({ clientId: client.clientId, workspaceId: grant.workspaceId, kind: 'revoked', requestId: c.get('requestId'), detail: 'the client revoked its grant' });
    }
  }
  return c.body(null, 200, NO_STORE);
}

/** The grant a refresh or access token belongs to (the hint only orders the lookups, RFC 7009 §2.1). */
export async function findGrantOfToken(services: OAuthEndpointDeps, token: string, hint?: string): Promise<Grant | undefined> {
  const asRefresh = async () => {
    const row = await services.oauth.refreshTokens.findRefreshToken(token);
    return row ? services.oauth.grants.getGrant(row.grant_id) : undefined;
  };
  const asAccess = async () => {
    const v = await verifyAnyAccessToken(services.oauth.accessTokens, token);
    return v.ok ? services.oauth.grants.getGrant(v.token.grantId) : undefined;
  };
  return hint === 'access_token' ? ((await asAccess()) ?? (await asRefresh())) : ((await asRefresh()) ?? (await asAccess()));
}
