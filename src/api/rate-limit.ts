// Requests per minute per API key (a fixed window from the key's first request), counted on the rate-limit backend
// the MCP limits use: in this process on SQLite, shared by every process on PostgreSQL or Redis
// (TOLLGATE_RATE_LIMIT_BACKEND). The management API is for a company's backend, not for end users: this limit guards
// against a runaway client, not abuse at scale.
import type { RateLimitBackend } from '../credits/rate-limit/backend.ts';

const WINDOW_MS = 60_000;

export type ApiLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export function apiRateLimiter(backend: RateLimitBackend, perMinute: number) {
  return {
    async take(keyId: string): Promise<ApiLimitDecision> {
      // Its own key space: an API key's id can never be read as a workspace's or a grant's counter.
      const [w] = await backend.hit([`api:${keyId}`], WINDOW_MS, [perMinute]);
      if (w.count <= perMinute) return { allowed: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(w.resetMs / 1000)) };
    },
  };
}
