// RFC 6749 §5.2 error responses for the JSON endpoints. They go through the app's error handler, so every one
// carries the request id; `no-store` because a token endpoint response must never be cached (RFC 6749 §5.1).
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HttpError } from '../http/errors.ts';

export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'slow_down'
  | 'temporarily_unavailable'
  | 'authorization_pending'
  | 'access_denied'
  | 'expired_token';

export class OAuthError extends HttpError {
  constructor(error: OAuthErrorCode, description: string, status: ContentfulStatusCode = 400, headers: Record<string, string> = {}) {
    super(status, error, description, { ...NO_STORE, ...headers });
  }
}

/**
 * A rate-limited OAuth endpoint (registration, device authorization): 429 with `Retry-After` and an RFC 6749-shaped
 * body. The code is `temporarily_unavailable`, the registered OAuth error for "try again later"; `slow_down` is only
 * for polling the token endpoint with a device code (RFC 8628 §3.5), where it also means "raise your interval".
 */
export function rateLimited(description: string, retryAfterSeconds: number): OAuthError {
  return new OAuthError('temporarily_unavailable', description, 429, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
}
