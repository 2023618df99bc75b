// Raw HTTP calls to an MCP endpoint, for black-box tests that check statuses, headers and exact bodies.

export interface McpHttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (or the data line of a single SSE message); undefined when there is none. */
  body: any;
}

export const MODERN = '2026-07-28';
export const modernMeta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1.0.0' } };

function parseBody(text: string, type: string | null): unknown {
  if (!text) return undefined;
  if (type?.startsWith('text/event-stream')) {
    const data = text.split('\n').find((l) => l.startsWith('data: '));
    return data ? JSON.parse(data.slice(6)) : undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function mcpRequest(url: string, init: { method?: string; token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<McpHttpResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const method = init.method ?? 'POST';
  const body = method === 'GET' || method === 'HEAD' ? undefined : (init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)));
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: parseBody(text, res.headers.get('content-type')) };
}

/** A 2025-era JSON-RPC request (MCP-Protocol-Version header set unless `version` is null). */
export function legacyCall(url: string, token: string, method: string, params?: Record<string, unknown>, version: string | null = '2025-11-25', id: number | string = 1): Promise<McpHttpResult> {
  const headers: Record<string, string> = version ? { 'mcp-protocol-version': version } : {};
  return mcpRequest(url, { token, body: { jsonrpc: '2.0', id, method, ...(params && { params }) }, headers });
}

/** A 2026-07-28 request: `_meta` envelope plus the standard headers (Mcp-Name for tools/call). */
export function modernCall(url: string, token: string, method: string, params: Record<string, unknown> = {}, headers: Record<string, string> = {}, id: number | string = 1): Promise<McpHttpResult> {
  const h: Record<string, string> = { 'mcp-protocol-version': MODERN, 'mcp-method': method };
  if (method === 'tools/call' && typeof params.name === 'string') h['mcp-name'] = params.name;
  for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
  return mcpRequest(url, { token, body: { jsonrpc: '2.0', id, method, params: { ...params, _meta: { ...modernMeta, ...(params._meta as object) } } }, headers: h });
}

export function callTool(url: string, token: string, name: string, args: Record<string, unknown> = {}, version = '2025-11-25'): Promise<McpHttpResult> {
  return legacyCall(url, token, 'tools/call', { name, arguments: args }, version);
}
