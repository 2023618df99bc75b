import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchPerTurn } from './batch-per-turn.ts';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

test('items of one turn are handed over together on the next; items added while a batch is handled wait for it', async () => {
  const batches: number[][] = [];
  let finishFirst!: () => void;
  const b = batchPerTurn<number>(async (batch) => {
    batches.push(batch);
    if (batches.length === 1) await new Promise<void>((r) => (finishFirst = r));
  });
  b.add(1);
  b.add(2);
  assert.equal(b.busy, true);
  assert.deepEqual(batches, [], 'not in the same turn');
  await nextTurn();
  assert.deepEqual(batches, [[1, 2]]);
  b.add(3);
  await nextTurn();
  b.add(4);
  await nextTurn();
  assert.deepEqual(batches, [[1, 2]], 'the next batch waits until the first has settled');
  finishFirst();
  await nextTurn();
  await nextTurn();
  assert.deepEqual(batches, [[1, 2], [3, 4]]);
  assert.equal(b.busy, false);
});

test('maxBatch bounds a batch; the rest follow', async () => {
  const batches: string[][] = [];
  const b = batchPerTurn<string>(async (batch) => void batches.push(batch), { maxBatch: 2 });
  for (const x of ['a', 'b', 'c', 'd', 'e']) b.add(x);
  while (b.busy) await nextTurn();
  assert.deepEqual(batches, [['a', 'b'], ['c', 'd'], ['e']]);
});
