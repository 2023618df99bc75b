import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topNLabel } from './top-n.ts';

const frozen = () => 0;

test('top-N: with N or fewer values each has its own label at once', () => {
  const label = topNLabel(3, { now: frozen });
  assert.equal(label('a'), 'a');
  assert.equal(label('b'), 'b');
  assert.equal(label('c'), 'c');
  assert.equal(label('d'), 'other');
  assert.equal(label('a'), 'a');
});

test('top-N: a heavy value seen after N light ones gets its own label, and a light one gives its place up', () => {
  const label = topNLabel(2, { rerankEvery: 100, now: frozen });
  for (let i = 0; i < 5; i++) {
    assert.equal(label('light-1'), 'light-1');
    assert.equal(label('light-2'), 'light-2');
  }
  // The places are taken: the heavy one starts as other …
  assert.equal(label('heavy'), 'other');
  let got = '';
  for (let i = 0; i < 100 && got !== 'heavy'; i++) got = label('heavy');
  // … and has its own label after the next re-ranking (within 100 observations).
  assert.equal(got, 'heavy');
  assert.equal(label('heavy'), 'heavy');
  const lights = [label('light-1'), label('light-2')];
  assert.equal(lights.filter((l) => l === 'other').length, 1, `one light value is other now: ${lights}`);
});

test('top-N: a long tail of values seen once never takes a place from the busy ones; memory stays bounded', () => {
  const label = topNLabel(2, { rerankEvery: 50, capacity: 16, now: frozen });
  const given = new Set<string>();
  for (let round = 0; round < 200; round++) {
    given.add(label('busy-a'));
    given.add(label('busy-b'));
    given.add(label(`scanner-${round}`));
  }
  // The first tail values may hold a free place briefly at the start, never after the first re-ranking.
  assert.equal(label('busy-a'), 'busy-a');
  assert.equal(label('busy-b'), 'busy-b');
  assert.equal(label('scanner-new'), 'other');
  const tailLabels = [...given].filter((l) => l.startsWith('scanner-'));
  assert.ok(tailLabels.length === 0, `no tail value got a label: ${tailLabels.slice(0, 5)}`);
});

test('top-N: labels do not flap between values of similar volume (a holder keeps its place)', () => {
  const label = topNLabel(1, { rerankEvery: 20, now: frozen });
  assert.equal(label('a'), 'a');
  // b a little busier than a: not enough to take the place.
  for (let i = 0; i < 200; i++) {
    label('a');
    label('b');
    if (i % 5 === 0) label('b');
  }
  assert.equal(label('a'), 'a');
  assert.equal(label('b'), 'other');
});

test('top-N: re-ranked on time too, so a quiet process follows its traffic', () => {
  let t = 0;
  const label = topNLabel(1, { rerankEvery: 1_000_000, rerankMs: 10_000, now: () => t });
  assert.equal(label('early'), 'early');
  for (let i = 0; i < 30; i++) label('later');
  assert.equal(label('later'), 'other', 'no re-ranking yet');
  t = 10_001;
  assert.equal(label('later'), 'later');
  assert.equal(label('early'), 'other');
});
