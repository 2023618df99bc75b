// Requests per minute per API key, counted in this process (a fixed window; bounded, safe to lose). The management
// API is for a company's backend, not for end users: this limit guards against a runaway client, not abuse at scale.
export function rateLimiter(perMinute: number, options: { maxKeys?: number; now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 10_000;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    take(keyId: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
      const t = now();
      const start = t - (t % 60_000);
      let w = windows.get(keyId);
      if (!w || w.start !== start) {
        if (!w && windows.size >= maxKeys) windows.delete(windows.keys().next().value as string);
        w = { start, count: 0 };
        windows.set(keyId, w);
      }
      if (w.count >= perMinute) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((start + 60_000 - t) / 1000)) };
      w.count++;
      return { allowed: true };
    },
  };
}
