// A Streamable HTTP MCP client: POSTs JSON-RPC messages, reads JSON or SSE answers, and lets an OAuthSession answer
// 401 and 403 challenges (refresh, sign-in, step-up) before retrying. `connect()` speaks stateless MCP 2026-07-28
// (`server/discover`, the `_meta` envelope and the `Mcp-Method`/`Mcp-Name` headers on every request) to a server
// that offers it, and falls back to the 2025 handshake (`initialize`, a session id, a negotiated version).
import { mediaType } from '../util/media-type.ts';
import { bearerChallenge, type BearerChallenge } from './www-authenticate.ts';
import { readSse } from './sse.ts';
import { CLIENT_PROTOCOL_VERSION, ClientError, displayUrl, httpFetch } from './http.ts';

export type JsonRpcId = string | number;
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: JsonRpcId | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export const isRequest = (m: JsonRpcMessage): boolean => typeof m.method === 'string' && m.id !== undefined && m.id !== null;
export const isNotification = (m: JsonRpcMessage): boolean => typeof m.method === 'string' && (m.id === undefined || m.id === null);
export const isResponse = (m: JsonRpcMessage): boolean => m.method === undefined && ('result' in m || 'error' in m);

/** What the client needs from the OAuth side (an OAuthSession). */
export interface AuthHandler {
  accessToken(): Promise<string | undefined>;
  handleUnauthorized(challenge: BearerChallenge | undefined, staleToken: string | undefined): Promise<boolean>;
  handleInsufficientScope(challenge: BearerChallenge | undefined): Promise<boolean>;
}

export class McpRpcError extends ClientError {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** An HTTP answer that is not MCP: its status and a short reason. */
export class McpHttpError extends ClientError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface McpClientOptions {
  auth?: AuthHandler;
  /** Per-request timeout (a tool call can take long). */
  timeoutMs?: number;
  /** Client info sent in `initialize`. */
  clientInfo?: { name: string; version: string };
}

/** The stateless revision, and the `_meta` keys of its per-request envelope. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';
const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
/** MCP 2026-07-28 (SEP-2243): the methods whose `Mcp-Name` header mirrors a body field. */
const MCP_NAME_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

/** A header value as SEP-2243 carries it: plain printable ASCII as is, anything else as `=?base64?…?=`. */
export function encodeHeaderValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && !/^=\?base64\?/i.test(value) && value.trim() === value ? value : `=?base64?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** SEP-2243: an argument whose schema names an `x-mcp-header` is repeated in `Mcp-Param-<name>` (2026-07-28). */
export function paramHeaders(tool: Tool, args: Record<string, unknown>): Record<string, string> {
  const h: Record<string, string> = {};
  for (const [property, schema] of Object.entries(tool.inputSchema?.properties ?? {})) {
    const name = schema['x-mcp-header'];
    const value = args[property];
    if (typeof name !== 'string' || !/^[A-Za-z0-9-]+$/.test(name) || value === undefined || value === null) continue;
    h[`mcp-param-${name.toLowerCase()}`] = encodeHeaderValue(typeof value === 'string' ? value : JSON.stringify(value));
  }
  return h;
}

export class McpHttpClient {
  readonly url: string;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  /** True once `connect()` found a server that speaks stateless 2026-07-28. */
  stateless = false;
  serverInfo: { name?: string; version?: string } | undefined;
  private readonly options: McpClientOptions;
  private nextId = 1;

  constructor(url: string, options: McpClientOptions = {}) {
    this.url = url;
    this.options = options;
  }

  private headers(token: string | undefined, extra?: Record<string, string>): Headers {
    const h = new Headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra });
    if (token) h.set('authorization', `Bearer ${token}`);
    if (this.sessionId) h.set('mcp-session-id', this.sessionId);
    if (this.protocolVersion) h.set('mcp-protocol-version', this.protocolVersion);
    return h;
  }

  /**
   * POSTs one message (or a batch) and hands every message of the answer to `onMessage`, in order, as it
   * arrives. Resolves when the answer is complete (202 Accepted for notifications and responses).
   */
  async post(message: JsonRpcMessage | JsonRpcMessage[], onMessage: (m: JsonRpcMessage) => void, signal?: AbortSignal, extraHeaders?: Record<string, string>): Promise<void> {
    const auth = this.options.auth;
    const body = JSON.stringify(message);
    for (let attempt = 0; ; attempt++) {
      const token = await auth?.accessToken();
      const res = await httpFetch(this.url, {
        method: 'POST',
        headers: this.headers(token, extraHeaders),
        body,
        signal,
        timeoutMs: this.options.timeoutMs ?? 300_000,
      });
      if ((res.status === 401 || res.status === 403) && attempt < 3) {
        const challenge = bearerChallenge(res.headers.get('www-authenticate'));
        await res.body?.cancel().catch(() => {});
        if (!auth) throw new McpHttpError(res.status, `${displayUrl(this.url)} requires authorization`);
        // RFC 6750 §3.1: 403 insufficient_scope asks for a token with more scope; any other 401/403 for a new one.
        const retry = res.status === 403 && challenge?.error === 'insufficient_scope' ? await auth.handleInsufficientScope(challenge) : res.status === 401 ? await auth.handleUnauthorized(challenge, token) : false;
        if (retry) continue;
        throw new McpHttpError(res.status, res.status === 403 ? `${displayUrl(this.url)} refused the request (403${challenge?.error ? ` ${challenge.error}` : ''}${challenge?.scope ? `, needs scope "${challenge.scope}"` : ''})` : `${displayUrl(this.url)} refused the token (401)`);
      }
      const sid = res.headers.get('mcp-session-id');
      if (sid) this.sessionId = sid;
      if (res.status === 202 || res.status === 204) {
        await res.body?.cancel().catch(() => {});
        return;
      }
      const type = mediaType(res.headers.get('content-type'));
      if (type === 'text/event-stream' && res.ok && res.body) {
        for await (const ev of readSse(res.body)) {
          if (ev.event !== 'message' || !ev.data.trim()) continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(ev.data);
          } catch {
            continue;
          }
          for (const m of Array.isArray(parsed) ? parsed : [parsed]) onMessage(m as JsonRpcMessage);
        }
        return;
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const messages = (Array.isArray(parsed) ? parsed : parsed ? [parsed] : []).filter((m): m is JsonRpcMessage => !!m && typeof m === 'object' && (m as JsonRpcMessage).jsonrpc === '2.0');
      if (messages.length) {
        messages.forEach(onMessage);
        return;
      }
      if (res.status === 404 && this.sessionId) throw new McpHttpError(404, 'The MCP session has ended (404); reconnect');
      if (res.status === 429) throw new McpHttpError(429, `${displayUrl(this.url)} is rate limiting requests${res.headers.get('retry-after') ? `; retry after ${res.headers.get('retry-after')} s` : ''}`);
      throw new McpHttpError(res.status, `${displayUrl(this.url)} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    }
  }

  /** Sends a request and returns its result; server notifications and requests on the way go to the handlers. */
  async request<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>, handlers: { onNotification?: (m: JsonRpcMessage) => void; signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<T> {
    const id = this.nextId++;
    let response: JsonRpcMessage | undefined;
    const modern = this.stateless || method === 'server/discover';
    const sent = modern ? this.withEnvelope(params) : params;
    await this.post(
      { jsonrpc: '2.0', id, method, ...(sent ? { params: sent } : {}) },
      (m) => {
        if (isResponse(m) && m.id === id) response = m;
        // A server that cannot tie its error to the request (a 2025 server asked before `initialize`) answers id null.
        else if (isResponse(m) && m.id === null && m.error) response ??= m;
        else if (isRequest(m)) void this.answerServerRequest(m);
        else if (isNotification(m)) handlers.onNotification?.(m);
      },
      handlers.signal,
      modern ? { ...handlers.headers, ...this.modernHeaders(method, sent) } : undefined,
    );
    if (!response) throw new ClientError(`${displayUrl(this.url)} sent no answer to ${method}`);
    if (response.error) throw new McpRpcError(response.error.code, response.error.message, response.error.data);
    return response.result as T;
  }

  /** This client offers no sampling, elicitation or roots: such requests get "method not found"; ping is answered. */
  private async answerServerRequest(m: JsonRpcMessage): Promise<void> {
    const answer: JsonRpcMessage =
      m.method === 'ping' ? { jsonrpc: '2.0', id: m.id, result: {} } : { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `tollgate does not support ${m.method}` } };
    await this.post(answer, () => {}).catch(() => {});
  }

  /** MCP 2026-07-28: every request names its revision, capabilities and client in `params._meta`. */
  private withEnvelope(params: Record<string, unknown> | undefined): Record<string, unknown> {
    const meta = params?._meta && typeof params._meta === 'object' ? (params._meta as Record<string, unknown>) : {};
    return {
      ...params,
      _meta: { ...meta, [META_PROTOCOL_VERSION]: MODERN_PROTOCOL_VERSION, [META_CLIENT_CAPABILITIES]: {}, [META_CLIENT_INFO]: this.options.clientInfo ?? { name: 'tollgate', version: '0.1.0' } },
    };
  }

  /** SEP-2243: the revision, the method and (for tools/call and the like) the target repeated in headers. */
  private modernHeaders(method: string, params: Record<string, unknown> | undefined): Record<string, string> {
    const h: Record<string, string> = { 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': method };
    const field = MCP_NAME_SOURCE[method];
    const target = field ? params?.[field] : undefined;
    if (typeof target === 'string') h['mcp-name'] = encodeHeaderValue(target);
    return h;
  }

  /**
   * Connects the way the server speaks: `server/discover` in stateless 2026-07-28 first; a server that does not offer
   * it (an error answer, a 2025 server's "not initialized" 400, 404, 405) gets the 2025-11-25 handshake instead.
   * Authorization failures, rate limits and unreachable servers are not "another revision": they are thrown.
   */
  async connect(): Promise<Record<string, unknown>> {
    try {
      const result = await this.request('server/discover');
      const versions = Array.isArray(result.supportedVersions) ? result.supportedVersions : [];
      if (versions.includes(MODERN_PROTOCOL_VERSION)) {
        this.stateless = true;
        this.protocolVersion = MODERN_PROTOCOL_VERSION;
        this.serverInfo = (result.serverInfo as McpHttpClient['serverInfo']) ?? undefined;
        return result;
      }
    } catch (err) {
      const otherRevision = err instanceof McpRpcError || (err instanceof McpHttpError && err.status >= 400 && err.status < 500 && ![401, 403, 429].includes(err.status));
      if (!otherRevision) throw err;
    }
    this.sessionId = undefined;
    return this.initialize();
  }

  async notify(method: string, params?: Record<string, unknown>): Promise<void> {
    await this.post({ jsonrpc: '2.0', method, ...(params ? { params } : {}) }, () => {});
  }

  async initialize(): Promise<Record<string, unknown>> {
    const result = await this.request('initialize', {
      protocolVersion: CLIENT_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: this.options.clientInfo ?? { name: 'tollgate', version: '0.1.0' },
    });
    this.protocolVersion = typeof result.protocolVersion === 'string' ? result.protocolVersion : CLIENT_PROTOCOL_VERSION;
    this.serverInfo = (result.serverInfo as McpHttpClient['serverInfo']) ?? undefined;
    await this.notify('notifications/initialized');
    return result;
  }

  /** Every tool, following pagination. */
  async listTools(): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request<{ tools?: Tool[]; nextCursor?: string }>('tools/list', cursor ? { cursor } : undefined);
      tools.push(...(page.tools ?? []));
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  async callTool(name: string, args: Record<string, unknown>, onProgress?: (p: { progress: number; total?: number; message?: string }) => void, tool?: Tool): Promise<ToolResult> {
    const progressToken = `tollgate-${this.nextId}`;
    return this.request<ToolResult>('tools/call', { name, arguments: args, ...(onProgress ? { _meta: { progressToken } } : {}) }, {
      headers: this.stateless && tool ? paramHeaders(tool, args) : undefined,
      onNotification: (m) => {
        if (m.method === 'notifications/progress' && m.params?.progressToken === progressToken) onProgress?.(m.params as { progress: number; total?: number; message?: string });
      },
    });
  }

  /** Opens the GET stream for server-initiated messages (servers may answer 405: they have none). */
  async openServerStream(signal: AbortSignal): Promise<Response> {
    const token = await this.options.auth?.accessToken();
    const headers = this.headers(token, { accept: 'text/event-stream' });
    headers.delete('content-type');
    return httpFetch(this.url, { method: 'GET', headers, signal, timeoutMs: 24 * 3600_000 });
  }

  /** Ends the session (MCP: DELETE with the session id); best effort. */
  async close(): Promise<void> {
    if (!this.sessionId) return;
    const token = await this.options.auth?.accessToken().catch(() => undefined);
    await httpFetch(this.url, { method: 'DELETE', headers: this.headers(token), timeoutMs: 5000 })
      .then((r) => r.body?.cancel())
      .catch(() => {});
    this.sessionId = undefined;
  }
}

export interface Tool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: { type?: string; properties?: Record<string, JsonSchema>; required?: string[] };
  annotations?: Record<string, unknown>;
  /** Tollgate servers put `tollgate/price` (credits per call) and `tollgate/scope` here. */
  _meta?: Record<string, unknown>;
}

export interface JsonSchema {
  type?: string | string[];
  /** SEP-2243: the argument is mirrored in the `Mcp-Param-<name>` header. */
  'x-mcp-header'?: string;
  description?: string;
  enum?: unknown[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
}

export interface ToolResult {
  content?: Array<Record<string, unknown> & { type: string }>;
  structuredContent?: unknown;
  isError?: boolean;
}
