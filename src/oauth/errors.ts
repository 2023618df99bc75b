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
  | 'authorization_pending'
  | 'access_denied'
  | 'expired_token';

export class OAuthError extends HttpError {
  constructor(error: OAuthErrorCode, description: string, status: ContentfulStatusCode = 400, headers: Record<string, string> = {}) {
    super(status, error, description, { ...NO_STORE, ...headers });
  }
}
