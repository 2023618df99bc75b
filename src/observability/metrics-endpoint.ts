// Where Prometheus scrapes `/metrics`: a listener of its own (TOLLGATE_METRICS_PORT, loopback by default), or the
// main port for requests that carry the scrape token (TOLLGATE_METRICS_TOKEN). Never public by default: without
// either setting there is no `/metrics` at all.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectProcessMetrics, METRICS_CONTENT_TYPE, renderMetrics } from './metrics.ts';

export interface MetricsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Checks `Authorization: Bearer <token>` in constant time (of the digests), whatever the length of the guess. */
export function tokenChecker(token: string): (authorization: string | undefined) => 'ok' | 'missing' | 'invalid' {
  const expected = digest(token);
  return (authorization) => {
    if (!authorization) return 'missing';
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
    if (!m) return 'invalid';
    return timingSafeEqual(digest(m[1]), expected) ? 'ok' : 'invalid';
  };
}

const REALM = 'realm="tollgate-metrics"';
const json = (o: unknown) => JSON.stringify(o);

/** The answer to a scrape on the main port: 401 with an RFC 6750 challenge unless the token is right. */
export async function guardedMetrics(check: ReturnType<typeof tokenChecker>, authorization: string | undefined, requestId: string): Promise<MetricsAnswer> {
  const verdict = check(authorization);
  // RFC 6750 §3: no credentials → a bare challenge; wrong ones → error="invalid_token".
  if (verdict === 'missing') {
    return { status: 401, headers: { 'WWW-Authenticate': `Bearer ${REALM}`, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: json({ error: 'authorization_required', error_description: 'Scraping /metrics needs the metrics bearer token', request_id: requestId }) };
  }
  if (verdict === 'invalid') {
    return { status: 401, headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="invalid_token"`, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, body: json({ error: 'invalid_token', error_description: 'The metrics token is not valid', request_id: requestId }) };
  }
  return scrape();
}

async function scrape(): Promise<MetricsAnswer> {
  return { status: 200, headers: { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' }, body: await renderMetrics() };
}

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/** A listener that serves only `GET /metrics` (and `HEAD`); anything else is 404 or 405, never the app. */
export function startMetricsListener(host: string, port: number): Promise<MetricsListener> {
  collectProcessMetrics();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(json({ error: 'not_found', error_description: 'Only /metrics is served here' }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'application/json' }).end(json({ error: 'method_not_allowed', error_description: 'GET /metrics' }));
      return;
    }
    scrape().then(
      (a) => res.writeHead(a.status, a.headers).end(req.method === 'HEAD' ? undefined : a.body),
      () => res.writeHead(500, { 'Content-Type': 'application/json' }).end(json({ error: 'server_error', error_description: 'Collecting the metrics failed' })),
    );
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'EADDRINUSE' ? `Metrics port ${port} on ${host} is already in use (set TOLLGATE_METRICS_PORT)` : `Cannot listen for metrics on ${host}:${port} (${err.code ?? err.message})`)));
    server.listen(port, host, () => {
      const addr = server.address() as AddressInfo;
      const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${shown}:${addr.port}/metrics`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export { collectProcessMetrics };
