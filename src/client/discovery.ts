// Discovery: from an MCP server URL to its protected-resource metadata and its authorization server's metadata,
// trying the union of what real clients try, and checking what must be checked (resource, issuer, PKCE).
import { bearerChallenge, type BearerChallenge } from './www-authenticate.ts';
import { authorizationServerMetadataUrls, protectedResourceMetadataUrls, resourceCoversServer, type MetadataKind } from './well-known.ts';
import { CLIENT_PROTOCOL_VERSION, ClientError, assertSecureEndpoint, displayUrl, httpFetch, readJsonObject } from './http.ts';

export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint?: string;
  revocation_endpoint?: string;
  /** RFC 8628 §4. */
  device_authorization_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported?: string[];
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  code_challenge_methods_supported?: string[];
  client_id_metadata_document_supported?: boolean;
  authorization_response_iss_parameter_supported?: boolean;
}

export interface ProtectedResource {
  metadataUrl: string;
  resource: string;
  authorizationServers: string[];
  scopesSupported?: string[];
}

export interface AuthorizationServer {
  issuer: string;
  /** Where the metadata was found; undefined for the 2025-03-26 default endpoints. */
  metadataUrl?: string;
  kind?: MetadataKind;
  metadata: AuthorizationServerMetadata;
}

export interface Discovery {
  serverUrl: string;
  challenge?: BearerChallenge;
  /** Undefined for a server from before RFC 9728 (MCP 2025-03-26): its origin is the authorization server. */
  protectedResource?: ProtectedResource;
  authorizationServer: AuthorizationServer;
  /** The RFC 8707 `resource` to send, exactly as the protected-resource metadata publishes it. */
  resource?: string;
  /** Every URL tried, with what came back, for `--verbose` and error messages. */
  attempts: { url: string; result: string }[];
}

const metadataHeaders = { accept: 'application/json', 'mcp-protocol-version': CLIENT_PROTOCOL_VERSION };

/** An unauthenticated `initialize`, as every client starts: the 401 (if any) carries the challenge. */
export async function probeServer(serverUrl: string): Promise<{ status: number; challenge?: BearerChallenge }> {
  const res = await httpFetch(serverUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': CLIENT_PROTOCOL_VERSION },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: CLIENT_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'tollgate', version: '0.1.0' } },
    }),
  });
  await res.body?.cancel().catch(() => {});
  return { status: res.status, challenge: res.status === 401 || res.status === 403 ? bearerChallenge(res.headers.get('www-authenticate')) : undefined };
}

const stringArray = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

export async function discoverProtectedResource(serverUrl: string, challenge: BearerChallenge | undefined, attempts: Discovery['attempts']): Promise<ProtectedResource | undefined> {
  for (const url of protectedResourceMetadataUrls(serverUrl, challenge?.resourceMetadata)) {
    let res: Response;
    try {
      res = await httpFetch(url, { headers: metadataHeaders, timeoutMs: 15_000 });
    } catch (err) {
      attempts.push({ url, result: (err as Error).message });
      continue;
    }
    if (!res.ok) {
      attempts.push({ url, result: `${res.status}` });
      await res.body?.cancel().catch(() => {});
      continue;
    }
    const body = await readJsonObject(res);
    if (!body || typeof body.resource !== 'string') {
      attempts.push({ url, result: 'not protected-resource metadata' });
      continue;
    }
    attempts.push({ url, result: '200' });
    // RFC 9728 §3.3: metadata for another resource must not be used (it could send our sign-in elsewhere).
    if (!resourceCoversServer(body.resource, serverUrl)) {
      throw new ClientError(
        `The protected-resource metadata at ${displayUrl(url)} is for ${body.resource}, not ${serverUrl}; refusing to sign in (RFC 9728 §3.3)`,
      );
    }
    const servers = stringArray(body.authorization_servers) ?? [];
    if (!servers.length) throw new ClientError(`The protected-resource metadata at ${displayUrl(url)} names no authorization server`);
    return { metadataUrl: url, resource: body.resource, authorizationServers: servers, scopesSupported: stringArray(body.scopes_supported) };
  }
  return undefined;
}

function parseMetadata(body: Record<string, unknown>): AuthorizationServerMetadata {
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  return {
    issuer: str('issuer') ?? '',
    authorization_endpoint: assertSecureEndpoint('authorization_endpoint', body.authorization_endpoint),
    token_endpoint: assertSecureEndpoint('token_endpoint', body.token_endpoint),
    registration_endpoint: body.registration_endpoint === undefined ? undefined : assertSecureEndpoint('registration_endpoint', body.registration_endpoint),
    revocation_endpoint: body.revocation_endpoint === undefined ? undefined : assertSecureEndpoint('revocation_endpoint', body.revocation_endpoint),
    device_authorization_endpoint: body.device_authorization_endpoint === undefined ? undefined : assertSecureEndpoint('device_authorization_endpoint', body.device_authorization_endpoint),
    scopes_supported: stringArray(body.scopes_supported),
    response_types_supported: stringArray(body.response_types_supported),
    grant_types_supported: stringArray(body.grant_types_supported),
    token_endpoint_auth_methods_supported: stringArray(body.token_endpoint_auth_methods_supported),
    code_challenge_methods_supported: stringArray(body.code_challenge_methods_supported),
    client_id_metadata_document_supported: body.client_id_metadata_document_supported === true,
    authorization_response_iss_parameter_supported: body.authorization_response_iss_parameter_supported === true,
  };
}

/** Finds and checks the metadata of the authorization server `issuer`. */
export async function discoverAuthorizationServer(issuer: string, attempts: Discovery['attempts'], options: { legacyOrigin?: boolean } = {}): Promise<AuthorizationServer> {
  for (const candidate of authorizationServerMetadataUrls(issuer)) {
    let res: Response;
    try {
      res = await httpFetch(candidate.url, { headers: metadataHeaders, timeoutMs: 15_000 });
    } catch (err) {
      attempts.push({ url: candidate.url, result: (err as Error).message });
      continue;
    }
    if (!res.ok) {
      attempts.push({ url: candidate.url, result: `${res.status}` });
      await res.body?.cancel().catch(() => {});
      continue;
    }
    const body = await readJsonObject(res);
    if (!body) {
      attempts.push({ url: candidate.url, result: 'not JSON' });
      continue;
    }
    attempts.push({ url: candidate.url, result: '200' });
    // RFC 8414 §3.3 (and OIDC Discovery §4.3): the issuer in the document must be identical to the one the URL
    // was built from; compared byte for byte, no normalisation.
    if (body.issuer !== issuer && !(options.legacyOrigin && typeof body.issuer === 'string' && body.issuer.replace(/\/$/, '') === issuer.replace(/\/$/, ''))) {
      if (candidate.rule === 'root' && new URL(issuer).pathname.replace(/\/+$/, '')) continue; // another issuer's document
      throw new ClientError(
        `The authorization server metadata at ${displayUrl(candidate.url)} says issuer ${JSON.stringify(body.issuer)}, but it was looked up for ${JSON.stringify(issuer)}; refusing it (RFC 8414 §3.3)`,
      );
    }
    const metadata = parseMetadata(body);
    checkPkceSupport(metadata, candidate.url);
    return { issuer: metadata.issuer, metadataUrl: candidate.url, kind: candidate.kind, metadata };
  }
  if (options.legacyOrigin) {
    // MCP 2025-03-26 §2.3.3: without metadata, the default endpoints sit at the server's origin.
    const origin = new URL(issuer).origin;
    return {
      issuer: origin,
      metadata: { issuer: origin, authorization_endpoint: `${origin}/authorize`, token_endpoint: `${origin}/token`, registration_endpoint: `${origin}/register`, code_challenge_methods_supported: ['S256'] },
    };
  }
  throw new ClientError(`No authorization server metadata for ${issuer} (tried ${attempts.map((a) => `${displayUrl(a.url)} → ${a.result}`).join(', ')})`);
}

/** MCP 2025-11-25 "Authorization Code Protection": without S256 in the metadata, clients must refuse to proceed. */
function checkPkceSupport(metadata: AuthorizationServerMetadata, url: string): void {
  if (!metadata.code_challenge_methods_supported?.includes('S256')) {
    throw new ClientError(`The authorization server (${displayUrl(url)}) does not advertise PKCE S256 in code_challenge_methods_supported; refusing to sign in`);
  }
}

/** The whole discovery for one server, from an optional 401 challenge. */
export async function discover(serverUrl: string, challenge: BearerChallenge | undefined): Promise<Discovery> {
  const attempts: Discovery['attempts'] = [];
  const protectedResource = await discoverProtectedResource(serverUrl, challenge, attempts);
  if (!protectedResource) {
    const authorizationServer = await discoverAuthorizationServer(new URL(serverUrl).origin, attempts, { legacyOrigin: true });
    return { serverUrl, challenge, authorizationServer, attempts };
  }
  const issuer = protectedResource.authorizationServers[0];
  const authorizationServer = await discoverAuthorizationServer(issuer, attempts);
  return { serverUrl, challenge, protectedResource, authorizationServer, resource: protectedResource.resource, attempts };
}
