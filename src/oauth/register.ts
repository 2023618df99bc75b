// Dynamic client registration (RFC 7591). Open, because clients such as claude.ai register on every connection;
// so it is cheap, rate limited per IP, and clients that never complete a grant are garbage-collected.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { readJsonObject } from '../http/body.ts';
import { HttpError } from '../http/errors.ts';
import type { OAuthEndpointDeps } from './endpoint-helpers.ts';
import { clientIp } from './client-ip.ts';
import { validateClientMetadata } from './client-metadata.ts';
import { clientManagementFields } from './client-management.ts';
import { clientMetadataResponse } from './clients.ts';
import { NO_STORE, OAuthError, rateLimited } from './errors.ts';
import { oauthMetrics } from './metrics.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

const RATE_WINDOW_S = 60;

export async function handleRegistration(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<Response> {
  try {
    return await register(c, services);
  } catch (err) {
    oauthMetrics.registrations.child(err instanceof HttpError && err.status === 429 ? 'rate_limited' : err instanceof OAuthError || err instanceof HttpError ? 'invalid' : 'failed').inc();
    throw err;
  }
}

async function register(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<Response> {
  await enforceRateLimit(c, services);
  const body = await readMetadataBody(c);
  const { metadata, refused } = validateClientMetadata(body);
  const { client, clientSecret, registrationAccessToken } = await services.oauth.clients.createClient(metadata, 'dynamic');
  await services.oauth.clientEvents.record({
    clientId: client.clientId,
    kind: 'registered',
    requestId: c.get('requestId'),
    detail: `dynamic registration of "${client.name}"${refused.length ? `; refused redirect URIs: ${refused.map((r) => `${r.uri.slice(0, 80)} (${r.reason})`).join('; ')}` : ''}`,
  });
  c.get('log').info({ clientId: client.clientId, refusedRedirectUris: refused.length }, 'client registered');
  void services.oauth.runMaintenance();
  // RFC 7591 §3.2.1: 201 with the registered metadata; the secret is shown this once and stored hashed.
  // RFC 7592 §3: plus where and with what token the client can delete itself.
  const management = await clientManagementFields(c, services, client, registrationAccessToken);
  oauthMetrics.registrations.child('created').inc();
  return c.json({ ...clientMetadataResponse(client), ...(clientSecret ? { client_secret: clientSecret, client_secret_expires_at: 0 } : {}), ...management }, 201, NO_STORE);
}

async function enforceRateLimit(c: Context<AppEnv>, services: OAuthEndpointDeps): Promise<void> {
  const hits = await services.oauth.throttle.hit(`dcr:ip:${clientIp(c, services.config.trustedProxyHops)}`, RATE_WINDOW_S);
  if (hits > services.config.dcrRatePerMinute) {
    countRateLimited('registration');
    throw rateLimited('Too many client registrations from this address; try again shortly', services.oauth.throttle.retryAfter(RATE_WINDOW_S));
  }
}

async function readMetadataBody(c: Context): Promise<Record<string, unknown>> {
  try {
    return await readJsonObject(c);
  } catch (err) {
    // RFC 7591 §3.2.2: a body that is not client metadata is invalid_client_metadata.
    if (err instanceof HttpError && (err.status === 400 || err.status === 415)) throw new OAuthError('invalid_client_metadata', err.message);
    throw err;
  }
}
