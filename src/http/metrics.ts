// HTTP metrics: one latency histogram by route template (never the raw path: a path carries workspace slugs and
// whatever a scanner invents) and status. Its `_count` is the request count.
import { histogram, type HistogramChild } from '../observability/metrics.ts';

const requestDuration = histogram('tollgate_http_request_duration_seconds', 'HTTP requests by route template and status, and how long they took to answer.', ['route', 'status']);

/** Routes outside every table and Hono route (404s, scanners): one label, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

/** A route's children by status, so that a request costs one array read once its status was seen. */
export function routeTimer(route: string): (status: number, elapsedMs: number) => void {
  const byStatus: (HistogramChild | undefined)[] = [];
  return (status, elapsedMs) => {
    const s = status >= 100 && status < 600 ? status : 0;
    (byStatus[s] ??= requestDuration.child(route, s)).observe(elapsedMs / 1000);
  };
}

const timers = new Map<string, (status: number, elapsedMs: number) => void>();
/** The timer of a route template, made once. */
export function timerFor(route: string): (status: number, elapsedMs: number) => void {
  let t = timers.get(route);
  if (!t) timers.set(route, (t = routeTimer(route)));
  return t;
}
