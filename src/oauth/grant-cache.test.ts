import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORGET_ALL, grantCache } from './grant-cache.ts';

function clockedCache(maxAgeMs = 1000, maxEntries?: number) {
  let t = 0;
  const cache = grantCache({ maxAgeMs, maxEntries, now: () => t });
  return { cache, advance: (ms: number) => (t += ms) };
}

test('grant cache: nothing is trusted until revocations are heard, nor after the connection drops', () => {
  const { cache } = clockedCache();
  cache.remember('g1', 0, cache.ticket());
  assert.equal(cache.lookup('g1'), undefined, 'remembered before LISTEN was up');
  cache.setLive(true);
  cache.remember('g1', 2, cache.ticket());
  assert.equal(cache.lookup('g1'), 2);
  cache.setLive(false);
  assert.equal(cache.lookup('g1'), undefined);
  cache.setLive(true);
  assert.equal(cache.lookup('g1'), undefined, 'a reconnect must forget: notifications may have been missed');
  assert.equal(cache.size, 0);
});

test('grant cache: an entry expires at the max age, counted from the read that filled it', () => {
  const { cache, advance } = clockedCache(1000);
  cache.setLive(true);
  const ticket = cache.ticket();
  advance(300); // the read took 300 ms
  cache.remember('g1', 0, ticket);
  advance(699);
  assert.equal(cache.lookup('g1'), 0);
  advance(1);
  assert.equal(cache.lookup('g1'), undefined);
});

test('grant cache: a revocation heard drops its grant; `*` forgets all; a read across a revocation is not remembered', () => {
  const { cache } = clockedCache();
  cache.setLive(true);
  cache.remember('g1', 0, cache.ticket());
  cache.remember('g2', 0, cache.ticket());
  cache.heard('g1');
  assert.equal(cache.lookup('g1'), undefined);
  assert.equal(cache.lookup('g2'), 0);
  cache.heard(FORGET_ALL);
  assert.equal(cache.lookup('g2'), undefined);

  const ticket = cache.ticket();
  cache.heard('g3'); // heard while g3's read was under way: the read may predate the revocation
  cache.remember('g3', 0, ticket);
  assert.equal(cache.lookup('g3'), undefined);
});

test('grant cache: bounded (the oldest entry goes first); raise only raises; max age 0 remembers nothing', () => {
  const { cache } = clockedCache(1000, 2);
  cache.setLive(true);
  for (const id of ['a', 'b', 'c']) cache.remember(id, 1, cache.ticket());
  assert.equal(cache.size, 2);
  assert.equal(cache.lookup('a'), undefined);
  cache.raise('b', 5);
  cache.raise('b', 3);
  assert.equal(cache.lookup('b'), 5);

  const none = clockedCache(0).cache;
  none.setLive(true);
  none.remember('a', 0, none.ticket());
  assert.equal(none.lookup('a'), undefined);
});
