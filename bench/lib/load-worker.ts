// One bounded autocannon run, in its own process (pinned to the load core by load.ts). Reads its spec as JSON from
// argv[2] and prints the result as JSON. Besides a fixed request it can go round-robin over request variants (a
// token, path and body each: many workspaces or grants), or drive refresh-token chains against /token, where each
// response's successor token is the next request's (every token is presented exactly once).
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
  /** A JSON file of `{ path, authorization, body }`, cycled through in order. */
  variantsFile?: string;
  /** A JSON file of `{ tokenUrl, clientId, refreshTokens }`: the refresh_token grant instead of `body`. */
  refreshFile?: string;
  /** Requests per second over all connections, at most (autocannon's overallRate); unset: as fast as answered. */
  rate?: number;
}

const spec = JSON.parse(process.argv[2]) as LoadSpec;
const u = new URL(spec.url);
if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('load is only ever sent to loopback');

type Req = { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer };
let request: Record<string, unknown> = { method: 'POST', path: u.pathname, headers: spec.headers, body: spec.body };
let refreshErrors = 0;
let refreshPool: string[] | undefined;

if (spec.variantsFile) {
  const variants = (JSON.parse(readFileSync(spec.variantsFile, 'utf8')) as { path: string; authorization: string; body: string }[]).map((v) => ({
    path: v.path,
    headers: { ...spec.headers, authorization: v.authorization },
    body: v.body,
  }));
  let next = 0;
  request = {
    method: 'POST',
    setupRequest(req: Req) {
      const v = variants[next++ % variants.length];
      return { ...req, path: v.path, headers: v.headers, body: v.body };
    },
  };
}

if (spec.refreshFile) {
  const r = JSON.parse(readFileSync(spec.refreshFile, 'utf8')) as { tokenUrl: string; clientId: string; refreshTokens: string[] };
  const pool = (refreshPool = [...r.refreshTokens]);
  const tokenPath = new URL(r.tokenUrl).pathname;
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  request = {
    method: 'POST',
    setupRequest(req: Req) {
      const token = pool.shift();
      if (!token) throw new Error('the refresh-token pool ran dry: give the server more (BENCH_REFRESH)');
      return { ...req, path: tokenPath, headers, body: `grant_type=refresh_token&client_id=${encodeURIComponent(r.clientId)}&refresh_token=${encodeURIComponent(token)}` };
    },
    onResponse(status: number, body: string) {
      if (status !== 200) {
        refreshErrors++;
        return;
      }
      const successor = (JSON.parse(body) as { refresh_token?: string }).refresh_token;
      if (successor) pool.push(successor);
      else refreshErrors++;
    },
  };
}

const result = await autocannon({
  url: `${u.protocol}//${u.host}`,
  connections: spec.connections,
  duration: spec.seconds,
  ...(spec.rate ? { overallRate: spec.rate } : {}),
  requests: [request as never],
});

process.stdout.write(
  JSON.stringify({
    rps: result.requests.total / (result.duration || spec.seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx ?? 0,
    errors: (result.errors ?? 0) + (result.timeouts ?? 0) + refreshErrors,
    // Never presented: the next run may use them (a token sent when the run stopped may have been rotated).
    ...(refreshPool ? { refreshTokens: refreshPool } : {}),
  }),
);
