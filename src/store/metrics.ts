// Database metrics and spans: every query Kysely runs is timed (its `log` hook), by dialect and operation (the
// statement's first keyword: a fixed set); PostgreSQL pools report their connections when Prometheus scrapes.
import type { LogEvent } from 'kysely';
import type pg from 'pg';
import { counter, gauge, histogram, QUERY_BUCKETS, type HistogramChild } from '../observability/metrics.ts';
import { recordQuerySpan, tracing } from '../observability/tracing.ts';

const queryDuration = histogram('tollgate_db_query_duration_seconds', 'Database queries, by dialect and operation, and how long they took.', ['dialect', 'operation'], QUERY_BUCKETS);
const queryErrors = counter('tollgate_db_query_errors_total', 'Database queries that failed, by dialect and operation.', ['dialect', 'operation']);

const OPERATIONS = ['select', 'insert', 'update', 'delete', 'with', 'begin', 'commit', 'rollback', 'create', 'alter', 'drop', 'pragma', 'savepoint', 'release'] as const;

/** The statement's first keyword. Kysely writes lower case, so the common case builds no string at all. */
export function operationOf(sql: string): string {
  let i = 0;
  while (i < sql.length && sql.charCodeAt(i) <= 32) i++;
  for (const op of OPERATIONS) if (sql.startsWith(op, i)) return op;
  const c = sql.charCodeAt(i);
  if (c >= 65 && c <= 90) {
    const head = sql.slice(i, i + 9).toLowerCase();
    for (const op of OPERATIONS) if (head.startsWith(op)) return op;
  }
  return 'other';
}

/** Kysely's `log` option for one store: metrics always, a span when tracing is on. */
export function queryObserver(dialect: 'sqlite' | 'postgres'): (event: LogEvent) => void {
  const system = dialect === 'postgres' ? 'postgresql' : 'sqlite';
  const timers = new Map<string, HistogramChild>();
  return (event) => {
    const sql = event.query.sql;
    const op = operationOf(sql);
    let t = timers.get(op);
    if (!t) timers.set(op, (t = queryDuration.child(dialect, op)));
    t.observe(event.queryDurationMillis / 1000);
    const failed = event.level === 'error';
    if (failed) queryErrors.child(dialect, op).inc();
    if (tracing.active) recordQuerySpan(system, op, sql, event.queryDurationMillis, failed);
  };
}

const pools = new Set<pg.Pool>();
gauge('tollgate_db_pool_connections', 'PostgreSQL pool connections of this process, by state (total, idle, waiting = requests queued for one).', ['state'], (set) => {
  if (!pools.size) return;
  let total = 0;
  let idle = 0;
  let waiting = 0;
  for (const p of pools) {
    total += p.totalCount;
    idle += p.idleCount;
    waiting += p.waitingCount;
  }
  set({ state: 'total' }, total);
  set({ state: 'idle' }, idle);
  set({ state: 'waiting' }, waiting);
});

/** Reports a pool's connections until it is closed. */
export function watchPool(pool: pg.Pool): () => void {
  pools.add(pool);
  return () => pools.delete(pool);
}
