// The one shape every framed endpoint is written against, whichever HTTP layer carries it: a small HTTP-neutral
// request and answer. The node:http adapter (node-adapter.ts, the hot path) and the Hono adapter (hono-adapter.ts,
// embedding and everything else) both serve a table of these routes through the same frame (frame.ts).
import type { Logger } from '../util/logger.ts';

export const TOO_LARGE = Symbol('too large');

/** One request, whichever adapter carried it. Header names are looked up in lower case. */
/** What a request's log line (and its span) says about it besides the path, filled in by the endpoint as it learns it. */
export interface RequestTags {
  workspace?: string;
  clientId?: string;
  tool?: string;
}

export interface HttpRequest extends RequestTags {
  readonly method: string;
  /** The request target as sent: path and query string. */
  readonly url: string;
  readonly path: string;
  readonly requestId: string;
  readonly logger: Logger;
  /**
   * Header lookup with the Fetch `Headers` semantics: case-insensitive, a repeated field joined with ", ".
   */
  header(name: string): string | undefined;
  /**
   * The body as text, decoded as the Fetch `Request.text()` does (UTF-8, a leading byte-order mark dropped), or
   * TOO_LARGE past `maxBytes` (a Content-Length over it is refused before anything is read). Rejects with
   * ClientGone when the client goes away before the body has arrived.
   */
  readBody(maxBytes: number): Promise<string | typeof TOO_LARGE>;
}

/** An answer, whichever adapter sends it. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
  /** Sent instead of `body`, chunk by chunk as it comes (an SSE stream); ends when the iterable does. */
  stream?: AsyncIterable<string>;
}

/** A route of the endpoint table: which paths it serves, and the endpoint that answers them. */
export interface EndpointRoute<M = unknown> {
  /** For the log and the tests. */
  readonly name: string;
  /** The path template the metrics label this route's requests with (`/:workspace/mcp`); default: `name`. */
  readonly template?: string;
  /** Which path (percent-free, without the query) this route serves, and what the endpoint needs to know of it. */
  match(path: string): M | undefined;
  /** The methods it answers (`any`: all); any other method falls through to the rest of the app (its 404). */
  readonly methods: readonly string[] | 'any';
  serve(req: HttpRequest, match: M): Promise<HttpAnswer>;
  /** Headers every answer of this route carries, refusals and server errors included (e.g. CORS). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The client went away before its body arrived: nothing to answer. */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before sending its whole request');
  }
}

/**
 * True for what a body stream fails with when the client went away mid-request (node reports ECONNRESET or
 * "aborted"), or when the request's own signal says it was aborted. (Not any AbortError: a handler's own timeout is
 * a server error.)
 */
export function isClientAbort(err: unknown, signal?: AbortSignal): boolean {
  if (err instanceof ClientGone || signal?.aborted) return true;
  const e = err as { code?: string; message?: string; cause?: { code?: string } } | null;
  return e?.code === 'ECONNRESET' || e?.cause?.code === 'ECONNRESET' || e?.message === 'aborted';
}

export const JSON_TYPE = 'application/json';

export function jsonAnswer(status: number, body: unknown, headers?: Record<string, string>): HttpAnswer {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

/** The JSON error body every endpoint uses: RFC 6749 §5.2 field names, plus the request id. */
export function errorAnswer(requestId: string, status: number, error: string, description: string, headers?: Record<string, string>): HttpAnswer {
  return jsonAnswer(status, { error, error_description: description, request_id: requestId }, headers);
}
