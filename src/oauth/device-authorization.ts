// RFC 8628 §3.1–3.2: the device authorization endpoint. A client on a device without a browser (`tollgate mcp login
// --device`) gets a device code to poll with and a user code for the person to enter at /device.
import type { Context } from 'hono';
import type { AppEnv } from '../http/env.ts';
import { authenticateClient } from './client-auth.ts';
import { clientIp } from './client-ip.ts';
import { endpointUrl, resolveResource, type IssuerContext } from './issuers.ts';
import { readOAuthForm, type OAuthEndpointDeps } from './endpoint-helpers.ts';
import { formatUserCode } from './device-codes.ts';
import { NO_STORE, OAuthError, rateLimited } from './errors.ts';
import { isMachineClient } from './machine-clients.ts';
import { parseRequestedScopes } from './scopes.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

/** Device authorization requests per IP per minute: each one is a row and a code a person might be phished with. */
const DEVICE_REQUESTS_PER_MINUTE = 30;
const DEVICE_WINDOW_S = 60;

export async function handleDeviceAuthorization(c: Context<AppEnv>, services: OAuthEndpointDeps, ctx: IssuerContext): Promise<Response> {
  const form = await readOAuthForm(c);
  const hits = await services.oauth.throttle.hit(`device:ip:${clientIp(c, services.config.trustedProxyHops)}`, DEVICE_WINDOW_S);
  // Not slow_down: RFC 8628 §3.5 defines that for polling the token endpoint only. This answers as /register does.
  if (hits > DEVICE_REQUESTS_PER_MINUTE) {
    countRateLimited('device_authorization');
    throw rateLimited('Too many device authorization requests from this address; try again shortly', services.oauth.throttle.retryAfter(DEVICE_WINDOW_S));
  }
  // RFC 8628 §3.1: the client authenticates as it would at the token endpoint.
  const { client } = await authenticateClient(c, form, services.oauth, { assertionAudiences: [ctx.issuer, endpointUrl(ctx, 'token'), endpointUrl(ctx, 'device_authorization')] });
  if (isMachineClient(client)) throw new OAuthError('unauthorized_client', 'A machine client has no person to approve it: use client_credentials');
  const resolved = resolveResource(services.config, ctx, form.resource, services.oauth.resourceServers);
  if ('error' in resolved) throw new OAuthError('invalid_target', resolved.error);
  if (resolved.kind === 'workspace' && !(await services.accounts.workspaces.getWorkspaceBySlug(resolved.slug))) throw new OAuthError('invalid_target', 'workspace not found');
  const scopes = parseRequestedScopes(form.scope);
  const created = await services.oauth.deviceCodes.create({
    clientId: client.clientId,
    scopes,
    resource: resolved.resource,
    resourceImplicit: resolved.kind === 'pick' && resolved.implicit,
    issuer: ctx.issuer,
  });
  await services.oauth.clientEvents.record({ clientId: client.clientId, kind: 'authorize', requestId: c.get('requestId'), detail: `device authorization requested (resource ${resolved.resource ?? 'chosen on the /device page'})` });
  const verification = `${services.config.publicUrl}/device`;
  const userCode = formatUserCode(created.userCode);
  return c.json(
    {
      device_code: created.deviceCode,
      user_code: userCode,
      verification_uri: verification,
      // RFC 8628 §3.3.1: the code in the URL saves typing it; the page still shows it to compare with the device.
      verification_uri_complete: `${verification}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: created.expiresIn,
      interval: created.interval,
    },
    200,
    NO_STORE,
  );
}
