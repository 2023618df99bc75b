import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardedClient } from './client-ip.ts';

test('behind N trusted proxies the client is the address N hops left of the peer', () => {
  assert.equal(forwardedClient('203.0.113.7', '10.0.0.2', 1), '203.0.113.7');
  // The client wrote the first entry itself; the one proxy appended the address it saw.
  assert.equal(forwardedClient('1.2.3.4, 203.0.113.7', '10.0.0.2', 1), '203.0.113.7');
  assert.equal(forwardedClient('1.2.3.4, 203.0.113.7, 10.0.0.9', '10.0.0.2', 2), '203.0.113.7');
  assert.equal(forwardedClient('2001:db8::1', '::1', 1), '2001:db8::1');
});

test('a missing, short or unparseable chain falls back to the peer', () => {
  assert.equal(forwardedClient(undefined, '10.0.0.2', 1), '10.0.0.2');
  assert.equal(forwardedClient('', '10.0.0.2', 1), '10.0.0.2');
  assert.equal(forwardedClient('not an address', '10.0.0.2', 1), '10.0.0.2');
  assert.equal(forwardedClient('203.0.113.7', '10.0.0.2', 3), '203.0.113.7', 'more hops than entries: the leftmost');
  assert.equal(forwardedClient('203.0.113.7', '10.0.0.2', 0), '10.0.0.2');
});
