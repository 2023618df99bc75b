import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryBackend } from '../credits/rate-limit/memory.ts';
import { apiRateLimiter } from './rate-limit.ts';

test('each key gets its own one-minute window, with Retry-After until the window ends', async () => {
  let now = 135_000;
  const limiter = apiRateLimiter(memoryBackend({ now: () => now }), 3);
  for (let i = 0; i < 3; i++) assert.deepEqual(await limiter.take('a'), { allowed: true });
  now += 15_000;
  assert.deepEqual(await limiter.take('a'), { allowed: false, retryAfterSeconds: 45 });
  assert.deepEqual(await limiter.take('b'), { allowed: true }, 'another key is not affected');
  now += 45_000;
  assert.deepEqual(await limiter.take('a'), { allowed: true }, 'a new window');
});

test('an API key is counted apart from a workspace or a grant with the same id', async () => {
  const backend = memoryBackend({ now: () => 0 });
  await backend.hit(['ws:k1', 'grant:k1'], 60_000);
  await backend.hit(['ws:k1', 'grant:k1'], 60_000);
  const limiter = apiRateLimiter(backend, 1);
  assert.deepEqual(await limiter.take('k1'), { allowed: true });
  assert.equal((await limiter.take('k1')).allowed, false);
});
