import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counter, histogram, renderMetrics } from './metrics.ts';

test('a counter child is found again by its label values, and the text shows each child once', async () => {
  const c = counter('test_unit_things_total', 'things', ['kind', 'code']);
  const a = c.child('a', 200);
  a.inc();
  c.child('a', 200).inc(2);
  c.child('b', 500).inc();
  c.child('a', 200).inc(-5); // counters never go down
  assert.equal(c.child('a', 200), a);
  assert.equal(c.value('a', 200), 3);
  const text = await renderMetrics();
  assert.match(text, /^# TYPE test_unit_things_total counter$/m);
  assert.match(text, /^test_unit_things_total\{kind="a",code="200"\} 3$/m);
  assert.match(text, /^test_unit_things_total\{kind="b",code="500"\} 1$/m);
});

test('a histogram exposes cumulative buckets, +Inf, sum and count', async () => {
  const h = histogram('test_unit_latency_seconds', 'latency', ['route'], [0.1, 1]);
  h.child('/x').observe(0.05);
  h.child('/x').observe(0.5);
  h.child('/x').observe(5);
  h.child('/x').observe(Number.NaN);
  const text = await renderMetrics();
  assert.match(text, /^test_unit_latency_seconds_bucket\{route="\/x",le="0.1"\} 1$/m);
  assert.match(text, /^test_unit_latency_seconds_bucket\{route="\/x",le="1"\} 2$/m);
  assert.match(text, /^test_unit_latency_seconds_bucket\{route="\/x",le="\+Inf"\} 3$/m);
  assert.match(text, /^test_unit_latency_seconds_sum\{route="\/x"\} 5.55$/m);
  assert.match(text, /^test_unit_latency_seconds_count\{route="\/x"\} 3$/m);
});

test('label values are escaped in the text format', async () => {
  const c = counter('test_unit_escape_total', 'escape', ['v']);
  c.child('a"b\\c\nd').inc();
  assert.match(await renderMetrics(), /^test_unit_escape_total\{v="a\\"b\\\\c\\nd"\} 1$/m);
});

test('past 2000 label sets, new ones share one overflow child (cardinality guard)', () => {
  const c = counter('test_unit_many_total', 'many', ['id']);
  for (let i = 0; i < 2000; i++) c.child(`id-${i}`).inc();
  c.child('one-more').inc();
  c.child('and-another').inc();
  assert.equal(c.child('one-more'), c.child('and-another'));
  assert.equal(c.value('one-more'), 2, 'both landed in the overflow child');
  assert.equal(c.value('id-7'), 1, 'the children made before the limit keep their own');
});
