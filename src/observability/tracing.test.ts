import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outgoingTraceHeaders, parseTraceparent, tracing, wantsTracing, withSpan } from './tracing.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

test('parseTraceparent accepts W3C version 00 and future versions, refuses the invalid forms (§3.2.2)', () => {
  assert.deepEqual(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-01`), { traceId: TRACE, parentId: '00f067aa0ba902b7', sampled: true });
  assert.equal(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-00`)?.sampled, false);
  assert.equal(parseTraceparent(`01-${TRACE}-00f067aa0ba902b7-01-what-comes-later`)?.traceId, TRACE);
  for (const bad of [
    undefined,
    '',
    `ff-${TRACE}-00f067aa0ba902b7-01`,
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
    `00-${TRACE}-${'0'.repeat(16)}-01`,
    `00-${TRACE}-00f067aa0ba902b7-01-extra`,
    `00-${TRACE.slice(1)}-00f067aa0ba902b7-01`,
    `00-${TRACE}-00f067aa0ba902bz-01`,
    `00-${TRACE}-00f067aa0ba902b7-01${'x'.repeat(600)}`,
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
});

test('tracing is wanted only with an OTLP endpoint, and not when the SDK or the exporter is switched off', () => {
  assert.equal(wantsTracing({}), false);
  assert.equal(wantsTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), true);
  assert.equal(wantsTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }), true);
  assert.equal(wantsTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_SDK_DISABLED: 'true' }), false);
  assert.equal(wantsTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x', OTEL_TRACES_EXPORTER: 'none' }), false);
});

test('with tracing off, spans cost nothing and the caller\'s trace context is passed on unchanged', async () => {
  assert.equal(tracing.active, false);
  let made = false;
  const r = await withSpan('x', () => ((made = true), {}), async () => 42);
  assert.equal(r, 42);
  assert.equal(made, false, 'attributes are not even built');
  const incoming: Record<string, string> = { traceparent: `00-${TRACE}-00f067aa0ba902b7-01`, tracestate: 'vendor=1' };
  assert.deepEqual(outgoingTraceHeaders((n) => incoming[n]), incoming);
  assert.deepEqual(outgoingTraceHeaders((n) => ({ traceparent: 'garbage' })[n]), {});
});
