// Metrics that several modules add to, defined once here so that each keeps one name and one label set.
import { counter } from './metrics.ts';

/**
 * Every limit Tollgate answers 429 for, by where: `tool_call` (an MCP plan limit), `registration` (dynamic client
 * registration per IP), `device_authorization` (per IP), `sign_in` (password guesses), `two_factor` (code
 * guesses), `sso_start` (sign-ins started through a connection per IP), `password_reset` (reset mails per IP) and
 * `api` (the management API, per key). A fixed set: the label is bounded.
 */
export const RATE_LIMITS = ['tool_call', 'registration', 'device_authorization', 'sign_in', 'two_factor', 'sso_start', 'password_reset', 'api'] as const;
export type RateLimitName = (typeof RATE_LIMITS)[number];

/** Requests refused with 429 by a rate limit, by which limit. */
export const rateLimitRejections = counter('tollgate_rate_limit_rejections_total', 'Requests refused with 429 by a rate limit, by which limit.', ['limit']);
const children = new Map(RATE_LIMITS.map((l) => [l, rateLimitRejections.child(l)]));

/** Counts one 429 answered for `limit`. */
export function countRateLimited(limit: RateLimitName): void {
  children.get(limit)!.inc();
}
