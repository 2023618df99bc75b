// RFC 8628 device login for `tollgate mcp login --device`: ask the authorization server for a user code, show it with
// the page to enter it on (on any device with a browser), and poll the token endpoint as the server asks.
import type { AuthorizationServerMetadata } from './discovery.ts';
import type { ClientRegistration, TokenSet } from './credential-store.ts';
import { ClientError, displayUrl, OAuthResponseError, oauthError, readJsonObject } from './http.ts';
import { parseTokenResponse, postForm } from './token-client.ts';
import type { Progress } from './progress.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  expiresIn: number;
  interval: number;
}

export async function requestDeviceAuthorization(input: { metadata: AuthorizationServerMetadata; client: ClientRegistration; scope?: string; resource?: string }): Promise<DeviceAuthorization> {
  const endpoint = input.metadata.device_authorization_endpoint;
  if (!endpoint) throw new ClientError(`The authorization server ${input.metadata.issuer} offers no device login (no device_authorization_endpoint); sign in without --device`);
  const params = new URLSearchParams();
  if (input.scope) params.set('scope', input.scope);
  // RFC 8707 with RFC 8628: the resource names the MCP server the token is for.
  if (input.resource) params.set('resource', input.resource);
  const res = await postForm(endpoint, input.client, params);
  if (!res.ok) throw await oauthError('The device authorization endpoint', res);
  const body = await readJsonObject(res);
  const str = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : undefined);
  const num = (k: string, fallback: number) => (typeof body?.[k] === 'number' && Number.isFinite(body[k]) && (body[k] as number) > 0 ? (body[k] as number) : fallback);
  const deviceCode = str('device_code');
  const userCode = str('user_code');
  const verificationUri = str('verification_uri');
  if (!deviceCode || !userCode || !verificationUri) throw new ClientError('The device authorization endpoint answered without device_code, user_code and verification_uri');
  return { deviceCode, userCode, verificationUri, verificationUriComplete: str('verification_uri_complete'), expiresIn: num('expires_in', 600), interval: num('interval', 5) };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(new ClientError('Device login cancelled'))), { once: true });
  });

/**
 * Polls until the user decides. RFC 8628 §3.5: `authorization_pending` means keep polling at the interval;
 * `slow_down` means add 5 s to it for good; `access_denied` and `expired_token` end the login.
 */
export async function pollForDeviceToken(input: { metadata: AuthorizationServerMetadata; client: ClientRegistration; device: DeviceAuthorization; progress: Progress; signal?: AbortSignal; intervalScale?: number }): Promise<TokenSet> {
  let interval = input.device.interval;
  const deadline = Date.now() + input.device.expiresIn * 1000;
  const scale = input.intervalScale ?? 1000;
  for (;;) {
    await sleep(interval * scale, input.signal);
    if (Date.now() > deadline) throw new ClientError('The device code expired before it was approved; run the login again');
    const res = await postForm(input.metadata.token_endpoint, input.client, new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: input.device.deviceCode }));
    if (res.ok) return parseTokenResponse(await readJsonObject(res));
    const err = await oauthError('The token endpoint', res);
    if (!(err instanceof OAuthResponseError)) throw err;
    if (err.error === 'authorization_pending') continue;
    if (err.error === 'slow_down') {
      interval += 5;
      input.progress.note(`The server asked to poll more slowly: every ${interval} s.`);
      continue;
    }
    if (err.error === 'access_denied') throw new ClientError(`The sign-in was denied at ${displayUrl(input.device.verificationUri)}`);
    if (err.error === 'expired_token') throw new ClientError('The device code expired before it was approved; run the login again');
    throw err;
  }
}
