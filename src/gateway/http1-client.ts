// A small HTTP/1.1 client for the gateway's POSTs to a plain-http upstream: persistent sockets from a pool of its
// own, each request written with one system call, each answer framed by hand (Content-Length, chunked, or read to
// the close). Measured on the bench's proxied call (npm run bench -- --only gateway): node:http's ClientRequest,
// agent and IncomingMessage streams cost about 200 µs of CPU per call at the gateway's rate; this costs a fraction.
// RFC 9112 is the contract: a status line and headers, 1xx answers skipped, Transfer-Encoding (chunked only) over
// Content-Length, a mismatched or malformed length refused (§6.3: it could smuggle a second answer), bytes the
// client did not ask for end the socket. https upstreams go through node:https (http-post.ts): TLS costs more than
// the framing there.
import net from 'node:net';
import type { UpstreamBody, UpstreamResponse } from './http-post.ts';

export interface Http1PoolOptions {
  /** Open sockets at most; requests beyond wait for one (default 256). */
  readonly maxSockets?: number;
  /** An idle socket is closed after this long (default 4 s: below the 5 s most servers keep an idle socket). */
  readonly idleMs?: number;
  /** Status line and headers at most (default 64 KiB). */
  readonly maxHeaderBytes?: number;
  /** Body bytes at most (default 16 MiB). */
  readonly maxBodyBytes?: number;
}

export class Http1Error extends Error {
  override readonly cause?: { code: string };
  constructor(message: string, code: string) {
    super(message);
    this.cause = { code };
  }
}

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_VALUE = /[\r\n\0]/;
const CRLF2 = Buffer.from('\r\n\r\n');
/** Headers the client writes itself. */
const OWN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection']);

/** A response body handed to the caller as bytes arrive: an async iterable that can be cancelled. */
class BodyQueue implements UpstreamBody {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private error: Error | undefined;
  private waiter: { resolve(r: IteratorResult<Uint8Array>): void; reject(e: Error): void } | undefined;
  /** Called when the caller no longer wants the rest. */
  onCancel: () => void = () => {};

  push(chunk: Buffer): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: chunk, done: false });
    } else this.chunks.push(chunk);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiter && !this.chunks.length) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: undefined, done: true });
    }
  }

  fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.reject(err);
    }
  }

  get done(): boolean {
    return this.ended;
  }

  private next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.chunks.shift();
    if (chunk) return Promise.resolve({ value: chunk, done: false });
    if (this.error) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => this.next(),
      // Stopping early (the answer found before the stream's end) drains instead of closing the socket.
      return: async () => {
        this.onCancel();
        return { value: undefined, done: true };
      },
    };
  }

  async cancel(): Promise<void> {
    this.chunks.length = 0;
    this.onCancel();
  }

  /** The whole body, once it has ended. */
  async all(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let r = await this.next(); !r.done; r = await this.next()) parts.push(r.value as Buffer);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked'; remaining: number; step: 'size' | 'data' | 'crlf' | 'trailers' } | { kind: 'close' };

interface Exchange {
  resolve(r: UpstreamResponse): void;
  reject(e: Error): void;
  headed: boolean;
  gotBytes: boolean;
  keepAlive: boolean;
  framing: Framing;
  body: BodyQueue | undefined;
  bodyBytes: number;
  draining: boolean;
  onAbort?: () => void;
  signal?: AbortSignal;
}

class Connection {
  readonly socket: net.Socket;
  buffer: Buffer | undefined;
  exchange: Exchange | undefined;
  reused = false;
  idleSince = 0;
  dead = false;
  /** Sends the current request again on a fresh socket: set only for a request on a reused one. */
  retry: (() => void) | undefined;

  private readonly pool: Http1Pool;

  constructor(pool: Http1Pool, host: string, port: number) {
    this.pool = pool;
    this.socket = net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.onEnd(new Http1Error(`connection failed (${err.code ?? err.message})`, err.code ?? 'ECONNRESET')));
    this.socket.on('close', () => this.onEnd(new Http1Error('connection closed before the answer ended', 'ECONNRESET')));
  }

  /** Bytes arrived: go on parsing the current answer; anything unasked for ends the socket. */
  private onData(chunk: Buffer): void {
    const ex = this.exchange;
    if (!ex) return this.kill();
    ex.gotBytes = true;
    this.buffer = this.buffer ? Buffer.concat([this.buffer, chunk]) : chunk;
    try {
      this.parse(ex);
    } catch (err) {
      this.fail(ex, err instanceof Http1Error ? err : new Http1Error(`malformed answer (${(err as Error).message})`, 'EPROTO'));
    }
  }

  private parse(ex: Exchange): void {
    while (this.buffer && this.buffer.length && this.exchange === ex) {
      const buf: Buffer = this.buffer;
      if (!ex.headed) {
        const end = buf.indexOf(CRLF2);
        if (end < 0) {
          if (buf.length > this.pool.limits.maxHeaderBytes) throw new Http1Error('answered with headers over the size limit', 'EPROTO');
          return;
        }
        if (end > this.pool.limits.maxHeaderBytes) throw new Http1Error('answered with headers over the size limit', 'EPROTO');
        this.buffer = end + 4 < buf.length ? buf.subarray(end + 4) : undefined;
        this.head(ex, buf.toString('latin1', 0, end));
        continue;
      }
      this.bodyBytes(ex, buf);
    }
  }

  /** A status line and headers: a 1xx is skipped, anything else decides the framing and resolves the request. */
  private head(ex: Exchange, text: string): void {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]);
    if (!m) throw new Http1Error('answered with something that is not HTTP/1.1', 'EPROTO');
    const status = Number(m[2]);
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) throw new Http1Error('answered with a malformed header line', 'EPROTO');
      const key = name.toLowerCase();
      const value = line.slice(colon + 1).trim();
      const prior = headers.get(key);
      headers.set(key, prior === undefined ? value : `${prior}, ${value}`);
    }
    if (status < 200) {
      if (status === 101) throw new Http1Error('switched protocols', 'EPROTO');
      return; // RFC 9112 §4 / RFC 9110 §15.2: an interim answer; the final one follows.
    }
    const connection = (headers.get('connection') ?? '').toLowerCase();
    ex.keepAlive = m[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const te = headers.get('transfer-encoding');
    const cl = headers.get('content-length');
    if (te !== undefined) {
      // RFC 9112 §6.1: chunked must be the final coding; §6.3: with Transfer-Encoding, Content-Length is ignored and
      // the connection is not reused.
      if (te.toLowerCase().replace(/\s/g, '') !== 'chunked') throw new Http1Error('answered with a transfer coding other than chunked', 'EPROTO');
      if (cl !== undefined) ex.keepAlive = false;
      ex.framing = { kind: 'chunked', remaining: 0, step: 'size' };
    } else if (cl !== undefined) {
      const values = cl.split(',').map((v) => v.trim());
      if (!values.every((v) => /^\d{1,15}$/.test(v) && v === values[0])) throw new Http1Error('answered with an invalid Content-Length', 'EPROTO');
      ex.framing = { kind: 'length', remaining: Number(values[0]) };
    } else if (status === 204 || status === 304) {
      ex.framing = { kind: 'length', remaining: 0 };
    } else {
      ex.keepAlive = false;
      ex.framing = { kind: 'close' };
    }
    if ((ex.framing.kind === 'length' ? ex.framing.remaining : 0) > this.pool.limits.maxBodyBytes) throw new Http1Error('answered with a body over the size limit', 'EPROTO');
    ex.headed = true;
    const body = (ex.body = new BodyQueue());
    body.onCancel = () => this.drain(ex);
    const response: UpstreamResponse = {
      status,
      ok: status >= 200 && status < 300,
      headers: { get: (name: string) => headers.get(name.toLowerCase()) ?? null },
      body,
      text: async () => (await body.all()).toString('utf8'),
    };
    ex.resolve(response);
    if (ex.framing.kind === 'length' && ex.framing.remaining === 0) this.complete(ex);
  }

  private bodyBytes(ex: Exchange, buf: Buffer): void {
    const f = ex.framing;
    if (f.kind === 'close') {
      this.buffer = undefined;
      return this.deliver(ex, buf);
    }
    if (f.kind === 'length') {
      const take = Math.min(f.remaining, buf.length);
      this.buffer = take < buf.length ? buf.subarray(take) : undefined;
      f.remaining -= take;
      this.deliver(ex, take < buf.length ? buf.subarray(0, take) : buf);
      if (f.remaining === 0) this.complete(ex);
      return;
    }
    if (f.step === 'size' || f.step === 'trailers') {
      const nl = buf.indexOf('\r\n');
      if (nl < 0) {
        if (buf.length > 4096) throw new Http1Error('answered with a malformed chunk', 'EPROTO');
        return;
      }
      const line = buf.toString('latin1', 0, nl);
      this.buffer = nl + 2 < buf.length ? buf.subarray(nl + 2) : undefined;
      if (f.step === 'trailers') {
        if (line === '') this.complete(ex);
        return;
      }
      const size = line.split(';')[0].trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw new Http1Error('answered with a malformed chunk', 'EPROTO');
      f.remaining = parseInt(size, 16);
      f.step = f.remaining === 0 ? 'trailers' : 'data';
      return;
    }
    if (f.step === 'data') {
      const take = Math.min(f.remaining, buf.length);
      this.buffer = take < buf.length ? buf.subarray(take) : undefined;
      f.remaining -= take;
      if (f.remaining === 0) f.step = 'crlf';
      return this.deliver(ex, take < buf.length ? buf.subarray(0, take) : buf);
    }
    // The CRLF after a chunk's data.
    if (buf.length < 2) return;
    if (buf[0] !== 13 || buf[1] !== 10) throw new Http1Error('answered with a malformed chunk', 'EPROTO');
    this.buffer = buf.length > 2 ? buf.subarray(2) : undefined;
    f.step = 'size';
  }

  private deliver(ex: Exchange, bytes: Buffer): void {
    ex.bodyBytes += bytes.length;
    if (ex.bodyBytes > this.pool.limits.maxBodyBytes) throw new Http1Error('answered with a body over the size limit', 'EPROTO');
    if (!ex.draining) ex.body!.push(bytes);
  }

  /** The answer ended: the socket goes back to the pool, unless the answer said close or more bytes came with it. */
  private complete(ex: Exchange): void {
    ex.body?.end();
    this.finishExchange(ex);
    if (!ex.keepAlive || this.buffer) return this.kill();
    this.pool.release(this);
  }

  /** The caller wants no more of the body: the rest is read and dropped, for a short while, then the socket goes. */
  private drain(ex: Exchange): void {
    if (this.exchange !== ex || ex.body?.done) return;
    ex.draining = true;
    const timer = setTimeout(() => this.exchange === ex && this.fail(ex, new Http1Error('the rest of the answer was dropped', 'ECANCELED')), 2000);
    timer.unref();
  }

  private finishExchange(ex: Exchange): void {
    if (ex.signal && ex.onAbort) ex.signal.removeEventListener('abort', ex.onAbort);
    this.exchange = undefined;
  }

  fail(ex: Exchange, err: Error): void {
    if (this.exchange !== ex) return;
    this.finishExchange(ex);
    if (ex.headed) ex.body?.fail(err);
    else ex.reject(err);
    this.kill();
  }

  private onEnd(err: Http1Error): void {
    const ex = this.exchange;
    if (this.dead && !ex) return;
    this.dead = true;
    this.pool.forget(this);
    if (!ex) return;
    // Read to the close: the close is the end.
    if (ex.headed && ex.framing.kind === 'close') {
      ex.body?.end();
      this.finishExchange(ex);
      return;
    }
    // A reused socket the server closed while idle, before a byte of the answer: the request never reached it, and
    // goes once more on a fresh socket (the exchange, and its abort listener, move with it).
    if (!ex.headed && !ex.gotBytes && this.retry) {
      const retry = this.retry;
      this.exchange = undefined;
      this.retry = undefined;
      retry();
      return;
    }
    this.fail(ex, err);
  }

  kill(): void {
    this.dead = true;
    this.pool.forget(this);
    this.socket.destroy();
  }

  start(ex: Exchange, request: string, retry: (() => void) | undefined): void {
    this.exchange = ex;
    this.buffer = undefined;
    this.retry = retry;
    this.socket.write(request);
  }
}

/** One pool per upstream origin (plain http). */
export class Http1Pool {
  readonly limits: Required<Http1PoolOptions>;
  private readonly host: string;
  private readonly hostHeader: string;
  private readonly port: number;
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly waiting: { send(): void; reject(e: Error): void }[] = [];
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(origin: URL, options: Http1PoolOptions = {}) {
    if (origin.protocol !== 'http:') throw new Error('Http1Pool speaks plain http only');
    this.host = origin.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(origin.port || 80);
    this.hostHeader = origin.host;
    this.limits = { maxSockets: 256, idleMs: 4000, maxHeaderBytes: 64 * 1024, maxBodyBytes: 16 * 1024 * 1024, ...options };
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, this.limits.idleMs / 4));
    this.sweeper.unref();
  }

  /** POSTs `body` to `path`; resolves at the answer's headers, its body following as it arrives. */
  post(path: string, headers: Readonly<Record<string, string>>, body: string, signal?: AbortSignal): Promise<UpstreamResponse> {
    if (this.closed) return Promise.reject(new Http1Error('the connection pool is closed', 'ECANCELED'));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    let head = `POST ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    for (const name in headers) {
      const value = headers[name];
      if (OWN_HEADERS.has(name.toLowerCase())) continue;
      if (!TOKEN.test(name) || FORBIDDEN_VALUE.test(value)) return Promise.reject(new Http1Error(`header ${JSON.stringify(name.slice(0, 40))} is not a valid header`, 'EINVAL'));
      head += `${name}: ${value}\r\n`;
    }
    const request = `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      const ex: Exchange = { resolve, reject, headed: false, gotBytes: false, keepAlive: false, framing: { kind: 'close' }, body: undefined, bodyBytes: 0, draining: false, signal };
      let conn: Connection | undefined;
      let attempt = 0;
      const entry = {
        send: () => {
          conn = this.take(attempt === 0);
          if (!conn) return void this.waiting.push(entry);
          // Only a request on a reused socket may go again (the server may have closed it while it sat idle).
          const mayRetry = attempt++ === 0 && conn.reused;
          conn.start(ex, request, mayRetry ? entry.send : undefined);
        },
        reject,
      };
      if (signal) {
        ex.onAbort = () => {
          if (conn?.exchange === ex) return conn.fail(ex, signal.reason as Error);
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal.reason as Error);
        };
        signal.addEventListener('abort', ex.onAbort, { once: true });
      }
      entry.send();
    });
  }

  /** An idle socket, a new one, or undefined when the pool is full. */
  private take(mayReuse: boolean): Connection | undefined {
    const now = Date.now();
    while (mayReuse && this.idle.length) {
      const c = this.idle.pop()!;
      if (c.dead || now - c.idleSince > this.limits.idleMs) {
        c.kill();
        continue;
      }
      c.reused = true;
      return c;
    }
    if (this.open.size >= this.limits.maxSockets) {
      // Full of idle sockets only (a retry wants a fresh one): close one to make room.
      const spare = this.idle.shift();
      if (!spare) return undefined;
      spare.kill();
    }
    const c = new Connection(this, this.host, this.port);
    this.open.add(c);
    return c;
  }

  release(c: Connection): void {
    if (this.closed || c.dead) return c.kill();
    c.idleSince = Date.now();
    this.idle.push(c);
    this.waiting.shift()?.send();
  }

  forget(c: Connection): void {
    if (!this.open.delete(c)) return;
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    if (!this.closed) this.waiting.shift()?.send();
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.idle]) if (now - c.idleSince > this.limits.idleMs) c.kill();
  }

  /** Sockets open now (for tests and metrics). */
  get size(): number {
    return this.open.size;
  }

  destroy(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const w of this.waiting.splice(0)) w.reject(new Http1Error('the connection pool is closed', 'ECANCELED'));
    for (const c of [...this.open]) c.kill();
  }
}
