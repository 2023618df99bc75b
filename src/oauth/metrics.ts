// Authorization-server metrics. Every label comes from a fixed set (grant types Tollgate serves, RFC 6749 error
// codes, registration outcomes).
import { counter } from '../observability/metrics.ts';

export const oauthMetrics = {
  /** Access tokens issued, by grant type: `authorization_code` (a sign-in) or `refresh_token` (a refresh). */
  tokensIssued: counter('tollgate_oauth_tokens_issued_total', 'Access tokens issued by the token endpoint, by grant type (refresh_token = refreshed).', ['grant_type']),
  /** Token requests refused with an RFC 6749 §5.2 error. */
  tokenErrors: counter('tollgate_oauth_token_errors_total', 'Token requests refused, by RFC 6749 error code.', ['error']),
  /** RFC 9700 §4.14.2 refresh-token reuse (the grant is revoked), and authorization-code replays. */
  replays: counter('tollgate_oauth_replays_detected_total', 'Refresh-token reuse and authorization-code replays detected (each revokes its grant).', ['kind']),
  registrations: counter('tollgate_oauth_registrations_total', 'Dynamic client registrations (RFC 7591), by outcome.', ['outcome']),
};

const TOKEN_ERRORS = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'invalid_target', 'server_error']);
/** An error code as a label: the RFC 6749 codes as they are, anything else `other`. */
export const tokenErrorLabel = (code: string): string => (TOKEN_ERRORS.has(code) ? code : 'other');

// Known series start at 0, so that a dashboard's rate() sees the first event.
for (const g of ['authorization_code', 'refresh_token', 'client_credentials', 'jwt_bearer', 'device_code']) oauthMetrics.tokensIssued.child(g);
for (const k of ['refresh_token', 'authorization_code']) oauthMetrics.replays.child(k);
for (const o of ['created', 'invalid', 'rate_limited']) oauthMetrics.registrations.child(o);
