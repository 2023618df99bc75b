// The frame around every answer, for both HTTP adapters and the app-wide Hono middleware alike: a request id on
// every response and in the log line, the security headers, the request log line, and one error answer for an error
// no step turned into an answer.
import { randomUUID } from 'node:crypto';
import { infoLineWriter, type Logger } from '../util/logger.ts';
import { isTemporarilyUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../util/unavailable.ts';
import { ClientGone, errorAnswer, type EndpointRoute, type HttpAnswer, type HttpRequest } from './endpoint.ts';
import { HttpError, logUnavailable, logUnhandled, SERVER_ERROR_DESCRIPTION, UNAVAILABLE_DESCRIPTION } from './errors.ts';
import { timerFor } from './metrics.ts';
import { annotateSpan, inServerSpan, traceIdFor, tracing } from '../observability/tracing.ts';

const INCOMING_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** The client's own request id when it sent a sane one, a fresh UUID otherwise. */
export const requestIdFrom = (incoming: string | undefined | null): string => (incoming != null && INCOMING_ID.test(incoming) ? incoming : randomUUID());

/** What every answer carries besides its own headers. */
export const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;

/** RFC 6797 §7.1: HSTS, sent when the public URL is https (TLS may end at a proxy in front). One year. */
export const HSTS = { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } as const;

/** What an HTML page carries besides SECURITY_HEADERS: a strict CSP with the response's script nonce, no framing. */
export function htmlSecurityHeaders(nonce: string): Record<string, string> {
  return {
    'Content-Security-Policy':
      `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self'; img-src 'self' data: https:; ` +
      `connect-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'`,
    'X-Frame-Options': 'DENY',
    // No browser features a sign-in or dashboard page needs; no window of another origin keeps a handle on ours.
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

/** The status a request's log line shows when the client went away before it could be answered (nginx's 499). */
export const CLIENT_CLOSED = 499;

export interface RequestLogLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  /** Where known: the workspace, the OAuth client and the tool (MCP), the W3C trace id. */
  workspace?: string;
  clientId?: string;
  tool?: string;
  traceId?: string;
}

/**
 * The request line holds only these fields, none of them a secret (the path, never the query string), so it
 * skips the logger's wildcard redaction, which costs more than the rest of a request (logger.ts: infoLineWriter).
 */
export function requestLogger(logger: Logger): (line: RequestLogLine) => void {
  return infoLineWriter<RequestLogLine>(logger, 'request');
}

/** A client that hung up is its own business, not a server error: one info line, no stack. */
export function logClientGone(logger: Logger, requestId: string, path: string): void {
  logger.info({ requestId, path }, 'client closed the connection before its request was answered');
}

/**
 * The answer for an error no step turned into one: an HttpError keeps its status and message; a body over a limit
 * (e.g. Hono's) is 413; anything else is logged with its stack and answered as a bare 500. Undefined for a client
 * that went away: there is no one to answer.
 */
export function answerForError(logger: Logger, requestId: string, path: string, err: unknown): HttpAnswer | undefined {
  if (err instanceof HttpError) return errorAnswer(requestId, err.status, err.error, err.message, err.headers);
  if (err instanceof ClientGone) {
    logClientGone(logger, requestId, path);
    return undefined;
  }
  if ((err as { status?: number } | null)?.status === 413) return errorAnswer(requestId, 413, 'request_too_large', 'The request body is too large');
  if (isTemporarilyUnavailable(err)) return unavailableAnswer(logger, requestId, path, err);
  logUnhandled(logger, requestId, err);
  return errorAnswer(requestId, 500, 'server_error', SERVER_ERROR_DESCRIPTION);
}

/**
 * The database (or another dependency) cannot answer for the moment — restarting, failing over, out of connections:
 * 503 with Retry-After, so clients and load balancers retry instead of reporting a server bug. Logged as a warning
 * with the reason's code and message only.
 */
export function unavailableAnswer(logger: Logger, requestId: string, path: string, err: unknown): HttpAnswer {
  logUnavailable(logger, requestId, path, err);
  return errorAnswer(requestId, 503, 'temporarily_unavailable', UNAVAILABLE_DESCRIPTION, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) });
}

/** Headers the frame adds to an answer: the route's own, the request id, the security headers. */
export function framedHeaders(answer: HttpAnswer, requestId: string, extra: Readonly<Record<string, string>> | undefined, hsts: boolean): Record<string, string> {
  const headers: Record<string, string> = { ...answer.headers, ...extra, 'x-request-id': requestId, ...SECURITY_HEADERS };
  if (hsts) Object.assign(headers, HSTS);
  // RFC 9112 §9.6: a 413 is sent before the rest of the body was read, so the connection cannot be reused: say so,
  // rather than keep it alive and close it under the client's next request.
  if (answer.status === 413) headers.Connection = 'close';
  return headers;
}

export interface Frame {
  readonly logger: Logger;
  readonly logRequest: (line: RequestLogLine) => void;
  /** Serves one request of a route: its answer with the frame's headers, or undefined when the client went away. */
  run<M>(route: EndpointRoute<M>, match: M, req: HttpRequest, started: number): Promise<HttpAnswer | undefined>;
}

export function createFrame(logger: Logger, options: { hsts: boolean }): Frame {
  const logRequest = requestLogger(logger);
  const finish = (req: HttpRequest, answer: HttpAnswer, route: EndpointRoute<unknown>, started: number): HttpAnswer => {
    answer.headers = framedHeaders(answer, req.requestId, route.headers, options.hsts);
    const elapsed = performance.now() - started;
    timerFor(route.template ?? route.name)(answer.status, elapsed);
    logRequest({
      requestId: req.requestId, method: req.method, path: req.path, status: answer.status, ms: Math.round(elapsed),
      workspace: req.workspace, clientId: req.clientId, tool: req.tool, traceId: traceIdFor(req.header),
    });
    return answer;
  };
  const serve = async <M,>(route: EndpointRoute<M>, match: M, req: HttpRequest, started: number): Promise<HttpAnswer | undefined> => {
    let answer: HttpAnswer | undefined;
    try {
      answer = await route.serve(req, match);
    } catch (err) {
      answer = answerForError(logger, req.requestId, req.path, err);
      if (!answer) {
        const elapsed = performance.now() - started;
        timerFor(route.template ?? route.name)(CLIENT_CLOSED, elapsed);
        logRequest({ requestId: req.requestId, method: req.method, path: req.path, status: CLIENT_CLOSED, ms: Math.round(elapsed), workspace: req.workspace, clientId: req.clientId, tool: req.tool });
        return undefined;
      }
    }
    return finish(req, answer, route as EndpointRoute<unknown>, started);
  };
  return {
    logger,
    logRequest,
    run(route, match, req, started) {
      if (!tracing.active) return serve(route, match, req, started);
      const template = route.template ?? route.name;
      return inServerSpan(req.method, template, req.header, { 'url.path': req.path, 'tollgate.request_id': req.requestId }, async (end) => {
        const answer = await serve(route, match, req, started);
        const tags: Record<string, string> = {};
        if (req.workspace) tags['tollgate.workspace'] = req.workspace;
        if (req.clientId) tags['oauth.client_id'] = req.clientId;
        if (req.tool) tags['mcp.tool.name'] = req.tool;
        annotateSpan(tags);
        end(answer?.status ?? CLIENT_CLOSED);
        return answer;
      });
    },
  };
}

/** The route of a table that serves this method and (percent-free) path, with its match. */
export function findRoute(routes: readonly EndpointRoute<unknown>[], method: string, path: string): { route: EndpointRoute<unknown>; match: unknown } | undefined {
  for (const route of routes) {
    if (route.methods !== 'any' && !route.methods.includes(method)) continue;
    const match = route.match(path);
    if (match !== undefined) return { route, match };
  }
  return undefined;
}
