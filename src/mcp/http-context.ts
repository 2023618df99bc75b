// The MCP routes run before the app-wide middleware and do its essential work themselves, leanly: a request id on
// every response and in the log line, the security headers a JSON API needs (no CSP nonce: no HTML here), and the
// request log (path only: a query string may carry a token).
//
// They do it twice over, identically: as Hono middleware (any way the app is embedded), and for the node:http server
// that `startServer` runs, as a fast path in front of Hono for the one request that matters — a POST to an MCP
// endpoint — which skips the web-standard Request/Response/Headers objects and the router.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Logger } from '../util/logger.ts';
import { TOO_LARGE } from './body.ts';

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** The client's own request id when it sent a sane one, a fresh UUID otherwise. */
export const requestIdFrom = (incoming: string | undefined): string => (incoming !== undefined && INCOMING_ID.test(incoming) ? incoming : randomUUID());

/** What every MCP response carries besides its own headers. */
const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;

export interface RequestLogLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/**
 * The request line holds only these five fields, none of them a secret (the path, never the query string), so it
 * skips the logger's wildcard redaction, which costs more than the rest of an MCP request. Everything else this
 * module logs goes through the redacting logger.
 */
export function requestLogger(logger: Logger): (line: RequestLogLine) => void {
  const requestLog = logger.child({}, { redact: { paths: [] } });
  return (line) => requestLog.info(line, 'request');
}

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

/** An HTTP answer, whichever HTTP layer carries it. */
export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * Header lookup with the semantics of the Fetch `Headers` the Hono path sees: case-insensitive, and repeated fields
 * joined with ", " (node:http would keep only the first of a repeated Authorization or Content-Type).
 */
function headerReader(raw: string[]): (name: string) => string | undefined {
  let map: Map<string, string> | undefined;
  return (name) => {
    if (!map) {
      map = new Map();
      for (let i = 0; i < raw.length; i += 2) {
        const k = raw[i].toLowerCase();
        const prev = map.get(k);
        map.set(k, prev === undefined ? raw[i + 1] : `${prev}, ${raw[i + 1]}`);
      }
    }
    return map.get(name);
  };
}

class ClientGone extends Error {}

function readNodeBody(req: IncomingMessage, contentLength: number, maxBytes: number): Promise<string | typeof TOO_LARGE> {
  // The fast path only takes requests whose Content-Length is within the limit (node never delivers more).
  if (contentLength > maxBytes) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.once('error', () => reject(new ClientGone()));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
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
  const logRequest = requestLogger(logger);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.includes('%')) return false;
    const m = match(path);
    if (!m) return false;
    const header = headerReader(req.rawHeaders);
    const length = header('content-length');
    if (length === undefined || header('transfer-encoding') !== undefined || Number(length) > options.bodyLimitBytes) return false;

    const started = performance.now();
    const requestId = requestIdFrom(header('x-request-id'));
    const request: EndpointRequest = { method: 'POST', url, path, requestId, header, readBody: (max) => readNodeBody(req, Number(length), max) };
    const finish = (r: EndpointResponse) => {
      const body = r.body ?? '';
      const headers: Record<string, string | number> = { ...r.headers, 'x-request-id': requestId, ...SECURITY_HEADERS, 'Content-Length': Buffer.byteLength(body) };
      res.writeHead(r.status, headers);
      res.end(body);
      logRequest({ requestId, method: 'POST', path, status: r.status, ms: Math.round(performance.now() - started) });
    };
    serve(request, m).then(finish, (err: unknown) => {
      if (err instanceof ClientGone) {
        res.destroy();
        return;
      }
      finish(onError(requestId, err));
    });
    return true;
  };
}
