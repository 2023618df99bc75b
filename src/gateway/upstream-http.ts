// A Streamable HTTP upstream (MCP 2025-03-26 … 2025-11-25): one upstream session per process, shared by every call
// (each POST carries its caller's forwarded JWT), over a keep-alive connection pool (http-post.ts). Initialised once, lazily;
// re-initialised when the upstream answers 404 for an expired session. JSON and SSE answers are both read; a
// server-to-client request inside an SSE answer is refused at once rather than left hanging.
import { mediaType } from '../util/media-type.ts';
import { readSse } from '../client/sse.ts';
import {
  CLIENT_INFO, initializeParams, isNotification, isResponse, isServerRequest, refusalFor, resultOf, UPSTREAM_PROTOCOL_VERSION,
  type JsonRpcMessage, type RequestOptions, type UpstreamConnection,
} from './connection.ts';
import { UpstreamError, UpstreamRpcError } from './upstream-errors.ts';
import { upstreamPoster, type UpstreamResponse } from './http-post.ts';
import { Http1Error } from './http1-client.ts';

export interface HttpConnectionOptions {
  readonly url: string;
  /** Static headers (a shared secret): sent with every request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Headers for requests made on Tollgate's own behalf (initialize, tools/list): its service JWT. */
  readonly serviceHeaders: () => Promise<Record<string, string>>;
  readonly timeoutMs: number;
}

const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export function httpConnection(options: HttpConnectionOptions): UpstreamConnection {
  let sessionId: string | undefined;
  let protocolVersion: string | undefined;
  let capabilities: Record<string, unknown> | undefined;
  let instructions: string | undefined;
  let initializing: Promise<void> | undefined;
  /** A 2026-07-28 (stateless) upstream: no session; every request carries the `_meta` envelope and its headers. */
  let modern = false;
  let nextId = 1;
  let closed = false;
  const listeners: ((m: JsonRpcMessage) => void)[] = [];
  const inflight = new Set<AbortController>();
  const target = new URL(options.url);
  const poster = upstreamPoster(target);

  function headersFor(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
    const h: Record<string, string> = { ...options.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra };
    if (sessionId) h['mcp-session-id'] = sessionId;
    if (protocolVersion) h['mcp-protocol-version'] = protocolVersion;
    return h;
  }

  /** POSTs one message; resolves with the response to `id` (undefined for a notification). */
  async function post(message: JsonRpcMessage, requestOptions: RequestOptions): Promise<JsonRpcMessage | undefined> {
    if (closed) throw new UpstreamError('is shut down');
    const controller = new AbortController();
    inflight.add(controller);
    const timer = setTimeout(() => controller.abort(new UpstreamError(`did not answer within ${requestOptions.timeoutMs} ms`)), requestOptions.timeoutMs);
    // MCP cancellation: the client cancelled, so the upstream is told (notifications/cancelled) and the call ends.
    const onAbort = () => {
      controller.abort(new UpstreamError('was cancelled by the client', false));
      if (message.id !== undefined) void post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: message.id, reason: 'cancelled by the client' } }, { timeoutMs: 5000, headers: requestOptions.headers }).catch(() => {});
    };
    requestOptions.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let res: UpstreamResponse;
      try {
        // No redirect is followed (node:http never does): a 3xx is an error answer below.
        res = await poster.post(headersFor(requestOptions.headers), JSON.stringify(message), controller.signal);
      } catch (err) {
        if (controller.signal.aborted && controller.signal.reason instanceof UpstreamError) throw controller.signal.reason;
        // Its answer did not parse as HTTP (http1-client.ts says how, in words without the answer's own text).
        if (err instanceof Http1Error && err.cause?.code === 'EPROTO') throw new UpstreamError(err.message);
        throw new UpstreamError(`is unreachable (${(err as Error).cause ? ((err as Error).cause as NodeJS.ErrnoException).code ?? 'network error' : 'network error'})`);
      }
      const sid = res.headers.get('mcp-session-id');
      if (sid && message.method === 'initialize') sessionId = sid;
      // MCP Streamable HTTP: 404 for a session id means the session ended. Servers built on the SDK examples answer an
      // unknown session id with 400 instead, so a 400 to a request that carried one gets a fresh session too (once).
      if ((res.status === 404 || res.status === 400) && sessionId && message.method !== 'initialize') {
        await res.body.cancel().catch(() => {});
        throw new SessionExpired();
      }
      if (res.status === 202 || res.status === 204) {
        await res.body.cancel().catch(() => {});
        if (message.id === undefined) return undefined;
        throw new UpstreamError(`accepted ${message.method} without answering it`);
      }
      if (!res.ok) {
        await res.body.cancel().catch(() => {});
        // The upstream's own answer text is not shown: it may carry internals the client must not see.
        throw new UpstreamError(`answered HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (it refused Tollgate\'s credentials: check its shared secret or JWT settings)' : ''}`);
      }
      if (message.id === undefined) {
        await res.body.cancel().catch(() => {});
        return undefined;
      }
      const type = mediaType(res.headers.get('content-type'));
      if (type === 'text/event-stream') {
        try {
          for await (const ev of readSse(res.body)) {
            if (ev.event !== 'message' || !ev.data.trim()) continue;
            let m: unknown;
            try {
              m = JSON.parse(ev.data);
            } catch {
              continue;
            }
            if (isResponse(m) && m.id === message.id) return m;
            if (isServerRequest(m)) void post(refusalFor(m), { timeoutMs: 5000, headers: requestOptions.headers }).catch(() => {});
            else if (isNotification(m)) requestOptions.onNotification?.(m);
          }
        } catch (err) {
          if (controller.signal.aborted && controller.signal.reason instanceof UpstreamError) throw controller.signal.reason;
          throw new UpstreamError(`broke off its answer (${(err as Error).message.slice(0, 80)})`);
        }
        throw new UpstreamError(`ended its stream without answering ${message.method}`);
      }
      if (type !== 'application/json') {
        await res.body.cancel().catch(() => {});
        throw new UpstreamError(`answered with ${String(type).slice(0, 60)}, not JSON`);
      }
      const text = await res.text();
      if (text.length > MAX_ANSWER_BYTES) throw new UpstreamError('answered with more than 16 MiB');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UpstreamError('answered with invalid JSON');
      }
      const found = (Array.isArray(parsed) ? parsed : [parsed]).find((m) => isResponse(m) && m.id === message.id);
      if (!found) throw new UpstreamError(`answered ${message.method} with something that is not its JSON-RPC response`);
      return found as JsonRpcMessage;
    } catch (err) {
      if (controller.signal.aborted && controller.signal.reason instanceof UpstreamError) throw controller.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      requestOptions.signal?.removeEventListener('abort', onAbort);
      inflight.delete(controller);
    }
  }

  async function initialize(): Promise<void> {
    sessionId = undefined;
    protocolVersion = undefined;
    modern = false;
    const headers = await options.serviceHeaders();
    // A cold upstream may take longer to start a session than a call may take.
    const timeoutMs = Math.max(options.timeoutMs, 10_000);
    let result: Record<string, unknown>;
    try {
      const answer = await post({ jsonrpc: '2.0', id: `init-${nextId++}`, method: 'initialize', params: initializeParams() }, { timeoutMs, headers });
      result = resultOf(answer!, 'initialize');
    } catch (err) {
      // MCP 2026-07-28: a stateless server has no initialize (it answers it as an unknown method or an unsupported
      // revision): ask it server/discover instead and speak that revision to it.
      if (!(err instanceof UpstreamRpcError) && !(err instanceof UpstreamError && /HTTP 40[04]/.test(err.message))) throw err;
      modern = true;
      protocolVersion = MODERN_VERSION;
      const discovered = resultOf((await post(withEnvelope({ jsonrpc: '2.0', id: `discover-${nextId++}`, method: 'server/discover' }), { timeoutMs, headers: { ...headers, ...modernHeaders('server/discover') } }))!, 'server/discover');
      capabilities = (discovered.capabilities as Record<string, unknown> | undefined) ?? {};
      instructions = typeof discovered.instructions === 'string' ? discovered.instructions : undefined;
      return;
    }
    protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : UPSTREAM_PROTOCOL_VERSION;
    capabilities = (result.capabilities as Record<string, unknown> | undefined) ?? {};
    instructions = typeof result.instructions === 'string' ? result.instructions : undefined;
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { timeoutMs, headers });
    startListening();
  }

  const ready = (): Promise<void> => {
    initializing ??= initialize().catch((err) => {
      initializing = undefined;
      throw err;
    });
    return initializing;
  };

  /**
   * The upstream's notifications (tools/list_changed) arrive on the session's GET stream, when it offers one. A stream
   * that ends or breaks is opened again, after 1 s, doubling up to 60 s while it keeps ending within 30 s; one the
   * upstream does not offer (405, or not an event stream) is not asked for again in this session.
   */
  let listening = false;
  let reopenMs = 1000;
  let reopenTimer: NodeJS.Timeout | undefined;
  function startListening(): void {
    if (listening || closed || !sessionId) return;
    listening = true;
    void (async () => {
      const controller = new AbortController();
      inflight.add(controller);
      const session = sessionId;
      let opened = 0;
      let offered = true;
      try {
        const headers = { ...options.headers, ...(await options.serviceHeaders()), accept: 'text/event-stream', ...(sessionId ? { 'mcp-session-id': sessionId } : {}), ...(protocolVersion ? { 'mcp-protocol-version': protocolVersion } : {}) };
        const res = await fetch(options.url, { method: 'GET', headers, signal: controller.signal, redirect: 'error' });
        if (!res.ok || mediaType(res.headers.get('content-type')) !== 'text/event-stream' || !res.body) {
          offered = false;
          await res.body?.cancel().catch(() => {});
          return;
        }
        opened = Date.now();
        for await (const ev of readSse(res.body)) {
          let m: unknown;
          try {
            m = JSON.parse(ev.data);
          } catch {
            continue;
          }
          if (isNotification(m)) for (const l of listeners) l(m);
          else if (isServerRequest(m)) void post(refusalFor(m), { timeoutMs: 5000, headers: await options.serviceHeaders() }).catch(() => {});
        }
      } catch {
        // The stream is a convenience: list changes are also picked up at the next start or reload.
      } finally {
        inflight.delete(controller);
        listening = false;
        // The same session only: a new one (after a 404) opens its own stream when it starts.
        if (offered && !closed && sessionId === session) {
          const delay = opened && Date.now() - opened > 30_000 ? 1000 : reopenMs;
          reopenMs = Math.min(delay * 2, 60_000);
          reopenTimer = setTimeout(startListening, delay);
          reopenTimer.unref();
        }
      }
    })();
  }

  async function request(method: string, params: Record<string, unknown> | undefined, requestOptions: RequestOptions): Promise<Record<string, unknown>> {
    for (let attempt = 0; ; attempt++) {
      await ready();
      try {
        const message: JsonRpcMessage = { jsonrpc: '2.0', id: nextId++, method, ...(params ? { params } : {}) };
        const answer = modern
          ? await post(withEnvelope(message), { ...requestOptions, headers: { ...requestOptions.headers, ...modernHeaders(method, params) } })
          : await post(message, requestOptions);
        return resultOf(answer!, method);
      } catch (err) {
        // MCP Streamable HTTP: 404 for a session id means the session ended; start a new one and retry once.
        if (err instanceof SessionExpired && attempt === 0) {
          initializing = undefined;
          continue;
        }
        if (err instanceof SessionExpired) throw new UpstreamError('keeps ending its session');
        throw err;
      }
    }
  }

  return {
    request,
    async notify(method, params, headers) {
      await ready();
      await post({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }, { timeoutMs: options.timeoutMs, headers });
    },
    get capabilities() {
      return capabilities;
    },
    get instructions() {
      return instructions;
    },
    onServerNotification: (listener) => void listeners.push(listener),
    async close() {
      closed = true;
      clearTimeout(reopenTimer);
      for (const c of inflight) c.abort(new UpstreamError('is shut down'));
      const sid = sessionId;
      if (sid) {
        // MCP Streamable HTTP: a client that no longer needs a session SHOULD end it with DELETE.
        await fetch(options.url, { method: 'DELETE', headers: { ...options.headers, ...(await options.serviceHeaders().catch(() => ({}))), 'mcp-session-id': sid }, signal: AbortSignal.timeout(2000) })
          .then((r) => r.body?.cancel())
          .catch(() => {});
      }
      poster.destroy();
    },
  };
}

class SessionExpired extends Error {}

const MODERN_VERSION = '2026-07-28';

/** The 2026-07-28 per-request envelope: protocol version, client capabilities and info in `params._meta`. */
function withEnvelope(m: JsonRpcMessage): JsonRpcMessage {
  const params = m.params ?? {};
  const meta = { ...(params._meta as Record<string, unknown> | undefined), 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': CLIENT_INFO };
  return { ...m, params: { ...params, _meta: meta } };
}

/** MCP 2026-07-28 (SEP-2243): the method and its target repeated in headers (non-ASCII names base64-encoded). */
function modernHeaders(method: string, params?: Record<string, unknown>): Record<string, string> {
  const h: Record<string, string> = { 'mcp-method': method };
  const target = method === 'tools/call' || method === 'prompts/get' ? params?.name : method === 'resources/read' ? params?.uri : undefined;
  if (typeof target === 'string') h['mcp-name'] = /^[\x20-\x7e]*$/.test(target) ? target : `=?base64?${Buffer.from(target).toString('base64')}?=`;
  return h;
}
