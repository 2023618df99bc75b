// RFC 7592 client management for self-registered clients: the registration response carries a client configuration
// endpoint (`registration_client_uri`) and a registration access token, with which the client can delete itself
// (`DELETE <registration_client_uri>`). Tools that register throw-away clients (`tollgate doctor`) clean up this way.
// Reading and updating the registration (GET, PUT) are not offered.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { HttpError } from '../http/errors.ts';
import type { OAuthEndpointDeps } from './endpoint-helpers.ts';
import type { OAuthClient } from './clients.ts';
import { issuerForPath } from './endpoint-helpers.ts';
import { NO_STORE } from './errors.ts';
import { endpointUrl } from './issuers.ts';

/** The RFC 7592 §3 members added to a registration response; none without a token (not a self-registered client). */
export async function clientManagementFields(c: Context<AppEnv>, services: OAuthEndpointDeps, client: OAuthClient, registrationAccessToken: string | undefined): Promise<Record<string, string>> {
  if (!registrationAccessToken) return {};
  const ctx = await issuerForPath(services, c.req.param('ws'));
  if (!ctx) return {};
  return { registration_client_uri: clientConfigurationUri(endpointUrl(ctx, 'register'), client.clientId), registration_access_token: registrationAccessToken };
}

export const clientConfigurationUri = (registrationEndpoint: string, clientId: string): string => `${registrationEndpoint}/${encodeURIComponent(clientId)}`;

const invalidToken = (description: string, challenge: string) => new HttpError(401, 'invalid_token', description, { 'WWW-Authenticate': challenge, ...NO_STORE });

/** `DELETE <registration_client_uri>` (RFC 7592 §2.3): deletes the client and revokes its grants; 204. */
export async function handleClientDelete(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<Response> {
  const clientId = c.req.param('client_id') ?? '';
  const m = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(c.req.header('authorization') ?? '');
  // RFC 7592 §2 / RFC 6750 §3: the registration access token is a bearer token; without one, a bare challenge.
  if (!m) throw invalidToken('A registration access token is required (Authorization: Bearer …)', 'Bearer');
  // RFC 7592 §2.3: a token that is not this client's, or a client that no longer exists, is 401 invalid_token
  // (the same answer for both, so the endpoint tells nobody which client ids exist).
  if (!(await services.oauth.clients.verifyRegistrationAccessToken(clientId, m[1]))) {
    throw invalidToken('The registration access token is not valid for this client', 'Bearer error="invalid_token"');
  }
  await services.oauth.clients.deleteClient(clientId);
  c.get('log').info({ clientId }, 'client deleted with its registration access token');
  return c.body(null, 204, NO_STORE);
}
