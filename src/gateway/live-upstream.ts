// One configured upstream, live in this process: its connection (created once, reused by every call), its circuit
// breaker, and the calls that carry the caller's forwarded JWT.
import type { Logger } from '../util/logger.ts';
import type { ToolContext } from '../tools/tool-types.ts';
import type { JsonRpcMessage, UpstreamConnection } from './connection.ts';
import { circuitBreaker, type CircuitBreaker } from './circuit-breaker.ts';
import type { ForwardedTokens } from './forwarded-token.ts';
import { httpConnection } from './upstream-http.ts';
import { stdioConnection } from './upstream-stdio.ts';
import type { Upstream } from './upstream-config.ts';
import { UpstreamError, UpstreamRpcError } from './upstream-errors.ts';

export interface LiveUpstreamOptions {
  readonly defaultTimeoutMs: number;
  readonly breakerFailures: number;
  readonly breakerCooldownMs: number;
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
}

/** `_meta` key under which a stdio upstream receives the forwarded JWT (it has no HTTP headers). */
export const META_FORWARDED_TOKEN = 'tollgate/forwardedToken';

/** The `aud` of the JWTs forwarded to an upstream: its URL, or for a stdio upstream a URN with its name. */
export const upstreamAudience = (u: Upstream): string => (u.target.transport === 'http' ? u.target.url : `urn:tollgate:upstream:${u.name}`);

export interface LiveUpstream {
  readonly upstream: Upstream;
  readonly connection: UpstreamConnection;
  readonly breaker: CircuitBreaker;
  readonly timeoutMs: number;
  /** A call on the caller's behalf; throws UpstreamError (also when the circuit is open) or UpstreamRpcError. */
  call<T = Record<string, unknown>>(method: string, params: Record<string, unknown>, ctx: ToolContext, check?: (result: Record<string, unknown>) => T): Promise<T>;
  /** A call on Tollgate's own behalf (tools/list). */
  serviceCall(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export function liveUpstream(upstream: Upstream, tokens: ForwardedTokens, logger: Logger, options: LiveUpstreamOptions): LiveUpstream {
  const timeoutMs = upstream.timeoutMs ?? options.defaultTimeoutMs;
  const audience = upstreamAudience(upstream);
  const t = upstream.target;
  const connection =
    t.transport === 'http'
      ? httpConnection({ url: t.url, headers: t.headers, timeoutMs, serviceHeaders: async () => ({ authorization: `Bearer ${await tokens.forGateway(audience)}` }) })
      : stdioConnection({ name: upstream.name, command: t.command, env: t.env, timeoutMs, logger, restartMinMs: options.restartMinMs, restartMaxMs: options.restartMaxMs });
  let progressCounter = 1;
  const breaker = circuitBreaker({ failures: options.breakerFailures, cooldownMs: options.breakerCooldownMs });

  /** Runs a call under the breaker; `check` (a result that is not what the method returns is garbage) counts too. */
  async function guarded<T>(fn: () => Promise<Record<string, unknown>>, check: (result: Record<string, unknown>) => T): Promise<T> {
    const blocked = breaker.blockedForMs();
    if (blocked !== undefined) {
      throw new UpstreamError(`is unavailable: its last ${options.breakerFailures} calls failed, so Tollgate is not calling it for ${Math.ceil(blocked / 1000)} s (circuit breaker open)`, false);
    }
    try {
      const result = check(await fn());
      breaker.success();
      return result;
    } catch (err) {
      // An in-band error or a cancellation says nothing about the upstream's health.
      if (err instanceof UpstreamRpcError || (err instanceof UpstreamError && !err.unhealthy)) breaker.success();
      else breaker.failure();
      throw err;
    }
  }

  return {
    upstream,
    connection,
    breaker,
    timeoutMs,
    async call<T>(method: string, params: Record<string, unknown>, ctx: ToolContext, check: (result: Record<string, unknown>) => T = (r) => r as T): Promise<T> {
      const token = await tokens.forCaller(audience, ctx);
      // Progress the client asked for: the upstream gets a token of Tollgate's, and its notifications are relayed.
      const relay = ctx.progress;
      const progressToken = relay ? `tg-${progressCounter++}` : undefined;
      const onNotification = relay
        ? (m: JsonRpcMessage) => {
            const p = m.params as { progress?: unknown; total?: unknown; message?: unknown } | undefined;
            if (m.method !== 'notifications/progress' || typeof p?.progress !== 'number') return;
            relay({ progress: p.progress, ...(typeof p.total === 'number' ? { total: p.total } : {}), ...(typeof p.message === 'string' ? { message: p.message.slice(0, 1000) } : {}) });
          }
        : undefined;
      const meta: Record<string, unknown> = { ...(params._meta as Record<string, unknown> | undefined) };
      if (progressToken) meta.progressToken = progressToken;
      if (t.transport === 'http') {
        const sent = progressToken ? { ...params, _meta: meta } : params;
        return guarded(() => connection.request(method, sent, { timeoutMs, headers: { ...ctx.traceHeaders?.(), authorization: `Bearer ${token}` }, onNotification, signal: ctx.signal }), check);
      }
      meta[META_FORWARDED_TOKEN] = token;
      return guarded(() => connection.request(method, { ...params, _meta: meta }, { timeoutMs, onNotification, signal: ctx.signal }), check);
    },
    async serviceCall(method, params) {
      // Discovery is not a client waiting on a tool: it may take longer than a call (a cold upstream starting up).
      const serviceTimeoutMs = Math.max(timeoutMs, 10_000);
      if (t.transport === 'http') return connection.request(method, params, { timeoutMs: serviceTimeoutMs, headers: { authorization: `Bearer ${await tokens.forGateway(audience)}` } });
      return connection.request(method, params, { timeoutMs: serviceTimeoutMs });
    },
    close: () => connection.close(),
  };
}
