// Counters in Redis, shared by every process that uses it. A Lua script counts all of a call's keys in one
// round trip and starts each key's window (PEXPIRE) on its first call. If Redis cannot answer, calls are
// counted in process memory until it can (logged), so an outage degrades the limit instead of failing calls.
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from '../../util/logger.ts';
import type { RateLimitBackend, WindowCount } from './backend.ts';
import { memoryBackend } from './memory.ts';

const SCRIPT = `
local window = tonumber(ARGV[1])
local peek = ARGV[2] == '1'
local out = {}
for i = 1, #KEYS do
  local count
  if peek then
    count = tonumber(redis.call('GET', KEYS[i]) or '0')
  else
    count = redis.call('INCR', KEYS[i])
  end
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    if not peek then redis.call('PEXPIRE', KEYS[i], window) end
    ttl = window
  end
  out[#out + 1] = count
  out[#out + 1] = ttl
end
return out`;

export interface RedisBackendOptions {
  /** Every key starts with this (tests use their own and delete what they made). */
  keyPrefix?: string;
  logger?: Logger;
}

type WithScript = Redis & { tollgateRateLimit(numKeys: number, ...args: (string | number)[]): Promise<number[]> };

export function redisBackend(url: string, options: RedisBackendOptions = {}): RateLimitBackend {
  const prefix = options.keyPrefix ?? 'tollgate:rl:';
  // Loaded only when Redis is configured: the client and its dependencies cost some 20 MB of memory otherwise unused.
  const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const redis = new RedisClient(url, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 1000, enableAutoPipelining: true }) as WithScript;
  redis.defineCommand('tollgateRateLimit', { lua: SCRIPT });
  // ioredis reports connection trouble here; the failing command reports it to the caller below.
  redis.on('error', () => {});
  const fallback = memoryBackend();
  let lastWarning = 0;

  async function run(keys: readonly string[], windowMs: number, peek: boolean): Promise<WindowCount[]> {
    if (!keys.length) return [];
    try {
      const flat = await redis.tollgateRateLimit(keys.length, ...keys.map((k) => prefix + k), windowMs, peek ? '1' : '0');
      return keys.map((_, i) => ({ count: Number(flat[2 * i]), resetMs: Number(flat[2 * i + 1]) }));
    } catch (err) {
      if (Date.now() - lastWarning > 60_000) {
        lastWarning = Date.now();
        options.logger?.warn({ err: { message: (err as Error).message } }, 'Redis rate-limit counters unavailable; counting in this process until it answers');
      }
      return peek ? fallback.peek(keys, windowMs) : fallback.hit(keys, windowMs);
    }
  }

  return {
    name: 'redis',
    hit: (keys, windowMs) => run(keys, windowMs, false),
    peek: (keys, windowMs) => run(keys, windowMs, true),
    async close() {
      await fallback.close();
      if (redis.status === 'wait' || redis.status === 'end') redis.disconnect();
      else await redis.quit().catch(() => redis.disconnect());
    },
  };
}
