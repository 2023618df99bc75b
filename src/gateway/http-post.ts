// The gateway's POST to an upstream over node:http(s) on a keep-alive agent. fetch (undici, web streams, an
// AbortSignal's DOMException) cost several hundred µs of CPU per proxied call on this path (bench: G − T); a plain
// request on a pooled socket costs a fraction. It answers with the part of a fetch Response the connection reads.
import http from 'node:http';
import https from 'node:https';

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

/** One agent pair per upstream connection: sockets are reused across calls (HTTP/1.1 keep-alive). */
export function upstreamAgents(): { readonly http: http.Agent; readonly https: https.Agent; destroy(): void } {
  const a = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };
  return { ...a, destroy: () => (a.http.destroy(), a.https.destroy()) };
}

export function postUpstream(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal, agents: ReturnType<typeof upstreamAgents>): Promise<UpstreamResponse> {
  const secure = url.protocol === 'https:';
  const payload = Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(payload.length) }, agent: secure ? agents.https : agents.http, signal },
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
