import { randomFillSync } from 'node:crypto';
import type { Context, MiddlewareHandler, ErrorHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../util/logger.ts';
import type { AppEnv } from './env.ts';
import { HttpError, jsonError, logUnhandled, SERVER_ERROR_DESCRIPTION } from './errors.ts';
import { requestIdFrom, requestLogger } from './fast-path.ts';

/** Every response carries `x-request-id`: the client's own when it sent a sane one, a fresh UUID otherwise. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  // The request line, as the node:http fast paths write it (src/http/fast-path.ts).
  const logRequest = requestLogger(logger);
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('log', logger.child({ requestId }));
    const started = performance.now();
    try {
      await next();
    } finally {
      c.res.headers.set('x-request-id', requestId);
      // The path only: a query string may carry codes or tokens.
      logRequest({ requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) });
    }
  };
}

// CSP nonces come from a pool of CSPRNG bytes filled 4 KiB at a time (as node's randomUUID does), not from a
// randomBytes call per request; each nonce's 16 bytes are used once.
const NONCE_BYTES = 16;
const noncePool = Buffer.alloc(4096);
let nonceOffset = noncePool.length;
function randomNonce(): string {
  if (nonceOffset + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  const nonce = noncePool.toString('base64', nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

/** Security headers; HTML additionally gets a strict CSP with a per-response script nonce. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const nonce = randomNonce();
    c.set('cspNonce', nonce);
    await next();
    const h = c.res.headers;
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('Referrer-Policy', 'no-referrer');
    if ((h.get('content-type') ?? '').startsWith('text/html')) {
      h.set(
        'Content-Security-Policy',
        `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; img-src 'self' data: https:; ` +
          `connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'`,
      );
      h.set('X-Frame-Options', 'DENY');
      h.set('Cache-Control', h.get('Cache-Control') ?? 'no-store');
    }
  };
}

/** Requests larger than the limit get 413 before a handler reads them. */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => jsonError(c as Context<AppEnv>, 413, 'request_too_large', `The request body exceeds ${maxBytes} bytes`),
  });
}

export const notFound: NotFoundHandler<AppEnv> = (c) => jsonError(c, 404, 'not_found', `No route for ${c.req.method} ${c.req.path}`);

/** Known errors keep their status and message; anything else is logged and answered as a bare 500. */
export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof HttpError) return jsonError(c, err.status, err.error, err.message, err.headers);
    const status = (err as { status?: number }).status;
    if (status === 413) return jsonError(c, 413, 'request_too_large', 'The request body is too large');
    logUnhandled(logger, c.get('requestId'), err);
    return jsonError(c, 500, 'server_error', SERVER_ERROR_DESCRIPTION);
  };
}
