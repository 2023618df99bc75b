// The app-wide Hono middleware for the routes outside the endpoint table (pages, metadata, the other OAuth
// endpoints): the same frame pieces (frame.ts) the adapters use — request id, security headers, log line, one
// error answer.
import { randomFillSync } from 'node:crypto';
import type { Context, MiddlewareHandler, ErrorHandler, NotFoundHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../util/logger.ts';
import type { AppEnv } from './env.ts';
import { ClientGone, isClientAbort } from './endpoint.ts';
import { jsonError } from './errors.ts';
import { answerForError, CLIENT_CLOSED, HSTS, htmlSecurityHeaders, requestIdFrom, requestLogger, SECURITY_HEADERS } from './frame.ts';
import { timerFor, UNMATCHED_ROUTE } from './metrics.ts';
import { inServerSpan, traceIdFor, tracing } from '../observability/tracing.ts';

/** The template of the route that answered (`/dashboard/:workspace`), never the raw path; `unmatched` for a 404. */
function routeTemplate(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i];
    if (r.path !== '*' && r.path !== '/*' && r.method !== 'ALL') return r.path;
  }
  return UNMATCHED_ROUTE;
}

/** Every response carries `x-request-id`: the client's own when it sent a sane one, a fresh UUID otherwise. */
export function requestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  const logRequest = requestLogger(logger);
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('log', logger.child({ requestId }));
    const started = performance.now();
    try {
      // Tracing on: the Hono routes get a server span too, named by their template once the router has matched.
      if (tracing.active) {
        await inServerSpan(c.req.method, 'HTTP', (name) => c.req.header(name), { 'url.path': c.req.path, 'tollgate.request_id': requestId }, async (end) => {
          await next();
          end(c.res.status, routeTemplate(c));
        });
      } else {
        await next();
      }
    } finally {
      c.res.headers.set('x-request-id', requestId);
      const elapsed = performance.now() - started;
      timerFor(routeTemplate(c))(c.res.status, elapsed);
      // The path only: a query string may carry codes or tokens.
      logRequest({ requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(elapsed), traceId: traceIdFor((name) => c.req.header(name)) });
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
export function securityHeaders(options: { hsts: boolean }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const nonce = randomNonce();
    c.set('cspNonce', nonce);
    await next();
    const h = c.res.headers;
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) h.set(k, v);
    if (options.hsts) for (const [k, v] of Object.entries(HSTS)) h.set(k, v);
    if ((h.get('content-type') ?? '').startsWith('text/html')) {
      for (const [k, v] of Object.entries(htmlSecurityHeaders(nonce))) h.set(k, v);
      h.set('Cache-Control', h.get('Cache-Control') ?? 'no-store');
    }
    // RFC 9112 §9.6: the rest of a refused body was never read, so the connection cannot carry another request.
    if (c.res.status === 413) h.set('Connection', 'close');
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

/** Known errors keep their status and message; a client that hung up is an info line; anything else a bare 500. */
export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    const requestId = c.get('requestId');
    const answer = answerForError(logger, requestId, c.req.path, isClientAbort(err, c.req.raw.signal) ? new ClientGone() : err);
    if (!answer) return new Response(null, { status: CLIENT_CLOSED });
    return c.newResponse(answer.body, answer.status as 200, answer.headers);
  };
}
