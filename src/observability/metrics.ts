// The process's metrics, in one registry that `/metrics` exposes in the Prometheus text format (prom-client).
// Every module may define its own metrics here (`counter`, `histogram`, `gauge`); see docs/operations.md, "Adding a
// metric". Counters and histograms on hot paths are Tollgate's own: a labelled child is looked up through nested maps
// keyed by the label values themselves (strings or numbers), so an increment allocates nothing once its child exists,
// and the label strings are built only when Prometheus scrapes. prom-client's own children hash their labels into a
// new string on every increment.
import client from 'prom-client';

export const registry = new client.Registry();

export type LabelValue = string | number;

/** The cardinality guard of every labelled metric: past this many children, new label sets land in one overflow child. */
const MAX_CHILDREN = 2000;
const OVERFLOW = 'overflow';

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Children of a metric, found by label values through nested maps (one level per label). */
class Children<C> {
  readonly #root = new Map<LabelValue, unknown>();
  readonly #list: { values: readonly string[]; child: C }[] = [];
  readonly #depth: number;
  readonly #make: () => C;
  #overflow: C | undefined;

  constructor(depth: number, make: () => C) {
    this.#depth = depth;
    this.#make = make;
  }

  get(a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): C {
    if (this.#depth === 0) return (this.#overflow ??= this.#add([]));
    let node = this.#root;
    for (let i = 0; i < this.#depth - 1; i++) {
      const key = (i === 0 ? a : i === 1 ? b : i === 2 ? c : d) ?? '';
      let next = node.get(key) as Map<LabelValue, unknown> | undefined;
      if (next === undefined) node.set(key, (next = new Map()));
      node = next;
    }
    const last = (this.#depth === 1 ? a : this.#depth === 2 ? b : this.#depth === 3 ? c : this.#depth === 4 ? d : e) ?? '';
    const found = node.get(last) as C | undefined;
    if (found !== undefined) return found;
    if (this.#list.length >= MAX_CHILDREN) return (this.#overflow ??= this.#add(Array(this.#depth).fill(OVERFLOW)));
    const values = [a, b, c, d, e].slice(0, this.#depth).map((v) => String(v ?? ''));
    const child = this.#add(values);
    node.set(last, child);
    return child;
  }

  #add(values: string[]): C {
    const child = this.#make();
    this.#list.push({ values, child });
    return child;
  }

  entries(): readonly { values: readonly string[]; child: C }[] {
    return this.#list;
  }

  clear(): void {
    this.#root.clear();
    this.#list.length = 0;
    this.#overflow = undefined;
  }
}

const labelsOf = (names: readonly string[], values: readonly string[]): Record<string, string> => {
  const out: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) out[names[i]] = values[i];
  return out;
};

export interface CounterChild {
  inc(by?: number): void;
}

export interface Counter {
  /** The child for these label values (in `labelNames` order); keep it where a hot path can reuse it. */
  child(a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): CounterChild;
  /** The current value of one child (tests, the dashboard). */
  value(a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): number;
}

class CounterCell implements CounterChild {
  n = 0;
  inc(by = 1): void {
    if (by > 0) this.n += by;
  }
}

/** A monotonically increasing count; its name ends in `_total` (Prometheus naming). */
export function counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
  if (labelNames.length > 5) throw new Error(`${name}: at most 5 labels`);
  const children = new Children(labelNames.length, () => new CounterCell());
  registry.registerMetric({
    name,
    help,
    type: 'counter',
    get: async () => ({
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      values: children.entries().map(({ values, child }): MetricValue => ({ labels: labelsOf(labelNames, values), value: child.n })),
    }),
    reset: () => children.clear(),
  } as unknown as client.Metric);
  return {
    child: (a, b, c, d, e) => children.get(a, b, c, d, e),
    value: (a, b, c, d, e) => children.get(a, b, c, d, e).n,
  };
}

export interface HistogramChild {
  observe(value: number): void;
}

export interface Histogram {
  child(a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): HistogramChild;
  /** How many observations one child holds (tests). */
  count(a?: LabelValue, b?: LabelValue, c?: LabelValue, d?: LabelValue, e?: LabelValue): number;
}

class HistogramCell implements HistogramChild {
  readonly bounds: readonly number[];
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.buckets = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.buckets[i]++;
        return;
      }
    }
  }
}

/** Request-latency buckets, in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Database-query buckets, in seconds: 0.1 ms to 2.5 s. */
export const QUERY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5] as const;

/** A distribution (bucket counts, sum, count); `buckets` are upper bounds in ascending order. */
export function histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = LATENCY_BUCKETS): Histogram {
  if (labelNames.length > 5) throw new Error(`${name}: at most 5 labels`);
  const bounds = [...buckets].sort((x, y) => x - y);
  const children = new Children(labelNames.length, () => new HistogramCell(bounds));
  registry.registerMetric({
    name,
    help,
    type: 'histogram',
    get: async () => {
      const values: MetricValue[] = [];
      for (const { values: lv, child } of children.entries()) {
        const labels = labelsOf(labelNames, lv);
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          cumulative += child.buckets[i];
          values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bounds[i] }, value: cumulative });
        }
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: child.count });
        values.push({ metricName: `${name}_sum`, labels, value: child.sum });
        values.push({ metricName: `${name}_count`, labels, value: child.count });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset: () => children.clear(),
  } as unknown as client.Metric);
  return {
    child: (a, b, c, d, e) => children.get(a, b, c, d, e),
    count: (a, b, c, d, e) => children.get(a, b, c, d, e).count,
  };
}

/** A value read when Prometheus scrapes (`collect` sets it): pool sizes, queue lengths. Not for hot paths. */
export function gauge(name: string, help: string, labelNames: readonly string[], collect: (set: (labels: Record<string, string>, value: number) => void) => void): void {
  const g = new client.Gauge({
    name,
    help,
    labelNames: [...labelNames],
    registers: [registry],
    collect() {
      this.reset();
      collect((labels, value) => this.set(labels, value));
    },
  });
  void g;
}

let defaultsStarted = false;
/** Process metrics (CPU, memory, handles, GC) and event-loop delay, collected once exposure is on. */
export function collectProcessMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
}

/** The text Prometheus scrapes. */
export function renderMetrics(): Promise<string> {
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE = registry.contentType;
