// The gateway's POST to an upstream: over http1-client.ts's own socket pool for http, over node:https on a keep-alive
// agent for https (upstream URLs are one or the other, upstream-config.ts). fetch (undici, web streams, an
// AbortSignal's DOMException) cost several hundred µs of CPU per proxied call on this path (bench: G − T); node:http's
// client cost G 5–15 % more CPU per proxied call than the pool (bench/tools/ab.ts). It answers with the part of a
// fetch Response the connection reads.
import https from 'node:https';
import { Http1Pool } from './http1-client.ts';

export interface UpstreamBody extends AsyncIterable<Uint8Array> {
  /** Drops the rest of the answer (read to its end and discarded, so the socket goes back to the pool). */
  cancel(): Promise<void>;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: UpstreamBody;
  text(): Promise<string>;
}

export interface UpstreamPoster {
  post(headers: Record<string, string>, body: string, signal: AbortSignal): Promise<UpstreamResponse>;
  destroy(): void;
}

/** The POSTs to one upstream URL: sockets are reused across calls (HTTP/1.1 keep-alive). */
export function upstreamPoster(url: URL): UpstreamPoster {
  if (url.protocol === 'http:') {
    const pool = new Http1Pool(url);
    const path = url.pathname + url.search;
    return { post: (headers, body, signal) => pool.post(path, headers, body, signal), destroy: () => pool.destroy() };
  }
  const agent = new https.Agent({ keepAlive: true, maxSockets: 256 });
  return { post: (headers, body, signal) => postOverHttps(url, headers, body, signal, agent), destroy: () => agent.destroy() };
}

function postOverHttps(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal, agent: https.Agent): Promise<UpstreamResponse> {
  const payload = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(payload.length) }, agent, signal },
      (res) => {
        const get = (name: string): string | null => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        };
        const drain = async () => {
          if (!res.complete) res.resume();
        };
        resolve({
          status: res.statusCode ?? 0,
          ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300,
          headers: { get },
          body: {
            // Stopping early (the response found before the stream's end) drains instead of destroying the socket.
            [Symbol.asyncIterator]: () => res.iterator({ destroyOnReturn: false }),
            cancel: drain,
          },
          async text() {
            res.setEncoding('utf8');
            let s = '';
            for await (const chunk of res) s += chunk as string;
            return s;
          },
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
