// A stdio ↔ Streamable HTTP bridge for clients that only speak stdio (Claude Desktop's local servers, older
// tools): newline-delimited JSON-RPC on stdin/stdout, each message POSTed to the server with a fresh access token.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { McpHttpClient, isRequest, isResponse, type JsonRpcMessage } from './mcp-http-client.ts';
import { SignInRequiredError } from './http.ts';
import { bearerChallenge } from './www-authenticate.ts';
import { readSse } from './sse.ts';

/** JSON-RPC "server error" range (JSON-RPC 2.0 §5.1): the proxy could not get a token. */
export const SIGN_IN_REQUIRED = -32001;
export const UPSTREAM_ERROR = -32002;

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
      const e = err as Error;
      if (!isRequest(message)) {
        log(`tollgate proxy: ${message.method ?? 'message'} not delivered: ${e.message}`);
        return;
      }
      const signIn = err instanceof SignInRequiredError;
      write({ jsonrpc: '2.0', id: message.id, error: { code: signIn ? SIGN_IN_REQUIRED : UPSTREAM_ERROR, message: e.message, ...(signIn ? { data: { action: 'sign-in', server: e instanceof SignInRequiredError ? e.serverName : undefined } } : {}) } });
      log(`tollgate proxy: ${e.message}`);
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
        await forward(m);
        continue;
      }
      const p = forward(m).finally(() => inFlight.delete(p));
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
