// In-process counters: right for one process (the default on SQLite). Bounded, so a flood of distinct keys
// (grants) cannot grow memory without limit; losing a counter only ever resets a window early.
import type { RateLimitBackend, WindowCount } from './backend.ts';

export interface MemoryBackendOptions {
  maxKeys?: number;
  now?: () => number;
}

export function memoryBackend(options: MemoryBackendOptions = {}): RateLimitBackend {
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();

  function sweep(t: number, windowMs: number): void {
    for (const [k, w] of windows) if (w.start + windowMs <= t) windows.delete(k);
    // Still full: forget the oldest windows (Map order is insertion order).
    for (const k of windows.keys()) {
      if (windows.size < maxKeys) break;
      windows.delete(k);
    }
  }

  return {
    name: 'memory',
    async hit(keys, windowMs) {
      const t = now();
      return keys.map((key): WindowCount => {
        let w = windows.get(key);
        if (!w || w.start + windowMs <= t) {
          if (w) windows.delete(key);
          else if (windows.size >= maxKeys) sweep(t, windowMs);
          w = { start: t, count: 0 };
          windows.set(key, w);
        }
        w.count++;
        return { count: w.count, resetMs: w.start + windowMs - t };
      });
    },
    async peek(keys, windowMs) {
      const t = now();
      return keys.map((key): WindowCount => {
        const w = windows.get(key);
        return w && w.start + windowMs > t ? { count: w.count, resetMs: w.start + windowMs - t } : { count: 0, resetMs: windowMs };
      });
    },
    async close() {
      windows.clear();
    },
  };
}
