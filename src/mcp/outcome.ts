// What handling one JSON-RPC message produces, before it becomes an HTTP response.
import type { Logger } from '../util/logger.ts';
import type { VerifiedAccessToken } from '../oauth/index.ts';
import type { RpcError } from './jsonrpc.ts';
import type { HeaderReader } from './era.ts';
import type { RateLimitState } from '../tools/metering.ts';
import type { RequestTags } from '../http/endpoint.ts';

export type Outcome =
  /** A JSON-RPC result (already serialised), with extra response headers. */
  | { kind: 'result'; json: string; headers?: Record<string, string> }
  /** A JSON-RPC error, and the HTTP status it travels with (200 when in-band). */
  | { kind: 'error'; error: RpcError; status: number }
  /** A notification (or a posted response): 202, no body. */
  | { kind: 'accepted' }
  /** Not a JSON-RPC answer at all: an HTTP refusal (403 insufficient scope, 429 rate limited, 503 metering unavailable for a moment) for the whole request. */
  | { kind: 'refuse'; status: 403 | 429 | 503; headers: Record<string, string>; body: string };

/** Everything a message handler knows about the caller. */
export interface CallContext {
  readonly token: VerifiedAccessToken;
  readonly workspace: { readonly id: string; readonly slug: string; readonly name: string };
  readonly requestId: string;
  /** The protected-resource metadata URL for the URL form the client used (for challenges). */
  readonly metadataUrl: string;
  readonly header: HeaderReader;
  readonly logger: Logger;
  /** What the request's log line says about it (the tool called), when the transport keeps such a record. */
  readonly tags?: RequestTags;
  /** Relays a `notifications/progress` to the client (set when its answer can be an SSE stream). */
  readonly progress?: (params: Record<string, unknown>) => void;
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const policy = `"${state.policy.replace(/[^A-Za-z0-9_.:-]/g, '')}"`;
  return {
    'RateLimit-Policy': `${policy};q=${state.limit}${state.windowSeconds !== undefined ? `;w=${state.windowSeconds}` : ''}`,
    RateLimit: `${policy};r=${Math.max(0, state.remaining)};t=${Math.max(0, Math.ceil(state.resetSeconds))}`,
  };
}
