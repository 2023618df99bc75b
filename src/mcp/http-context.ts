// The MCP routes run before the app-wide middleware and do its essential work themselves, leanly: a request id on
// every response and in the log line, the security headers a JSON API needs (no CSP nonce: no HTML here), and the
// request log (path only: a query string may carry a token).
//
// They do it twice over, identically: as Hono middleware (any way the app is embedded), and for the node:http server
// that `startServer` runs, as a fast path in front of Hono for the one request that matters — a POST to an MCP
// endpoint — which skips the web-standard Request/Response/Headers objects and the router.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Logger } from '../util/logger.ts';
import { nodePostHandler, readNodeBody, requestIdFrom, requestLogger, SECURITY_HEADERS, type EndpointResponse } from '../http/fast-path.ts';
import { TOO_LARGE } from './body.ts';


export function mcpRequestContext(logger: Logger): MiddlewareHandler<AppEnv> {
  const logRequest = requestLogger(logger);
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    c.set('log', logger);
    const started = performance.now();
    try {
      await next();
    } finally {
      const h = c.res.headers;
      h.set('x-request-id', requestId);
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) h.set(k, v);
      logRequest({ requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) });
    }
  };
}

// --- the node:http fast path

/** One MCP request, whichever HTTP layer carried it. Header names are lower-case. */
export interface EndpointRequest {
  readonly method: string;
  /** The request target as sent: path and query string (the query is only ever checked for a token). */
  readonly url: string;
  readonly path: string;
  readonly requestId: string;
  header(name: string): string | undefined;
  /** The body as text, or TOO_LARGE past `maxBytes`. */
  readBody(maxBytes: number): Promise<string | typeof TOO_LARGE>;
}

export type EndpointMatch = { slug: string | undefined; trailingSlash: boolean };

/**
 * For `startServer`'s node:http server: answers a POST to an MCP endpoint directly (returns true), or leaves the
 * request to Hono (returns false) — anything else, and the unusual POSTs (no Content-Length, chunked, oversized, a
 * percent-encoded path) whose handling is left to the general path.
 */
export function nodeFastPath(
  logger: Logger,
  options: { bodyLimitBytes: number; sharedEndpoint: boolean },
  match: (path: string) => EndpointMatch | undefined,
  serve: (req: EndpointRequest, m: EndpointMatch) => Promise<EndpointResponse>,
  onError: (requestId: string, err: unknown) => EndpointResponse,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return nodePostHandler(logger, options.bodyLimitBytes, match, (post, m) => {
    const length = Number(post.header('content-length'));
    const request: EndpointRequest = {
      method: 'POST',
      url: post.url,
      path: post.path,
      requestId: post.requestId,
      header: post.header,
      // The fast path only takes requests whose Content-Length is within the limit (node never delivers more).
      readBody: (max) => (length > max ? Promise.resolve(TOO_LARGE) : readNodeBody(post.req)),
    };
    return serve(request, m);
  }, onError);
}
