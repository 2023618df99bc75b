// OpenID Connect UserInfo (Core §5.3): the claims the access token's scopes release, for tokens granted `openid`.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { HttpError } from '../http/errors.ts';
import type { OAuthEndpointDeps } from './endpoint-helpers.ts';
import { verifyAnyAccessToken } from './access-tokens.ts';
import { NO_STORE } from './errors.ts';
import { userClaims } from './id-tokens.ts';

export async function handleUserinfo(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<Response> {
  const header = c.req.header('authorization') ?? '';
  const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(header);
  // RFC 6750 §3: no credentials → a bare challenge; a bad token → invalid_token.
  if (!m) throw new HttpError(401, 'invalid_token', 'A bearer access token is required', { 'WWW-Authenticate': 'Bearer', ...NO_STORE });
  const v = await verifyAnyAccessToken(services.oauth.accessTokens, m[1]);
  if (!v.ok) throw new HttpError(401, 'invalid_token', 'The access token is invalid', { 'WWW-Authenticate': 'Bearer error="invalid_token"', ...NO_STORE });
  if (!v.token.scopes.includes('openid')) {
    throw new HttpError(403, 'insufficient_scope', 'The access token was not granted the openid scope', { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="openid"', ...NO_STORE });
  }
  const user = await services.accounts.users.getUser(v.token.userId);
  if (!user) throw new HttpError(401, 'invalid_token', 'The access token is invalid', { 'WWW-Authenticate': 'Bearer error="invalid_token"', ...NO_STORE });
  return c.json(userClaims(user, v.token.scopes), 200, NO_STORE);
}
