// The authorization server's HTTP endpoints. The browser-facing /authorize and consent pages are mounted by the web
// module (src/web/consent.ts), on top of oauth/authorize.ts.
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { EndpointRoute } from '../http/endpoint.ts';
import { oauthCors } from './cors.ts';
import { issuerForPath, notFoundError, type OAuthEndpointDeps } from './endpoint-helpers.ts';
import { handleClientDelete } from './client-management.ts';
import { handleIntrospection } from './introspect.ts';
import { handleDeviceAuthorization } from './device-authorization.ts';
import type { IssuerContext } from './issuers.ts';
import { authorizationServerMetadata, openIdConfiguration } from './metadata.ts';
import { handleRegistration } from './register.ts';
import { handleRevocation } from './revoke.ts';
import { tokenRoute } from './token.ts';
import { handleUserinfo } from './userinfo.ts';

const METADATA_CACHE = 'public, max-age=300';

/** The authorization server's routes in the endpoint table (served by both HTTP adapters). */
export function oauthRoutes(deps: OAuthEndpointDeps): EndpointRoute<unknown>[] {
  return [tokenRoute(deps) as EndpointRoute<unknown>];
}

/** The rest of the authorization server's endpoints, on Hono. */
export function mountOAuth(app: Hono<AppEnv>, services: OAuthEndpointDeps): void {
  const cors = oauthCors();
  for (const path of [
    '/.well-known/oauth-authorization-server',
    '/.well-known/oauth-authorization-server/*',
    '/.well-known/openid-configuration',
    '/.well-known/openid-configuration/*',
    '/.well-known/jwks.json',
    '/:ws/.well-known/openid-configuration',
  ]) app.use(path, cors);
  for (const name of ['register', 'token', 'revoke', 'introspect', 'userinfo', 'device_authorization']) {
    app.use(`/${name}`, cors);
    app.use(`/:ws/${name}`, cors);
  }

  app.get('/.well-known/jwks.json', async (c) => {
    c.header('Cache-Control', 'public, max-age=300');
    return c.json(await services.oauth.keys.jwks());
  });

  // RFC 8414 §3: root issuer metadata at the root; a workspace issuer's by path insertion. OpenID Connect Discovery
  // §4: `<issuer>/.well-known/openid-configuration`, plus the path-inserted form some clients try.
  const metadata = (kind: 'oauth' | 'oidc') => async (c: Context<AppEnv>) => {
    const ctx = await issuerForPath(services, c.req.param('ws'));
    if (!ctx) throw notFoundError(c);
    c.header('Cache-Control', METADATA_CACHE);
    return c.json(kind === 'oauth' ? authorizationServerMetadata(services.config, ctx) : openIdConfiguration(services.config, ctx));
  };
  app.get('/.well-known/oauth-authorization-server', metadata('oauth'));
  app.get('/.well-known/oauth-authorization-server/:ws', metadata('oauth'));
  app.get('/.well-known/openid-configuration', metadata('oidc'));
  app.get('/.well-known/openid-configuration/:ws', metadata('oidc'));
  app.get('/:ws/.well-known/openid-configuration', metadata('oidc'));

  // The JSON endpoints (the token endpoint is in the endpoint table), for the root issuer and (workspace mode) each workspace issuer.
  const endpoint = (handler: (c: Context<AppEnv>, services: OAuthEndpointDeps, ctx: IssuerContext) => Promise<Response>) => async (c: Context<AppEnv>) => {
    const ctx = await issuerForPath(services, c.req.param('ws'));
    if (!ctx) throw notFoundError(c);
    return handler(c, services, ctx);
  };
  for (const prefix of ['', '/:ws']) {
    app.post(`${prefix}/register`, endpoint((c, s) => handleRegistration(c, s)));
    app.delete(`${prefix}/register/:client_id`, endpoint((c, s) => handleClientDelete(c, s)));
    app.post(`${prefix}/revoke`, endpoint((c, s) => handleRevocation(c, s)));
    app.post(`${prefix}/device_authorization`, endpoint(handleDeviceAuthorization));
    app.post(`${prefix}/introspect`, endpoint((c, s) => handleIntrospection(c, s)));
    app.get(`${prefix}/userinfo`, endpoint((c, s) => handleUserinfo(c, s)));
    app.post(`${prefix}/userinfo`, endpoint((c, s) => handleUserinfo(c, s)));
  }
}
