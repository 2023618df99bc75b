// Metrics that several modules add to, defined once here so that each keeps one name and one label set.
import { counter } from './metrics.ts';

/** Requests refused by a rate limit: `limit` is `tool_call` (429 on MCP), `registration` (DCR per IP) or `sign_in`. */
export const rateLimitRejections = counter('tollgate_rate_limit_rejections_total', 'Requests refused by a rate limit, by which limit.', ['limit']);
for (const l of ['tool_call', 'registration', 'sign_in']) rateLimitRejections.child(l);
