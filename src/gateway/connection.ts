// One upstream connection, whatever the transport: Tollgate owns the upstream session (initialize, its session id,
// re-initialising when it expires), so clients never see it.
import { isObject } from '../util/json.ts';
import { UpstreamError, UpstreamRpcError } from './upstream-errors.ts';

export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface RequestOptions {
  readonly timeoutMs: number;
  /** Extra request headers (HTTP): the forwarded JWT. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Server notifications about this request (progress). */
  readonly onNotification?: (m: JsonRpcMessage) => void;
  readonly signal?: AbortSignal;
}

export interface UpstreamConnection {
  /** The result of `method`; throws UpstreamError (down, timeout, garbage) or UpstreamRpcError (in-band error). */
  request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions): Promise<Record<string, unknown>>;
  notify(method: string, params?: Record<string, unknown>, headers?: Readonly<Record<string, string>>): Promise<void>;
  /** What the upstream's `initialize` answered (after the first request). */
  readonly capabilities: Record<string, unknown> | undefined;
  readonly instructions: string | undefined;
  /** The child's process id (stdio, while it runs). */
  readonly pid?: number;
  /** Server-initiated notifications (tools/list_changed, …). */
  onServerNotification(listener: (m: JsonRpcMessage) => void): void;
  close(): Promise<void>;
}

/** The revision Tollgate asks upstreams for; an upstream answers the one it speaks. */
export const UPSTREAM_PROTOCOL_VERSION = '2025-11-25';
export const CLIENT_INFO = { name: 'tollgate-gateway', version: '0.1.0' };

/** The `initialize` params: no client capabilities (sampling, elicitation and roots cannot cross a stateless front). */
export const initializeParams = () => ({ protocolVersion: UPSTREAM_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO });

/** Server-to-client requests Tollgate refuses (MCP: sampling, elicitation and roots need a session with the client). */
export function refusalFor(request: JsonRpcMessage): JsonRpcMessage {
  if (request.method === 'ping') return { jsonrpc: '2.0', id: request.id, result: {} };
  return { jsonrpc: '2.0', id: request.id, error: { code: -32601, message: `${String(request.method).slice(0, 60)} is not available through the Tollgate gateway (its clients connect statelessly)` } };
}

/** The result of a response message, or the error it carries. */
export function resultOf(m: JsonRpcMessage, what: string): Record<string, unknown> {
  if (m.error) {
    const e = m.error;
    throw new UpstreamRpcError(typeof e.code === 'number' ? e.code : -32603, typeof e.message === 'string' ? e.message.slice(0, 500) : 'error', e.data);
  }
  if (!isObject(m.result)) throw new UpstreamError(`answered ${what} with something that is not an MCP result`);
  return m.result;
}

export const isResponse = (m: unknown): m is JsonRpcMessage => isObject(m) && m.jsonrpc === '2.0' && m.method === undefined && ('result' in m || 'error' in m);
export const isServerRequest = (m: unknown): m is JsonRpcMessage => isObject(m) && typeof m.method === 'string' && m.id !== undefined && m.id !== null;
export const isNotification = (m: unknown): m is JsonRpcMessage => isObject(m) && typeof m.method === 'string' && (m.id === undefined || m.id === null);
