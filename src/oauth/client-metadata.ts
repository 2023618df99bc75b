// Client metadata (RFC 7591 §2), validated the same way whether it arrives by dynamic registration, from an operator
// or in a client ID metadata document. Tolerant where real clients differ, strict where security depends on it.
import { OAuthError } from './errors.ts';
import { judgeRedirectUri, type RedirectJudgement } from './redirect-uris.ts';
import { SUPPORTED_SCOPES } from './scopes.ts';

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
/** The methods a client may register itself with (RFC 7591) or a metadata document may use. */
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];
/** Every method the token endpoint accepts: `private_key_jwt` is for machine clients an operator creates. */
export const TOKEN_ENDPOINT_AUTH_METHODS_ACCEPTED: readonly TokenEndpointAuthMethod[] = [...TOKEN_ENDPOINT_AUTH_METHODS, 'private_key_jwt'];
export type IdTokenAlg = 'RS256' | 'ES256';

export interface ClientMetadata {
  clientName: string;
  redirectUris: string[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  applicationType: 'native' | 'web';
  grantTypes: string[];
  scope: string | null;
  /** The other registered members returned to the client (client_uri, logo_uri, contacts, …). */
  extra: Record<string, unknown>;
}

export interface ValidatedMetadata {
  metadata: ClientMetadata;
  /** Redirect URIs that were refused, with the reason (the good ones were kept). */
  refused: { uri: string; reason: string }[];
}

const MAX_NAME = 200;
const URI_MEMBERS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;
const STRING_MEMBERS = ['software_id', 'software_version'] as const;

// eslint-disable-next-line no-control-regex
const clean = (s: string, max: number): string => s.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);

function webUri(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 2048) return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? v : undefined;
  } catch {
    return undefined;
  }
}

function defaultName(redirectUris: string[], extra: Record<string, unknown>): string {
  const from = (typeof extra.client_uri === 'string' && extra.client_uri) || redirectUris[0];
  try {
    const u = new URL(from);
    return u.host ? `App at ${u.host}` : `App (${u.protocol}//)`;
  } catch {
    return 'Unnamed app';
  }
}

export interface ValidateOptions {
  /** RFC 7591 §2: when omitted the default is `client_secret_basic`; documents and operators may choose another. */
  defaultAuthMethod?: TokenEndpointAuthMethod;
  /** Client ID metadata documents may not use shared secrets; the method is chosen by `chooseCimdAuthMethod`. */
  authMethod?: TokenEndpointAuthMethod;
}

/** Throws OAuthError(invalid_redirect_uri | invalid_client_metadata) when the metadata cannot be registered. */
export function validateClientMetadata(body: Record<string, unknown>, options: ValidateOptions = {}): ValidatedMetadata {
  // A missing application_type means native (OpenID Connect Registration defaults to web; MCP clients are mostly native).
  const applicationType = body.application_type === 'web' ? 'web' : 'native';

  if (!Array.isArray(body.redirect_uris) || body.redirect_uris.length === 0) {
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris must be a non-empty array of URIs');
  }
  if (body.redirect_uris.length > 20) throw new OAuthError('invalid_redirect_uri', 'At most 20 redirect URIs may be registered');
  const judged: RedirectJudgement[] = body.redirect_uris.map((u) => judgeRedirectUri(u, applicationType));
  const redirectUris = [...new Set(judged.filter((j) => j.ok).map((j) => j.uri))];
  const refused = judged.filter((j): j is Extract<RedirectJudgement, { ok: false }> => !j.ok).map((j) => ({ uri: j.uri, reason: j.reason }));
  if (redirectUris.length === 0) {
    throw new OAuthError('invalid_redirect_uri', `No acceptable redirect URI: ${refused.map((r) => `${r.uri.slice(0, 100)} (${r.reason})`).join('; ')}`.slice(0, 500));
  }

  let tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  if (options.authMethod) tokenEndpointAuthMethod = options.authMethod;
  else if (body.token_endpoint_auth_method === undefined) tokenEndpointAuthMethod = options.defaultAuthMethod ?? 'client_secret_basic';
  else if (TOKEN_ENDPOINT_AUTH_METHODS.includes(body.token_endpoint_auth_method as TokenEndpointAuthMethod)) {
    tokenEndpointAuthMethod = body.token_endpoint_auth_method as TokenEndpointAuthMethod;
  } else {
    throw new OAuthError('invalid_client_metadata', `token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(', ')}`);
  }

  if (body.response_types !== undefined && !(Array.isArray(body.response_types) && body.response_types.includes('code'))) {
    throw new OAuthError('invalid_client_metadata', 'response_types must include "code"');
  }
  if (body.grant_types !== undefined && !(Array.isArray(body.grant_types) && body.grant_types.includes('authorization_code'))) {
    throw new OAuthError('invalid_client_metadata', 'grant_types must include "authorization_code"');
  }

  const extra: Record<string, unknown> = {};
  for (const m of URI_MEMBERS) {
    const v = webUri(body[m]);
    if (v) extra[m] = v;
  }
  for (const m of STRING_MEMBERS) if (typeof body[m] === 'string') extra[m] = clean(body[m] as string, 200);
  if (Array.isArray(body.contacts)) {
    const contacts = body.contacts.filter((c): c is string => typeof c === 'string').slice(0, 5).map((c) => clean(c, 200));
    if (contacts.length) extra.contacts = contacts;
  }
  if (body.id_token_signed_response_alg === 'ES256' || body.id_token_signed_response_alg === 'RS256') extra.id_token_signed_response_alg = body.id_token_signed_response_alg;

  let scope: string | null = null;
  if (typeof body.scope === 'string') {
    const asked = new Set(body.scope.trim().split(/\s+/));
    const known = SUPPORTED_SCOPES.filter((s) => asked.has(s));
    scope = known.length ? known.join(' ') : null;
  }

  const name = typeof body.client_name === 'string' ? clean(body.client_name, MAX_NAME) : '';
  return {
    metadata: {
      clientName: name || defaultName(redirectUris, extra),
      redirectUris,
      tokenEndpointAuthMethod,
      applicationType,
      grantTypes: ['authorization_code', 'refresh_token'],
      scope,
      extra,
    },
    refused,
  };
}
