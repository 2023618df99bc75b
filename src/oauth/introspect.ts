// Token introspection (RFC 7662) for authenticated confidential clients, about their own tokens. Anything else —
// unknown, expired, revoked, or another client's token — is just `{"active": false}` (§2.2).
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { OAuthEndpointDeps } from './endpoint-helpers.ts';
import { verifyAnyAccessToken } from './access-tokens.ts';
import { authenticateClient } from './client-auth.ts';
import { readOAuthForm } from './endpoint-helpers.ts';
import { NO_STORE, OAuthError } from './errors.ts';
import { grantAudience, issuerForResource } from './issuers.ts';

export async function handleIntrospection(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<Response> {
  const form = await readOAuthForm(c);
  const { client } = await authenticateClient(c, form, services.oauth);
  // RFC 7662 §2.1: the endpoint requires authorization; here, a client secret.
  if (!client.confidential) throw new OAuthError('invalid_client', 'Introspection is available to confidential clients (with a client secret) only', 401);
  if (!form.token) throw new OAuthError('invalid_request', 'token is required');
  const inactive = () => c.json({ active: false }, 200, NO_STORE);

  const access = await verifyAnyAccessToken(services.oauth.accessTokens, form.token);
  if (access.ok) {
    const t = access.token;
    if (t.clientId !== client.clientId) return inactive();
    const grant = await services.oauth.grants.getGrant(t.grantId);
    return c.json(
      {
        active: true,
        token_type: 'Bearer',
        scope: t.scopes.join(' '),
        client_id: t.clientId,
        sub: t.userId,
        aud: grant ? grantAudience(services.config, grant.resource, grant.resourceImplicit) : [t.resource],
        iss: issuerForResource(services.config, t.resource),
        exp: Math.floor(t.expiresAt / 1000),
        jti: t.jti,
        workspace: t.workspaceSlug,
      },
      200,
      NO_STORE,
    );
  }

  const refresh = await services.oauth.refreshTokens.findRefreshToken(form.token);
  const grant = refresh && (await services.oauth.grants.getGrant(refresh.grant_id));
  const usable = refresh && grant && grant.revokedAt === null && refresh.expires_at > Date.now() && refresh.rotated_at === null;
  if (!usable || grant.clientId !== client.clientId) return inactive();
  return c.json(
    {
      active: true,
      token_type: 'refresh_token',
      scope: grant.scopes.join(' '),
      client_id: grant.clientId,
      sub: grant.userId,
      aud: grantAudience(services.config, grant.resource, grant.resourceImplicit),
      iss: issuerForResource(services.config, grant.resource),
      exp: Math.floor(refresh.expires_at / 1000),
      iat: Math.floor(refresh.created_at / 1000),
    },
    200,
    NO_STORE,
  );
}
