// A stdio ↔ Streamable HTTP bridge for clients that only speak stdio (Claude Desktop's local servers, older
// tools): newline-delimited JSON-RPC on stdin/stdout, each message POSTed to the server with a fresh access token.
// A server that offers stateless MCP 2026-07-28 is spoken to in it: the stdio client's `initialize` is answered here
// from `server/discover`, and every request goes with the `_meta` envelope and the `Mcp-Method`/`Mcp-Name` (and
// `Mcp-Param-*`) headers; any other server gets the stdio client's own messages, in its own revision.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { McpHttpClient, McpHttpError, McpRpcError, MODERN_PROTOCOL_VERSION, isRequest, isResponse, paramHeaders, type JsonRpcMessage, type Tool } from './mcp-http-client.ts';
import { SignInRequiredError } from './http.ts';
import { bearerChallenge } from './www-authenticate.ts';
import { readSse } from './sse.ts';

/** JSON-RPC "server error" range (JSON-RPC 2.0 §5.1): the proxy could not get a token. */
export const SIGN_IN_REQUIRED = -32001;
export const UPSTREAM_ERROR = -32002;

/** What a stdio client may ask for in `initialize`: the revisions that have one (2026-07-28 has none). */
const SESSION_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];

export interface ProxyOptions {
  client: McpHttpClient;
  input: Readable;
  output: Writable;
  /** Diagnostics (stderr): never tokens. */
  log: (text: string) => void;
}

export async function runStdioProxy({ client, input, output, log }: ProxyOptions): Promise<void> {
  const write = (m: JsonRpcMessage) => output.write(JSON.stringify(m) + '\n');
  const inFlight = new Set<Promise<void>>();
  const stream = new AbortController();
  let streamStarted = false;

  /** True once the server answered `server/discover` with 2026-07-28: no session, every request stands alone. */
  let stateless = false;
  /** The tools the stdio client listed (for the `Mcp-Param-*` headers of its calls). */
  const tools = new Map<string, Tool>();

  const refuse = (message: JsonRpcMessage, err: unknown) => {
    const e = err as Error;
    if (!isRequest(message)) {
      log(`tollgate proxy: ${message.method ?? 'message'} not delivered: ${e.message}`);
      return;
    }
    if (err instanceof McpRpcError) {
      write({ jsonrpc: '2.0', id: message.id, error: { code: err.code, message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) } });
      return;
    }
    const signIn = err instanceof SignInRequiredError;
    write({ jsonrpc: '2.0', id: message.id, error: { code: signIn ? SIGN_IN_REQUIRED : UPSTREAM_ERROR, message: e.message, ...(signIn ? { data: { action: 'sign-in', server: e instanceof SignInRequiredError ? e.serverName : undefined } } : {}) } });
    log(`tollgate proxy: ${e.message}`);
  };

  /** MCP 2026-07-28: asks `server/discover`; when the server offers the revision, answers `initialize` itself. */
  const initializeStateless = async (message: JsonRpcMessage): Promise<boolean> => {
    let result: Record<string, unknown>;
    try {
      result = await client.request('server/discover');
    } catch (err) {
      // A 2025 server: an error answer, or its "not initialized" 4xx (but not an authorization failure or a limit).
      if (err instanceof McpRpcError || (err instanceof McpHttpError && err.status >= 400 && err.status < 500 && ![401, 403, 429].includes(err.status))) return false;
      throw err;
    }
    const versions = Array.isArray(result.supportedVersions) ? result.supportedVersions : [];
    if (!versions.includes(MODERN_PROTOCOL_VERSION)) return false;
    client.stateless = true;
    client.protocolVersion = MODERN_PROTOCOL_VERSION;
    const asked = (message.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    write({
      jsonrpc: '2.0',
      id: message.id,
      result: {
        protocolVersion: typeof asked === 'string' && SESSION_VERSIONS.includes(asked) ? asked : SESSION_VERSIONS[0],
        capabilities: result.capabilities ?? {},
        serverInfo: result.serverInfo ?? { name: 'unknown', version: '0' },
        ...(typeof result.instructions === 'string' ? { instructions: result.instructions } : {}),
      },
    });
    return true;
  };

  /** One request of the stdio client, as a 2026-07-28 request of its own (the client adds the envelope). */
  const forwardStateless = async (message: JsonRpcMessage) => {
    // No session: `notifications/initialized` has nowhere to go, and no other notification needs one here.
    if (!isRequest(message)) return;
    if (message.method === 'ping') {
      write({ jsonrpc: '2.0', id: message.id, result: {} });
      return;
    }
    try {
      const params = message.params && typeof message.params === 'object' ? (message.params as Record<string, unknown>) : undefined;
      const tool = message.method === 'tools/call' && typeof params?.name === 'string' ? tools.get(params.name) : undefined;
      const args = params?.arguments && typeof params.arguments === 'object' ? (params.arguments as Record<string, unknown>) : {};
      const result = await client.request(message.method!, params, { onNotification: write, headers: tool ? paramHeaders(tool, args) : undefined });
      if (message.method === 'tools/list' && Array.isArray(result.tools)) for (const t of result.tools as Tool[]) if (t && typeof t.name === 'string') tools.set(t.name, t);
      write({ jsonrpc: '2.0', id: message.id, result });
    } catch (err) {
      refuse(message, err);
    }
  };

  const forward = async (message: JsonRpcMessage) => {
    const initializeId = message.method === 'initialize' ? message.id : undefined;
    try {
      await client.post(message, (m) => {
        if (initializeId !== undefined && isResponse(m) && m.id === initializeId && m.result && typeof m.result === 'object') {
          const v = (m.result as Record<string, unknown>).protocolVersion;
          if (typeof v === 'string') client.protocolVersion = v;
        }
        write(m);
      });
      if (message.method === 'notifications/initialized' && !streamStarted) {
        streamStarted = true;
        void listenToServer(client, write, stream.signal, log);
      }
    } catch (err) {
      refuse(message, err);
    }
  };

  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      write({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: not JSON' } });
      continue;
    }
    const messages = (Array.isArray(parsed) ? parsed : [parsed]) as JsonRpcMessage[];
    for (const m of messages) {
      if (!m || typeof m !== 'object' || m.jsonrpc !== '2.0') {
        write({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid request: not JSON-RPC 2.0' } });
        continue;
      }
      // initialize must complete (session id, protocol version) before anything else is sent.
      if (m.method === 'initialize') {
        await Promise.all(inFlight);
        try {
          stateless = await initializeStateless(m);
        } catch (err) {
          refuse(m, err);
          continue;
        }
        if (!stateless) await forward(m);
        continue;
      }
      const p = (stateless ? forwardStateless(m) : forward(m)).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }
  await Promise.all(inFlight);
  stream.abort();
  await client.close();
}

/** The optional GET stream for server-initiated messages (notifications such as list_changed). Best effort. */
async function listenToServer(client: McpHttpClient, write: (m: JsonRpcMessage) => void, signal: AbortSignal, log: (t: string) => void): Promise<void> {
  try {
    const res = await client.openServerStream(signal);
    if (!res.ok || !res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      if (res.status === 401) log(`tollgate proxy: the server stream needs authorization (${bearerChallenge(res.headers.get('www-authenticate'))?.error ?? '401'})`);
      await res.body?.cancel().catch(() => {});
      return;
    }
    for await (const ev of readSse(res.body)) {
      if (ev.event !== 'message') continue;
      try {
        write(JSON.parse(ev.data) as JsonRpcMessage);
      } catch {
        // not JSON: skip
      }
    }
  } catch {
    // The stream is optional (servers may answer 405); closing it on exit lands here too.
  }
}
