// Serves the endpoint table from Hono (an app embedded elsewhere, and what the node:http adapter leaves to the app):
// the same routes, the same frame, the same answers. Mounted first, before the app-wide middleware, since the frame
// does that middleware's work for these routes.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.ts';
import { ClientGone, isClientAbort, TOO_LARGE, type EndpointRoute, type HttpRequest } from './endpoint.ts';
import { findRoute, requestIdFrom, type Frame } from './frame.ts';

/** The body within `maxBytes`: a Content-Length is checked first; a chunked body is counted while it streams in. */
export async function readRequestBody(raw: Request, maxBytes: number): Promise<string | typeof TOO_LARGE> {
  const length = raw.headers.get('content-length');
  try {
    if (length !== null && !raw.headers.has('transfer-encoding')) {
      if (Number(length) > maxBytes) return TOO_LARGE;
      return await raw.text();
    }
    const reader = raw.body?.getReader();
    if (!reader) return '';
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return TOO_LARGE;
      }
      chunks.push(value);
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  } catch (err) {
    // The body stream fails when the client goes away mid-body.
    if (isClientAbort(err, raw.signal)) throw new ClientGone();
    throw err;
  }
}

export function honoAdapter(routes: readonly EndpointRoute<unknown>[], frame: Frame): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path;
    const hit = findRoute(routes, c.req.method, path);
    if (!hit) return next();
    const started = performance.now();
    const raw = c.req.raw;
    const request: HttpRequest = {
      method: c.req.method,
      url: c.req.url,
      path,
      requestId: requestIdFrom(raw.headers.get('x-request-id')),
      logger: frame.logger,
      // Filled in by the endpoint as it learns them (same object shape for every request).
      workspace: undefined,
      clientId: undefined,
      tool: undefined,
      header: (name) => raw.headers.get(name) ?? undefined,
      readBody: (max) => readRequestBody(raw, max),
    };
    const answer = await frame.run(hit.route, hit.match, request, started);
    // Nobody is listening any more; an empty answer ends the exchange.
    if (!answer) return new Response(null, { status: 499 as 200 });
    if (answer.stream) {
      const chunks = answer.stream[Symbol.asyncIterator]();
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { value, done } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(value));
        },
      });
      return new Response(body, { status: answer.status, headers: answer.headers });
    }
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
}
