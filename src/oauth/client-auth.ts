// Client authentication at the token, revocation, introspection and device authorization endpoints (RFC 6749 §2.3):
// public clients name themselves with `client_id`; confidential ones prove it with their secret, by HTTP Basic or in
// the body, or with a JWT signed by a key they registered (RFC 7523 §2.2, `private_key_jwt`) — each client only by
// the `token_endpoint_auth_method` it registered (RFC 7591 §2).
import type { Context } from 'hono';
import type { OAuthClient } from './clients.ts';
import { OAuthError } from './errors.ts';
import { checkAssertion } from './jwt-assertions.ts';
import { parseJwks, verifyWithJwks } from './jwks.ts';
import type { UsedJtis } from './used-jtis.ts';

export interface ClientResolver {
  /** The client with this id (registered or a metadata document), undefined when unknown. */
  resolveClient(clientId: string): Promise<OAuthClient | undefined>;
  verifySecret(clientId: string, secret: string): Promise<boolean>;
  /** Where the `jti` of each client assertion is claimed, once. */
  usedJtis: Pick<UsedJtis, 'claim'>;
  /** The `aud` values a client assertion may carry when the endpoint names none of its own (the root issuer's). */
  clientAssertionAudiences: readonly string[];
}

export interface AuthenticatedClient {
  client: OAuthClient;
  method: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
}

export interface AuthenticateOptions {
  /** RFC 7523 §3 item 3: the values that identify this authorization server in a client assertion's `aud`. */
  assertionAudiences?: readonly string[];
}

/** RFC 7521 §4.2 / RFC 7523 §2.2: the only client assertion type accepted. */
export const JWT_CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

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
export async function authenticateClient(c: Context | RequestHeaders, form: Record<string, string>, resolver: ClientResolver, options: AuthenticateOptions = {}): Promise<AuthenticatedClient> {
  const header = c.req.header('authorization');
  if (form.client_assertion !== undefined || form.client_assertion_type !== undefined) {
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
    if ((header && /^Basic\s/i.test(header)) || form.client_secret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method: a client assertion, or a client secret, not both');
    return authenticateByAssertion(form, resolver, options.assertionAudiences ?? resolver.clientAssertionAudiences);
  }
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

  // RFC 7591 §2 (token_endpoint_auth_method) and OAuth 2.1 §2.5: a client is authenticated only by the method it
  // registered. RFC 6749 §5.2: a client that tried the Authorization header is answered with a Basic challenge.
  const challenge = basic ? BASIC_CHALLENGE : {};
  const registered = client.tokenEndpointAuthMethod;
  if (registered === 'private_key_jwt') {
    throw new OAuthError('invalid_client', 'This client authenticates with a signed client assertion (private_key_jwt, RFC 7523)', 401, challenge);
  }
  if (registered === 'none') {
    // A public client has no secret: an Authorization header or a client_secret parameter is not its method.
    if (basic || form.client_secret !== undefined) throw new OAuthError('invalid_client', 'This is a public client (token_endpoint_auth_method "none"): it has no secret to send; send client_id alone', 401, challenge);
    return { client, method: 'none' };
  }
  const used = basic ? 'client_secret_basic' : form.client_secret !== undefined ? 'client_secret_post' : undefined;
  if (!used) throw new OAuthError('invalid_client', `This client must authenticate with its client secret (${registered})`, 401, BASIC_CHALLENGE);
  if (used !== registered) {
    const how = registered === 'client_secret_basic' ? 'in the Authorization header (HTTP Basic)' : 'as client_secret in the request body';
    throw new OAuthError('invalid_client', `This client is registered for ${registered}: send its secret ${how}, not by ${used}`, 401, basic || registered === 'client_secret_basic' ? BASIC_CHALLENGE : {});
  }
  const secret = basic ? basic.secret : form.client_secret;
  if (!secret || !(await resolver.verifySecret(client.clientId, secret))) throw new OAuthError('invalid_client', 'Client authentication failed', 401, challenge);
  return { client, method: used };
}

/** RFC 7523 §3: the client assertion's claims, its signature by one of the client's registered keys, its one use. */
async function authenticateByAssertion(form: Record<string, string>, resolver: ClientResolver, audiences: readonly string[]): Promise<AuthenticatedClient> {
  const refuse = (why: string) => new OAuthError('invalid_client', `Client assertion refused: ${why}`, 401);
  if (form.client_assertion_type !== JWT_CLIENT_ASSERTION_TYPE) throw refuse(`client_assertion_type must be ${JWT_CLIENT_ASSERTION_TYPE}`);
  if (!form.client_assertion) throw refuse('client_assertion is empty');
  const checked = checkAssertion(form.client_assertion, { audiences });
  if (!checked.ok) throw refuse(checked.reason);
  const { iss, sub } = checked.payload;
  // RFC 7523 §3 items 1–2: iss and sub are both the client_id.
  if (typeof iss !== 'string' || !iss || iss !== sub) throw refuse('iss and sub must both be the client_id');
  if (form.client_id !== undefined && form.client_id !== sub) throw refuse('client_id differs from the assertion\'s sub');
  const client = await resolver.resolveClient(sub);
  if (!client) throw new OAuthError('invalid_client', 'Unknown client', 401);
  if (client.tokenEndpointAuthMethod !== 'private_key_jwt') throw refuse('this client is not registered for private_key_jwt');
  let jwks;
  try {
    jwks = parseJwks(client.extra.jwks);
  } catch {
    throw refuse('the client has no usable registered keys');
  }
  if (!verifyWithJwks(checked.decoded, jwks)) throw refuse('the signature does not verify with the client\'s registered keys');
  // RFC 7523 §3 item 7: a replayed assertion (same jti) is refused; checked after the signature so strangers cannot burn jtis.
  if (!(await resolver.usedJtis.claim(`client:${client.clientId}`, checked.jti, checked.expiresAt))) throw refuse('this assertion was already used (jti replay)');
  return { client, method: 'private_key_jwt' };
}
