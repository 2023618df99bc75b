// Redis for tests: TOLLGATE_TEST_REDIS_URL (unset: Redis suites are skipped, loudly), a private key prefix per
// suite, and cleanup of every key under it.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TOLLGATE_TEST_REDIS_URL;

let warned = false;
export function warnRedisSkip(): void {
  if (REDIS_URL || warned) return;
  warned = true;
  process.stderr.write('\n!!! TOLLGATE_TEST_REDIS_URL is not set: the Redis rate-limit suites are SKIPPED !!!\n\n');
}

export const testKeyPrefix = (): string => `tollgate-test:${process.pid}:${randomBytes(4).toString('hex')}:`;

/** Deletes every key under `prefix`; returns how many. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url);
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  await redis.quit();
  return deleted;
}
