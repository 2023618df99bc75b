// Requests to the authorization server's token and revocation endpoints.
import type { AuthorizationServerMetadata } from './discovery.ts';
import type { ClientAuthMethod, ClientRegistration, TokenSet } from './credential-store.ts';
import { ClientError, httpFetch, oauthError, readJsonObject } from './http.ts';

/** RFC 6749 §2.3.1: client_id and secret are form-urlencoded before they are joined and base64-encoded. */
function basicAuthorization(clientId: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return 'Basic ' + Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64');
}

/**
 * The token endpoint authentication to use: what the registration says, else (with a secret) Basic, then post,
 * as the server supports; a public client sends its client_id in the body (RFC 6749 §3.2.1).
 */
export function chooseAuthMethod(registered: string | undefined, hasSecret: boolean, supported: string[] | undefined): ClientAuthMethod {
  const known = (m: string | undefined): m is ClientAuthMethod => m === 'none' || m === 'client_secret_basic' || m === 'client_secret_post';
  const list = supported ?? [];
  if (known(registered) && (registered === 'none' || hasSecret) && (!list.length || list.includes(registered))) return registered;
  if (!hasSecret) return 'none';
  if (!list.length || list.includes('client_secret_basic')) return 'client_secret_basic';
  if (list.includes('client_secret_post')) return 'client_secret_post';
  if (list.includes('none')) return 'none';
  return 'client_secret_basic';
}

export function applyClientAuth(client: ClientRegistration, headers: Headers, params: URLSearchParams): void {
  if (client.authMethod === 'client_secret_basic' && client.clientSecret) {
    headers.set('authorization', basicAuthorization(client.clientId, client.clientSecret));
    return;
  }
  params.set('client_id', client.clientId);
  if (client.authMethod === 'client_secret_post' && client.clientSecret) params.set('client_secret', client.clientSecret);
}

/**
 * A pre-registered client's secret method is not known to the CLI (`--client-id`/`--client-secret` say nothing of
 * it), and a server authenticates a client only by the method it registered (RFC 7591 §2). So when the first guess
 * is answered 401 invalid_client, the other secret method is tried once; the one that works is kept on `client`
 * (and saved with the credentials), so later requests use it at once.
 */
function otherSecretMethod(client: ClientRegistration): ClientAuthMethod | undefined {
  if (client.source !== 'pre-registered' || !client.clientSecret) return undefined;
  if (client.authMethod === 'client_secret_basic') return 'client_secret_post';
  if (client.authMethod === 'client_secret_post') return 'client_secret_basic';
  return undefined;
}

export async function postForm(endpoint: string, client: ClientRegistration, params: URLSearchParams): Promise<Response> {
  const send = (authMethod: ClientAuthMethod) => {
    const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    const form = new URLSearchParams(params);
    applyClientAuth({ ...client, authMethod }, headers, form);
    return httpFetch(endpoint, { method: 'POST', headers, body: form.toString(), redirect: 'error' });
  };
  const res = await send(client.authMethod);
  const other = otherSecretMethod(client);
  if (res.status !== 401 || !other) return res;
  const refused = (await res.clone().json().catch(() => undefined)) as { error?: unknown } | undefined;
  if (refused?.error !== 'invalid_client') return res;
  const retry = await send(other);
  if (retry.status === 401) {
    await retry.body?.cancel().catch(() => {});
    return res;
  }
  client.authMethod = other;
  return retry;
}

export function parseTokenResponse(body: Record<string, unknown> | undefined, previousRefreshToken?: string): TokenSet {
  if (!body || typeof body.access_token !== 'string' || !body.access_token) throw new ClientError('The token endpoint answered without an access_token');
  const tokenType = typeof body.token_type === 'string' ? body.token_type : 'Bearer';
  if (tokenType.toLowerCase() !== 'bearer') throw new ClientError(`The token endpoint issued a ${tokenType} token; only Bearer tokens are supported`);
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : typeof body.expires_in === 'string' ? Number(body.expires_in) : NaN;
  const now = Date.now();
  return {
    accessToken: body.access_token,
    tokenType: 'Bearer',
    // RFC 6749 §6: without a new refresh token in the answer, the old one stays valid.
    refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : previousRefreshToken,
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : undefined,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
    obtainedAt: now,
  };
}

export async function exchangeCode(input: {
  metadata: AuthorizationServerMetadata;
  client: ClientRegistration;
  code: string;
  redirectUri: string;
  codeVerifier: string;
  resource?: string;
}): Promise<TokenSet> {
  const params = new URLSearchParams({ grant_type: 'authorization_code', code: input.code, redirect_uri: input.redirectUri, code_verifier: input.codeVerifier });
  // RFC 8707 §2.2: the same resource as in the authorization request, so the token is audience-bound.
  if (input.resource) params.set('resource', input.resource);
  const res = await postForm(input.metadata.token_endpoint, input.client, params);
  if (!res.ok) throw await oauthError('The token endpoint', res);
  return parseTokenResponse(await readJsonObject(res));
}

export async function refreshTokens(input: { metadata: AuthorizationServerMetadata; client: ClientRegistration; refreshToken: string; resource?: string }): Promise<TokenSet> {
  const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: input.refreshToken });
  if (input.resource) params.set('resource', input.resource);
  const res = await postForm(input.metadata.token_endpoint, input.client, params);
  if (!res.ok) throw await oauthError('The token endpoint', res);
  return parseTokenResponse(await readJsonObject(res), input.refreshToken);
}

/** RFC 7009 §2.1. True when the server confirmed (200); an unsupported token type or a network failure is false. */
export async function revokeToken(input: { metadata: AuthorizationServerMetadata; client: ClientRegistration; token: string; hint: 'refresh_token' | 'access_token' }): Promise<boolean> {
  if (!input.metadata.revocation_endpoint) return false;
  try {
    const res = await postForm(input.metadata.revocation_endpoint, input.client, new URLSearchParams({ token: input.token, token_type_hint: input.hint }));
    await res.body?.cancel().catch(() => {});
    return res.ok;
  } catch {
    return false;
  }
}
