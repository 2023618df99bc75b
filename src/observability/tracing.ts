// Tracing. W3C Trace Context (`traceparent`, `tracestate`) is accepted on every request: its trace id goes into the
// request's log line, and `outgoingTraceHeaders` hands it on to an upstream. OpenTelemetry spans (HTTP, database
// queries, tool calls) are made and exported over OTLP/HTTP only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, honouring the standard OTEL_* variables; the OpenTelemetry packages
// are imported only then (dynamic import), so a process without it pays one boolean test per span site.
import type * as Api from '@opentelemetry/api';

/** Read on hot paths before anything else is done for tracing. */
export const tracing = { active: false };

interface Loaded {
  api: typeof Api;
  tracer: Api.Tracer;
  shutdown(): Promise<void>;
}
let loaded: Loaded | undefined;

// W3C Trace Context §3.2: version 00, 32 hex trace id, 16 hex parent id, 2 hex flags; all-zero ids are invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  readonly sampled: boolean;
}

/** A valid `traceparent` header, or undefined (§3.2.2: an invalid one is ignored, and a new trace starts). */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined || header.length < 55 || header.length > 512) return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, parentId, flags, rest] = m;
  // §3.2.2.1: version ff is invalid; version 00 has nothing after the flags.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return { traceId, parentId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export interface TracingEnv {
  [name: string]: string | undefined;
}

/** Whether the environment asks for OTLP export (and does not switch the SDK or the trace exporter off). */
export function wantsTracing(env: TracingEnv): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((s) => s.trim().toLowerCase());
  if (!exporters.includes('otlp')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Loads the OpenTelemetry SDK and starts exporting, once per process; false when the environment does not ask for
 * it. The exporter (OTLP over HTTP, JSON) reads its endpoint, headers, timeout and compression from the OTEL_*
 * variables itself; the sampler comes from OTEL_TRACES_SAMPLER (default: parent-based, always on).
 */
export async function startTracing(env: TracingEnv = process.env): Promise<boolean> {
  if (loaded) return true;
  if (!wantsTracing(env)) return false;
  const [api, node, otlp, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': 'tollgate' }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new node.NodeTracerProvider({ resource, spanProcessors: [new node.BatchSpanProcessor(new otlp.OTLPTraceExporter())] });
  // The global provider, an AsyncLocalStorage context manager and the W3C propagator.
  provider.register();
  loaded = { api, tracer: api.trace.getTracer('tollgate'), shutdown: () => provider.shutdown() };
  tracing.active = true;
  return true;
}

/** Exports what is buffered and stops (at shutdown). */
export async function stopTracing(): Promise<void> {
  const l = loaded;
  if (!l) return;
  tracing.active = false;
  loaded = undefined;
  await l.shutdown().catch(() => {});
  l.api.trace.disable();
  l.api.context.disable();
  l.api.propagation.disable();
}

type Attributes = Record<string, string | number | boolean>;

const headerGetter = {
  get: (carrier: (name: string) => string | undefined, key: string) => carrier(key),
  keys: () => ['traceparent', 'tracestate'],
};

/**
 * Runs an HTTP request's handling inside a server span whose parent is the caller's `traceparent` (when valid).
 * Returns what `fn` returns; `finish` is called with the status when the answer is known.
 */
export async function inServerSpan<T>(
  method: string,
  route: string,
  header: (name: string) => string | undefined,
  attributes: Attributes,
  fn: (finish: (status: number, route?: string) => void) => Promise<T>,
): Promise<T> {
  const l = loaded;
  if (!l) return fn(() => {});
  const { api, tracer } = l;
  const parent = api.propagation.extract(api.ROOT_CONTEXT, header, headerGetter);
  const span = tracer.startSpan(`${method} ${route}`, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': route, ...attributes } }, parent);
  let ended = false;
  const finish = (status: number, routeKnownLater?: string) => {
    if (ended) return;
    ended = true;
    if (routeKnownLater) {
      span.updateName(`${method} ${routeKnownLater}`);
      span.setAttribute('http.route', routeKnownLater);
    }
    span.setAttribute('http.response.status_code', status);
    // OpenTelemetry HTTP semantic conventions: a server span is an error for 5xx only.
    if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
    span.end();
  };
  try {
    return await api.context.with(api.trace.setSpan(parent, span), () => fn(finish));
  } catch (err) {
    span.recordException(err as Error);
    finish(500);
    throw err;
  } finally {
    finish(0);
  }
}

/** Adds attributes to the current span (the request's), e.g. the workspace and client once they are known. */
export function annotateSpan(attributes: Attributes): void {
  const l = loaded;
  if (!l) return;
  l.api.trace.getActiveSpan()?.setAttributes(attributes);
}

/** Runs `fn` in a child span of the current one (tool calls). `attributes` is called only while tracing is on. */
export async function withSpan<T>(name: string, attributes: () => Attributes, fn: () => Promise<T>): Promise<T> {
  const l = loaded;
  if (!l) return fn();
  return l.tracer.startActiveSpan(name, { kind: l.api.SpanKind.INTERNAL, attributes: attributes() }, async (span) => {
    try {
      const result = await fn();
      if ((result as { isError?: boolean } | null)?.isError === true) span.setStatus({ code: l.api.SpanStatusCode.ERROR, message: 'tool result isError' });
      return result;
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: l.api.SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** A finished database query as a client span of the current one (from Kysely's query log: start time and duration). */
export function recordQuerySpan(system: 'sqlite' | 'postgresql', operation: string, text: string, durationMs: number, failed: boolean): void {
  const l = loaded;
  if (!l) return;
  const end = Date.now();
  const span = l.tracer.startSpan(
    `${operation} ${system}`,
    {
      kind: l.api.SpanKind.CLIENT,
      startTime: end - durationMs,
      // Kysely sends values as parameters: the text holds no credentials or user data.
      attributes: { 'db.system.name': system, 'db.operation.name': operation, 'db.query.text': text.length > 2000 ? text.slice(0, 2000) : text },
    },
    l.api.context.active(),
  );
  if (failed) span.setStatus({ code: l.api.SpanStatusCode.ERROR });
  span.end(end);
}

/** The trace id for a request's log line: the current span's, else the caller's `traceparent`'s. */
export function traceIdFor(header: (name: string) => string | undefined): string | undefined {
  const l = loaded;
  if (l) {
    const ctx = l.api.trace.getActiveSpan()?.spanContext();
    if (ctx) return ctx.traceId;
  }
  return parseTraceparent(header('traceparent'))?.traceId;
}

/**
 * Headers to send to an upstream (the gateway) so that its spans join this trace: the current span's context when
 * tracing is on; otherwise the caller's own `traceparent`/`tracestate`, passed on unchanged (W3C Trace Context §2.3:
 * a participant that does not trace forwards them as they came).
 */
export function outgoingTraceHeaders(incoming: (name: string) => string | undefined): Record<string, string> {
  const l = loaded;
  const out: Record<string, string> = {};
  if (l) {
    l.api.propagation.inject(l.api.context.active(), out);
    if (out.traceparent) return out;
  }
  const tp = incoming('traceparent');
  if (parseTraceparent(tp)) {
    out.traceparent = tp!.trim();
    const ts = incoming('tracestate');
    if (ts && ts.length <= 512) out.tracestate = ts;
  }
  return out;
}
