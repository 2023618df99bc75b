// What `startServer`'s node:http fast paths share. A fast path answers one hot request — a POST to an MCP endpoint
// (src/mcp/http-context.ts), a POST to the token endpoint (src/oauth/token-fast-path.ts) — straight from node:http,
// without Hono's web-standard Request/Response/Headers objects and its router, and does the essential work of the
// app-wide middleware (src/http/middleware.ts) itself: a request id on every response and in the log line, the
// security headers of a JSON API, the request log (path only: a query string may carry a token or a code). Anything
// unusual (no Content-Length, a chunked or oversized body, a percent-encoded path) is left to the general path.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.ts';

/** Offers a request to a fast path: true when it took it (and will answer it), false to leave it to the app. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Tries each fast path in turn. */
export const firstOf =
  (...handlers: NodeHandler[]): NodeHandler =>
  (req, res) => {
    for (const h of handlers) if (h(req, res)) return true;
    return false;
  };

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** The client's own request id when it sent a sane one, a fresh UUID otherwise (as requestContext does). */
export const requestIdFrom = (incoming: string | undefined): string => (incoming !== undefined && INCOMING_ID.test(incoming) ? incoming : randomUUID());

/** What every JSON answer carries besides its own headers (as securityHeaders does for a non-HTML response). */
export const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;

export interface RequestLogLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
}

/**
 * The request line holds only these five fields, none of them a secret (the path, never the query string), so it
 * skips the logger's wildcard redaction, which costs more than the rest of a request.
 */
export function requestLogger(logger: Logger): (line: RequestLogLine) => void {
  const requestLog = logger.child({}, { redact: { paths: [] } });
  return (line) => requestLog.info(line, 'request');
}

/**
 * Header lookup with the semantics of the Fetch `Headers` the Hono path sees: case-insensitive, and repeated fields
 * joined with ", " (node:http would keep only the first of a repeated Authorization or Content-Type).
 */
export function headerReader(raw: string[]): (name: string) => string | undefined {
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

/** The client went away before its body arrived: nothing to answer. */
export class ClientGone extends Error {}

/**
 * The whole body of a request whose Content-Length the caller has checked (node never delivers more than it says).
 * `stripBom`: decode as the Fetch `Request.text()` does, which drops a leading byte-order mark.
 */
export function readNodeBody(req: IncomingMessage, options: { stripBom?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      resolve(options.stripBom && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    req.once('error', () => reject(new ClientGone()));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

/** An HTTP answer, whichever HTTP layer carries it. */
export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** The request as a fast path first sees it: a POST with a Content-Length within the limit, to a plain path. */
export interface NodePost {
  req: IncomingMessage;
  res: ServerResponse;
  /** The request target as sent: path and query string. */
  url: string;
  path: string;
  header: (name: string) => string | undefined;
  requestId: string;
}

/**
 * The fast path's frame: takes a POST when `accept(path)` says so and its body is a plain one within `bodyLimitBytes`,
 * runs `serve`, and writes its answer with the request id and the security headers, then the request log line. An
 * error no step turned into an answer becomes `onError`'s answer; a client that went away gets none.
 */
export function nodePostHandler<M>(
  logger: Logger,
  bodyLimitBytes: number,
  accept: (path: string) => M | undefined,
  serve: (post: NodePost, match: M) => Promise<EndpointResponse>,
  onError: (requestId: string, err: unknown) => EndpointResponse,
): NodeHandler {
  const logRequest = requestLogger(logger);
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.includes('%')) return false;
    const match = accept(path);
    if (match === undefined) return false;
    const header = headerReader(req.rawHeaders);
    const length = header('content-length');
    if (length === undefined || header('transfer-encoding') !== undefined || Number(length) > bodyLimitBytes) return false;

    const started = performance.now();
    const requestId = requestIdFrom(header('x-request-id'));
    const finish = (r: EndpointResponse) => {
      const body = r.body ?? '';
      const headers: Record<string, string | number> = { ...r.headers, 'x-request-id': requestId, ...SECURITY_HEADERS, 'Content-Length': Buffer.byteLength(body) };
      res.writeHead(r.status, headers);
      res.end(body);
      logRequest({ requestId, method: 'POST', path, status: r.status, ms: Math.round(performance.now() - started) });
    };
    serve({ req, res, url, path, header, requestId }, match).then(finish, (err: unknown) => {
      if (err instanceof ClientGone) {
        res.destroy();
        return;
      }
      finish(onError(requestId, err));
    });
    return true;
  };
}
