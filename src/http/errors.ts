import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../util/logger.ts';

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

/** What a 500 tells the client: nothing about the error, only how to report it. */
export const SERVER_ERROR_DESCRIPTION = 'An unexpected error occurred; quote the request id when reporting it';

/** What a 503 tells the client when a dependency (the database, Redis) cannot answer for the moment. */
export const UNAVAILABLE_DESCRIPTION = 'The service is temporarily unavailable; retry shortly';

/** The warning for a request answered 503 because a dependency is unavailable: the reason's code and message only. */
export function logUnavailable(logger: Logger, requestId: string, path: string, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown };
  logger.warn({ requestId, path, reason: { sqlstate: typeof e?.code === 'string' ? e.code : undefined, message: String(e?.message ?? '').slice(0, 200) } }, 'a dependency is unavailable; answered 503');
}

/** Logs an error no step turned into an answer: the error itself, with its request id (never the request's data). */
export function logUnhandled(logger: Logger, requestId: string | undefined, err: unknown): void {
  const e = err as Error;
  logger.error({ requestId, err: { name: e?.name, message: e?.message, stack: e?.stack } }, 'unhandled error');
}
