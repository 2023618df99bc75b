// Serves the endpoint table straight from node:http, without Hono's web-standard Request/Response/Headers objects
// and its router: the hot path under `tollgate serve`. A request that no route takes (and a percent-encoded path,
// which Hono decodes before routing) is left to the app, which serves the same table through the Hono adapter.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientGone, TOO_LARGE, type EndpointRoute, type HttpRequest } from './endpoint.ts';
import { findRoute, requestIdFrom, type Frame } from './frame.ts';

/** Offers a request to the table: true when it took it (and will answer it), false to leave it to the app. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Header lookup with the semantics of the Fetch `Headers` the Hono adapter sees: case-insensitive, and repeated
 * fields joined with ", " (node:http would keep only the first of a repeated Authorization or Content-Type).
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

/** The body within `maxBytes` (counted as it streams in when there is no Content-Length), decoded as `Request.text()` does. */
export function readNodeBody(req: IncomingMessage, contentLength: string | undefined, maxBytes: number): Promise<string | typeof TOO_LARGE> {
  // node's parser has already refused a malformed Content-Length, and never delivers more than it says.
  if (contentLength !== undefined && Number(contentLength) > maxBytes) return Promise.resolve(TOO_LARGE);
  // The whole body already parsed and waiting in the stream (a small POST arrives with its headers): taken at once,
  // without switching the stream to flowing mode (a resume and a 'data' event on later ticks).
  if (req.complete && !req.readableFlowing && !req.destroyed) {
    const chunks: Buffer[] = [];
    let size = 0;
    for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
      size += chunk.length;
      if (size > maxBytes) return Promise.resolve(TOO_LARGE);
      chunks.push(chunk);
    }
    return Promise.resolve(decodeBody(chunks));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(decodeBody(chunks)));
    req.once('error', () => reject(new ClientGone()));
    req.once('close', () => {
      if (!req.complete) reject(new ClientGone());
    });
  });
}

/** UTF-8, without a byte order mark (as `Request.text()` decodes). */
function decodeBody(chunks: Buffer[]): string {
  const text = chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function nodeAdapter(routes: readonly EndpointRoute<unknown>[], frame: Frame): NodeHandler {
  return (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.includes('%')) return false;
    const method = req.method ?? 'GET';
    const hit = findRoute(routes, method, path);
    if (!hit) return false;

    const started = performance.now();
    const header = headerReader(req.rawHeaders);
    const request: HttpRequest = {
      method,
      url,
      path,
      requestId: requestIdFrom(header('x-request-id')),
      logger: frame.logger,
      // Filled in by the endpoint as it learns them (same object shape for every request).
      workspace: undefined,
      clientId: undefined,
      tool: undefined,
      header,
      readBody: (max) => readNodeBody(req, header('content-length'), max),
    };
    void frame.run(hit.route, hit.match, request, started).then((answer) => {
      if (!answer) {
        res.destroy();
        return;
      }
      if (answer.stream) {
        res.writeHead(answer.status, answer.headers);
        void (async () => {
          for await (const chunk of answer.stream!) if (!res.destroyed) res.write(chunk);
          res.end();
        })().catch(() => res.destroy());
        return;
      }
      const body = answer.body ?? '';
      res.writeHead(answer.status, { ...answer.headers, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
    return true;
  };
}
