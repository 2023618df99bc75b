// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3): public clients name
// themselves with `client_id`; confidential ones prove it with their secret, by HTTP Basic or in the body.
import type { Context } from 'hono';
import type { OAuthClient } from './clients.ts';
import { OAuthError } from './errors.ts';

export interface ClientResolver {
  /** The client with this id (registered or a metadata document), undefined when unknown. */
  resolveClient(clientId: string): Promise<OAuthClient | undefined>;
  verifySecret(clientId: string, secret: string): Promise<boolean>;
}

export interface AuthenticatedClient {
  client: OAuthClient;
  method: 'none' | 'client_secret_basic' | 'client_secret_post';
}

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="tollgate", charset="UTF-8"' };

function parseBasic(header: string): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined.
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    return undefined;
  }
}

/** What client authentication reads of a request: its headers (a Hono Context is one). */
export interface RequestHeaders {
  req: { header(name: string): string | undefined };
}

/** Throws OAuthError(invalid_client, 401) or OAuthError(invalid_request) when the client is not who it says. */
export async function authenticateClient(c: Context | RequestHeaders, form: Record<string, string>, resolver: ClientResolver): Promise<AuthenticatedClient> {
  const header = c.req.header('authorization');
  let basic: { id: string; secret: string } | undefined;
  if (header && /^Basic\s/i.test(header)) {
    basic = parseBasic(header);
    if (!basic) throw new OAuthError('invalid_client', 'The Basic authorization header is malformed', 401, BASIC_CHALLENGE);
  }
  // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
  if (basic && form.client_secret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_secret in the body, not both');
  if (basic && form.client_id !== undefined && form.client_id !== basic.id) throw new OAuthError('invalid_request', 'client_id differs from the client in the Authorization header');
  const clientId = basic?.id ?? form.client_id;
  if (!clientId) throw new OAuthError('invalid_client', 'Client authentication is required: send client_id (and the secret of a confidential client)', 401);

  const client = await resolver.resolveClient(clientId);
  if (!client) throw new OAuthError('invalid_client', 'Unknown client', 401, basic ? BASIC_CHALLENGE : {});

  const secret = basic?.secret ?? form.client_secret;
  if (client.confidential) {
    if (!secret) throw new OAuthError('invalid_client', 'This client must authenticate with its client secret', 401, BASIC_CHALLENGE);
    if (!(await resolver.verifySecret(client.clientId, secret))) throw new OAuthError('invalid_client', 'Client authentication failed', 401, basic ? BASIC_CHALLENGE : {});
    return { client, method: basic ? 'client_secret_basic' : 'client_secret_post' };
  }
  if (secret) throw new OAuthError('invalid_client', 'This is a public client: it has no secret to send', 401);
  return { client, method: 'none' };
}
