// A stdio upstream: a child process speaking newline-delimited JSON-RPC (MCP stdio transport), one per process,
// shared by every call (requests are told apart by id). When it exits, whatever was in flight fails at once with a
// clear error and it is restarted with backoff (doubling from 250 ms to 30 s, reset after a minute of good health).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../util/logger.ts';
import {
  initializeParams, isNotification, isResponse, isServerRequest, refusalFor, resultOf,
  type JsonRpcMessage, type RequestOptions, type UpstreamConnection,
} from './connection.ts';
import { UpstreamError } from './upstream-errors.ts';

export interface StdioConnectionOptions {
  readonly name: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Backoff bounds (tests shorten them). */
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
}

// The child gets a minimal environment plus what was configured: never Tollgate's own (TOLLGATE_SECRET, database URLs).
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL', 'TERM', 'SystemRoot', 'APPDATA'];

const MAX_LINE = 16 * 1024 * 1024;

interface Pending {
  resolve(m: JsonRpcMessage): void;
  reject(err: Error): void;
  onNotification?: (m: JsonRpcMessage) => void;
  progressToken?: unknown;
}

export function stdioConnection(options: StdioConnectionOptions): UpstreamConnection {
  const log = options.logger;
  const minBackoff = options.restartMinMs ?? 250;
  const maxBackoff = options.restartMaxMs ?? 30_000;
  let child: ChildProcess | undefined;
  let ready: Promise<void> | undefined;
  let capabilities: Record<string, unknown> | undefined;
  let instructions: string | undefined;
  let nextId = 1;
  let closed = false;
  let backoff = minBackoff;
  let restartTimer: NodeJS.Timeout | undefined;
  let startedAt = 0;
  const pending = new Map<string | number, Pending>();
  const listeners: ((m: JsonRpcMessage) => void)[] = [];

  function env(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of INHERITED_ENV) if (process.env[k] !== undefined) out[k] = process.env[k]!;
    return { ...out, ...options.env };
  }

  function send(m: JsonRpcMessage): void {
    if (!child?.stdin?.writable) throw new UpstreamError('is not running');
    child.stdin.write(JSON.stringify(m) + '\n');
  }

  function onLine(line: string): void {
    if (!line.trim()) return;
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      log.debug({ upstream: options.name }, 'upstream wrote a line that is not JSON');
      return;
    }
    if (isResponse(m)) {
      const p = pending.get(m.id as string | number);
      if (p) {
        pending.delete(m.id as string | number);
        p.resolve(m);
      }
    } else if (isServerRequest(m)) {
      try {
        send(refusalFor(m));
      } catch {
        /* it exited */
      }
    } else if (isNotification(m)) {
      const token = (m.params as { progressToken?: unknown } | undefined)?.progressToken;
      if (token !== undefined) {
        for (const p of pending.values()) if (p.progressToken === token) p.onNotification?.(m);
      } else {
        for (const l of listeners) l(m);
      }
    }
  }

  function failAll(reason: string): void {
    const err = new UpstreamError(reason);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  }

  function start(): Promise<void> {
    const [program, ...args] = options.command;
    startedAt = Date.now();
    const proc = spawn(program, args, { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', (err) => reject(new UpstreamError(`could not be started (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
      proc.once('exit', (code, signal) => reject(new UpstreamError(`exited (${signal ?? `code ${code}`})`)));
    });
    exited.catch(() => {});
    const lines = createInterface({ input: proc.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => (line.length > MAX_LINE ? undefined : onLine(line)));
    proc.stderr!.on('data', (chunk: Buffer) => log.debug({ upstream: options.name, stderr: chunk.toString('utf8').slice(0, 500) }, 'upstream stderr'));
    proc.stdin!.on('error', () => {});
    const onGone = (code: number | null, signal: string | null) => {
      if (child !== proc) return;
      child = undefined;
      ready = undefined;
      failAll(`exited while the call was running (${signal ?? `code ${code}`})`);
      if (closed) return;
      if (Date.now() - startedAt > 60_000) backoff = minBackoff;
      log.warn({ upstream: options.name, code, signal, restartInMs: backoff }, 'upstream exited; restarting');
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (!closed && !ready) ensureReady().catch(() => {});
      }, backoff);
      restartTimer.unref();
      backoff = Math.min(maxBackoff, backoff * 2);
    };
    proc.once('exit', onGone);
    proc.once('error', () => onGone(null, 'spawn error'));
    const init = (async () => {
      // A cold start (npx, a runtime loading) may take longer than a call may take.
      const answer = await Promise.race([raw('initialize', initializeParams(), { timeoutMs: Math.max(options.timeoutMs, 20_000) }), exited]);
      const result = resultOf(answer, 'initialize');
      capabilities = (result.capabilities as Record<string, unknown> | undefined) ?? {};
      instructions = typeof result.instructions === 'string' ? result.instructions : undefined;
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    })();
    return init;
  }

  function ensureReady(): Promise<void> {
    if (closed) return Promise.reject(new UpstreamError('is shut down'));
    if (!ready && restartTimer) return Promise.reject(new UpstreamError(`is restarting after a crash (next attempt within ${Math.ceil(backoff / 1000)} s)`));
    ready ??= start().catch((err) => {
      ready = undefined;
      child?.kill('SIGKILL');
      throw err;
    });
    return ready;
  }

  function raw(method: string, params: Record<string, unknown> | undefined, requestOptions: RequestOptions): Promise<JsonRpcMessage> {
    const id = nextId++;
    return new Promise<JsonRpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        // MCP: a request the client stops waiting for is cancelled with notifications/cancelled.
        try {
          send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'timeout' } });
        } catch {
          /* gone */
        }
        reject(new UpstreamError(`did not answer within ${requestOptions.timeoutMs} ms`));
      }, requestOptions.timeoutMs);
      const done = <T,>(fn: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        fn(v);
      };
      const progressToken = (params?._meta as { progressToken?: unknown } | undefined)?.progressToken;
      const signal = requestOptions.signal;
      const onAbort = () => {
        if (!pending.delete(id)) return;
        try {
          send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'cancelled by the client' } });
        } catch {
          /* gone */
        }
        done(reject)(new UpstreamError('was cancelled by the client', false));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = <T,>(fn: (v: T) => void) => (v: T) => {
        signal?.removeEventListener('abort', onAbort);
        done(fn)(v);
      };
      pending.set(id, { resolve: settle(resolve), reject: settle(reject), onNotification: requestOptions.onNotification, progressToken });
      try {
        send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
      } catch (err) {
        pending.delete(id);
        done(reject)(err as Error);
      }
    });
  }

  return {
    async request(method, params, requestOptions) {
      await ensureReady();
      return resultOf(await raw(method, params, requestOptions), method);
    },
    async notify(method, params) {
      await ensureReady();
      send({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
    },
    get capabilities() {
      return capabilities;
    },
    get instructions() {
      return instructions;
    },
    get pid() {
      return child?.pid;
    },
    onServerNotification: (listener) => void listeners.push(listener),
    async close() {
      closed = true;
      if (restartTimer) clearTimeout(restartTimer);
      const proc = child;
      child = undefined;
      failAll('is shut down');
      if (!proc) return;
      proc.stdin?.end();
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
      proc.kill('SIGTERM');
      await gone;
      clearTimeout(timer);
    },
  };
}
