// One bounded autocannon run, in its own process (pinned to the load core by load.ts). Reads its spec as JSON from
// argv[2] and prints the result as JSON. Besides a fixed request it can go round-robin over request variants (a
// token, path and body each: many workspaces or grants), or drive refresh-token chains against /token, where each
// response's successor token is the next request's (every token is presented exactly once).
import { readFileSync } from 'node:fs';
import http from 'node:http';
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
  /**
   * Requests per second over all connections, sent at an even pace (`pacedLoad`); unset: as fast as answered
   * (autocannon).
   */
  rate?: number;
}

const spec = JSON.parse(process.argv[2]) as LoadSpec;
const u = new URL(spec.url);
if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('load is only ever sent to loopback');

type Req = { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer };
let request: Record<string, unknown> = { method: 'POST', path: u.pathname, headers: spec.headers, body: spec.body };
let refreshErrors = 0;
let refreshPool: string[] | undefined;

interface Variant {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The requests to cycle through: the variants file's, or the one fixed request. */
function requestVariants(): Variant[] {
  if (!spec.variantsFile) return [{ path: u.pathname, headers: spec.headers, body: spec.body }];
  return (JSON.parse(readFileSync(spec.variantsFile, 'utf8')) as { path: string; authorization: string; body: string }[]).map((v) => ({
    path: v.path,
    headers: { ...spec.headers, authorization: v.authorization },
    body: v.body,
  }));
}

if (spec.variantsFile) {
  const variants = requestVariants();
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

/**
 * `rate` requests a second, evenly spaced (whatever is due each millisecond), over at most `connections` kept-alive
 * connections: the pace a server behind a gateway sees, one call at a time. Not autocannon's `overallRate`, which
 * gives each connection a quota per second that it sends at once: the server then serves a burst at full speed and
 * idles, and its calls share turns of the event loop, log writes and commits as they do at full speed. A request
 * that finds every connection busy goes as soon as one is free.
 */
async function pacedLoad(variants: Variant[], rate: number): Promise<{ rps: number; p50: number; p99: number; requests: number; non2xx: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  let sent = 0;
  let inFlight = 0;
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + spec.seconds * 1000;
  await new Promise<void>((resolve) => {
    const send = () => {
      const v = variants[sent++ % variants.length];
      inFlight++;
      const t0 = performance.now();
      const done = (ok: boolean) => {
        inFlight--;
        if (ok) latencies.push(performance.now() - t0);
        else errors++;
      };
      const req = http.request({ host: u.hostname, port: u.port, path: v.path, method: 'POST', headers: v.headers, agent, timeout: 10_000 }, (res) => {
        if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
        res.resume();
        res.once('end', () => done(true));
        res.once('error', () => done(false));
      });
      req.once('timeout', () => req.destroy());
      req.once('error', () => done(false));
      req.end(v.body);
    };
    const tick = () => {
      const now = performance.now();
      if (now >= end) {
        const wait = setInterval(() => inFlight === 0 && (clearInterval(wait), resolve()), 5);
        return;
      }
      const due = Math.floor(((now - start) * rate) / 1000);
      while (sent < due && inFlight < spec.connections) send();
      setTimeout(tick, 1);
    };
    tick();
  });
  agent.destroy();
  return { rps: latencies.length / spec.seconds, ...percentiles(latencies), requests: latencies.length, non2xx, errors };
}

/**
 * p50 and p99 of latencies in ms, to 0.01 ms. Autocannon's own histogram keeps whole milliseconds, so that on a quiet
 * machine a ratio of two p99s of 2 or 3 ms moved by half with one millisecond of either.
 */
function percentiles(latencies: number[]): { p50: number; p99: number } {
  latencies.sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 100) / 100 : 0);
  return { p50: at(0.5), p99: at(0.99) };
}

if (spec.rate) {
  if (spec.refreshFile) throw new Error('a paced load drives tools/call only');
  const variants = requestVariants();
  for (const v of variants) v.headers = { ...v.headers, 'content-length': String(Buffer.byteLength(v.body)) };
  process.stdout.write(JSON.stringify(await pacedLoad(variants, spec.rate)));
  process.exit(0);
}

const run = autocannon({
  url: `${u.protocol}//${u.host}`,
  connections: spec.connections,
  duration: spec.seconds,
  requests: [request as never],
});
// Each 2xx answer's time in ms as autocannon measured it (hrtime), before its histogram truncates it to a whole ms.
const latencies: number[] = [];
run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
  if (status >= 200 && status < 300) latencies.push(ms);
});
const result = await run;

process.stdout.write(
  JSON.stringify({
    rps: result.requests.total / (result.duration || spec.seconds),
    ...percentiles(latencies),
    requests: result.requests.total,
    non2xx: result.non2xx ?? 0,
    errors: (result.errors ?? 0) + (result.timeouts ?? 0) + refreshErrors,
    // Never presented: the next run may use them (a token sent when the run stopped may have been rotated).
    ...(refreshPool ? { refreshTokens: refreshPool } : {}),
  }),
);
