import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error whose message is safe to show the client; anything else becomes a generic 500. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly error: string;
  readonly headers: Record<string, string>;
  constructor(status: ContentfulStatusCode, error: string, description: string, headers: Record<string, string> = {}) {
    super(description);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

/** The JSON error body every endpoint uses: RFC 6749 §5.2 field names, plus the request id. */
export function jsonError(c: Context, status: ContentfulStatusCode, error: string, description: string, headers: Record<string, string> = {}): Response {
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  return c.json({ error, error_description: description, request_id: c.get('requestId') }, status);
}
