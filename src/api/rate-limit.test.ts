import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimiter } from './rate-limit.ts';

test('each key gets its own fixed one-minute window, with Retry-After until the window ends', () => {
  let now = 120_000 + 15_000;
  const limiter = rateLimiter(3, { now: () => now });
  for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take('a'), { allowed: true });
  assert.deepEqual(limiter.take('a'), { allowed: false, retryAfterSeconds: 45 });
  assert.deepEqual(limiter.take('b'), { allowed: true }, 'another key is not affected');
  now = 180_000;
  assert.deepEqual(limiter.take('a'), { allowed: true }, 'a new window');
});

test('the table of windows stays bounded', () => {
  const limiter = rateLimiter(1, { maxKeys: 2, now: () => 0 });
  limiter.take('a');
  limiter.take('b');
  limiter.take('c');
  assert.deepEqual(limiter.take('a'), { allowed: true }, 'the oldest window was dropped');
});
