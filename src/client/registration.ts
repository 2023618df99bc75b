// Which client identity to use with an authorization server, in the order the MCP authorization spec gives:
// pre-registered credentials, then a client ID metadata document (when configured and supported), then
// dynamic client registration (RFC 7591).
import type { AuthorizationServerMetadata } from './discovery.ts';
import type { ClientRegistration } from './credential-store.ts';
import { ClientError, httpFetch, oauthError, readJsonObject } from './http.ts';
import { chooseAuthMethod } from './token-client.ts';

export const CLIENT_NAME = 'Tollgate CLI';

export interface ClientConfig {
  clientId?: string;
  clientSecret?: string;
  clientMetadataUrl?: string;
}

/** The identity to use before any dynamic registration, or undefined when dynamic registration is next. */
export function configuredClient(config: ClientConfig, metadata: AuthorizationServerMetadata, redirectUri: string): ClientRegistration | undefined {
  const now = new Date().toISOString();
  if (config.clientId) {
    return {
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      authMethod: chooseAuthMethod(undefined, !!config.clientSecret, metadata.token_endpoint_auth_methods_supported),
      redirectUris: [redirectUri],
      source: 'pre-registered',
      registeredAt: now,
    };
  }
  // Client ID Metadata Documents: the document's URL is the client_id; it is a public client ("none").
  if (config.clientMetadataUrl && metadata.client_id_metadata_document_supported) {
    return { clientId: config.clientMetadataUrl, authMethod: 'none', redirectUris: [redirectUri], source: 'metadata-document', registeredAt: now };
  }
  return undefined;
}

/** RFC 7591 §3.1 registration as a native public client. */
export async function registerClient(metadata: AuthorizationServerMetadata, redirectUri: string): Promise<ClientRegistration> {
  if (!metadata.registration_endpoint) {
    throw new ClientError(
      `The authorization server ${metadata.issuer} does not offer dynamic client registration; register a client there and add the server with --client-id (and --client-secret)`,
    );
  }
  const supported = metadata.token_endpoint_auth_methods_supported;
  // A public client: "none" (RFC 7591 §2), unless the server says it only takes confidential clients.
  const requested = !supported?.length || supported.includes('none') ? 'none' : supported.includes('client_secret_basic') ? 'client_secret_basic' : 'client_secret_post';
  const res = await httpFetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({
      client_name: CLIENT_NAME,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: requested,
      // RFC 8252 / OIDC Registration: a native app with a loopback redirect.
      application_type: 'native',
      software_id: 'tollgate-cli',
      software_version: '0.1.0',
    }),
    redirect: 'error',
  });
  if (res.status !== 201 && res.status !== 200) throw await oauthError('Client registration', res);
  const body = await readJsonObject(res);
  if (!body || typeof body.client_id !== 'string' || !body.client_id) throw new ClientError('Client registration answered without a client_id');
  const secret = typeof body.client_secret === 'string' && body.client_secret ? body.client_secret : undefined;
  const registeredUris = Array.isArray(body.redirect_uris) ? body.redirect_uris.filter((u): u is string => typeof u === 'string') : [redirectUri];
  return {
    clientId: body.client_id,
    clientSecret: secret,
    authMethod: chooseAuthMethod(typeof body.token_endpoint_auth_method === 'string' ? body.token_endpoint_auth_method : undefined, !!secret, supported),
    redirectUris: registeredUris.length ? registeredUris : [redirectUri],
    source: 'dynamic',
    registeredAt: new Date().toISOString(),
  };
}
