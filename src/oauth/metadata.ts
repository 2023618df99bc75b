// RFC 8414 authorization server metadata and the OpenID Connect discovery document, for one issuer.
import type { IssuerConfig, IssuerContext } from './issuers.ts';
import { endpointUrl } from './issuers.ts';
import { SUPPORTED_SCOPES } from './scopes.ts';
import { TOKEN_ENDPOINT_AUTH_METHODS, TOKEN_ENDPOINT_AUTH_METHODS_ACCEPTED } from './client-metadata.ts';
import { SUPPORTED_GRANT_TYPES } from './token.ts';

export function authorizationServerMetadata(config: IssuerConfig, ctx: IssuerContext): Record<string, unknown> {
  return {
    issuer: ctx.issuer,
    authorization_endpoint: endpointUrl(ctx, 'authorize'),
    token_endpoint: endpointUrl(ctx, 'token'),
    registration_endpoint: endpointUrl(ctx, 'register'),
    revocation_endpoint: endpointUrl(ctx, 'revoke'),
    introspection_endpoint: endpointUrl(ctx, 'introspect'),
    userinfo_endpoint: endpointUrl(ctx, 'userinfo'),
    // RFC 8628 §4: the device authorization grant; its verification page is /device.
    device_authorization_endpoint: endpointUrl(ctx, 'device_authorization'),
    jwks_uri: `${config.publicUrl}/.well-known/jwks.json`,
    scopes_supported: [...SUPPORTED_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // client_credentials (RFC 6749 §4.4) for machine clients; the JWT bearer grant (RFC 7523 §2.1) for ID-JAG.
    grant_types_supported: [...SUPPORTED_GRANT_TYPES],
    // MCP enterprise-managed authorization §6 (ID-JAG draft §7.2): the identity assertion grant profile is accepted.
    authorization_grant_profiles_supported: ['urn:ietf:params:oauth:grant-profile:id-jag'],
    code_challenge_methods_supported: ['S256'],
    // `none` must be listed, or clients that use client ID metadata documents will not use them.
    token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS_ACCEPTED],
    // RFC 8414 §2: required when private_key_jwt is listed.
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256'],
    revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    client_id_metadata_document_supported: true,
    // RFC 9207: every authorization response, errors included, carries `iss`.
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${config.publicUrl}/`,
  };
}

/** OpenID Connect Discovery 1.0 §3: the same server, plus the members an OpenID Provider must publish. */
export function openIdConfiguration(config: IssuerConfig, ctx: IssuerContext): Record<string, unknown> {
  return {
    ...authorizationServerMetadata(config, ctx),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'azp', 'email', 'email_verified', 'name', 'preferred_username'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}
