import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Http1Error, Http1Pool } from './http1-client.ts';

async function listen<S extends Server | net.Server>(server: S): Promise<{ server: S; url: URL; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp?x=1`);
  return { server, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A raw TCP server that answers every request with these bytes (then does what `after` says). */
function rawServer(answer: string | Buffer, after: 'keep' | 'close' = 'keep') {
  return net.createServer((socket) => {
    socket.on('data', () => {
      socket.write(answer);
      if (after === 'close') socket.end();
    });
    socket.on('error', () => {});
  });
}

const timeout = () => AbortSignal.timeout(5000);

test('POSTs with the given headers, reads Content-Length and chunked answers, and reuses one socket for both', async () => {
  const seen: { path?: string; headers: Record<string, unknown>; body: string; socket: unknown }[] = [];
  const s = await listen(createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ path: req.url, headers: req.headers, body, socket: req.socket });
      if (body === 'chunked') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message\n');
        res.end('data: {"ok":true}\n\n');
      } else res.writeHead(201, { 'content-type': 'application/json', 'content-length': '11' }).end('{"a":"bcd"}');
    });
  }));
  const pool = new Http1Pool(s.url);
  try {
    const a = await pool.post('/mcp?x=1', { authorization: 'Bearer t', 'x-thing': 'ü-free' }, 'plain', timeout());
    assert.equal(a.status, 201);
    assert.equal(a.ok, true);
    assert.equal(a.headers.get('Content-Type'), 'application/json');
    assert.equal(await a.text(), '{"a":"bcd"}');
    const b = await pool.post('/mcp?x=1', {}, 'chunked', timeout());
    assert.equal(b.headers.get('transfer-encoding'), 'chunked');
    assert.equal(await b.text(), 'event: message\ndata: {"ok":true}\n\n');
    assert.equal(seen[0].path, '/mcp?x=1');
    assert.equal(seen[0].headers.authorization, 'Bearer t');
    assert.equal(seen[0].headers['content-length'], '5');
    assert.equal(seen[0].headers.host, s.url.host);
    assert.equal(seen[0].socket, seen[1].socket, 'the second request went over the same socket');
    assert.equal(pool.size, 1);
  } finally {
    pool.destroy();
    s.server.closeAllConnections();
    await s.close();
  }
});

test('an SSE answer streams: the first event is readable before the server ends the answer', async () => {
  let finish: () => void = () => {};
  const s = await listen(createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    finish = () => res.end('data: two\n\n');
  }));
  const pool = new Http1Pool(s.url);
  try {
    const r = await pool.post('/mcp', {}, '{}', timeout());
    const it = r.body[Symbol.asyncIterator]();
    assert.equal(Buffer.from((await it.next()).value as Uint8Array).toString(), 'data: one\n\n');
    finish();
    assert.equal(Buffer.from((await it.next()).value as Uint8Array).toString(), 'data: two\n\n');
    assert.equal((await it.next()).done, true);
  } finally {
    pool.destroy();
    s.server.closeAllConnections();
    await s.close();
  }
});

test('a socket the server closed while idle is replaced: the request goes once more, on a fresh socket', async () => {
  let requests = 0;
  const s = await listen(createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': '2' }).end('ok'));
  }));
  const pool = new Http1Pool(s.url);
  try {
    assert.equal(await (await pool.post('/', {}, '', timeout())).text(), 'ok');
    s.server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await (await pool.post('/', {}, '', timeout())).text(), 'ok');
    assert.equal(requests, 2, 'each request reached the server once');
  } finally {
    pool.destroy();
    await s.close();
  }
});

test('a reused socket that closes before any answer byte (the server timed it out as the request left) is retried once, fresh', async () => {
  let lost = 0;
  const s = await listen(net.createServer((socket) => {
    let n = 0;
    socket.on('data', () => {
      // The first request on a connection is answered; a second one finds the server closing it.
      if (n++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else {
        lost++;
        socket.destroy();
      }
    });
    socket.on('error', () => {});
  }));
  const pool = new Http1Pool(s.url);
  try {
    assert.equal(await (await pool.post('/', {}, 'x', timeout())).text(), 'ok');
    assert.equal(await (await pool.post('/', {}, 'x', timeout())).text(), 'ok');
    assert.equal(lost, 1);
  } finally {
    pool.destroy();
    await s.close();
  }
  // A fresh socket that closes is not retried: the request may have been acted on.
  let seen = 0;
  const closing = await listen(net.createServer((socket) => socket.on('data', () => (seen++, socket.destroy()))));
  const fresh = new Http1Pool(closing.url);
  try {
    await assert.rejects(fresh.post('/', {}, 'x', timeout()), /connection closed|connection failed/);
    assert.equal(seen, 1);
  } finally {
    fresh.destroy();
    await closing.close();
  }
});

test('interim 1xx answers are skipped; 204 has no body; "connection: close" and read-to-close answers end their socket', async () => {
  const cases: [string, number, string][] = [
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc', 200, 'abc'],
    ['HTTP/1.1 204 No Content\r\n\r\n', 204, ''],
    ['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nhi', 200, 'hi'],
  ];
  for (const [answer, status, body] of cases) {
    const s = await listen(rawServer(answer));
    const pool = new Http1Pool(s.url);
    try {
      const r = await pool.post('/', {}, 'x', timeout());
      assert.equal(r.status, status, answer);
      assert.equal(await r.text(), body, answer);
      if (answer.includes('close')) assert.equal(pool.size, 0, 'the socket was not kept');
    } finally {
      pool.destroy();
      await s.close();
    }
  }
  const s = await listen(rawServer('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end', 'close'));
  const pool = new Http1Pool(s.url);
  try {
    assert.equal(await (await pool.post('/', {}, 'x', timeout())).text(), 'until the end');
  } finally {
    pool.destroy();
    await s.close();
  }
});

test('malformed answers are errors, never a crash or a hang: status line, header, lengths, chunks, codings, extra bytes, sizes', async () => {
  const bad: [string, RegExp][] = [
    ['SMTP ready\r\n\r\n', /not HTTP\/1\.1/],
    ['HTTP/1.1 200 OK\r\nbad header\r\n\r\n', /malformed header/],
    ['HTTP/1.1 200 OK\r\ncontent-length: 3, 4\r\n\r\nabcd', /invalid Content-Length/],
    ['HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n', /invalid Content-Length/],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n', /other than chunked/],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /malformed chunk/],
    ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXY', /malformed chunk/],
    ['HTTP/1.1 101 Switching Protocols\r\n\r\n', /switched protocols/],
    [`HTTP/1.1 200 OK\r\nx: ${'a'.repeat(70_000)}\r\n\r\n`, /headers over the size limit/],
  ];
  for (const [answer, why] of bad) {
    const s = await listen(rawServer(answer));
    const pool = new Http1Pool(s.url);
    try {
      const outcome = await pool.post('/', {}, 'x', timeout()).then((r) => r.text());
      assert.fail(`${JSON.stringify(answer.slice(0, 40))} was accepted: ${outcome}`);
    } catch (err) {
      assert.ok(err instanceof Http1Error, `${answer.slice(0, 40)}: ${String(err)}`);
      assert.match(err.message, why);
      assert.equal(pool.size, 0, 'the socket is not reused after a malformed answer');
    } finally {
      pool.destroy();
      await s.close();
    }
  }
  // Bytes after the answer that nobody asked for (a smuggled second answer) end the socket.
  const s = await listen(rawServer('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil'));
  const pool = new Http1Pool(s.url);
  try {
    assert.equal(await (await pool.post('/', {}, 'x', timeout())).text(), 'ok');
    assert.equal(pool.size, 0);
  } finally {
    pool.destroy();
    await s.close();
  }
  // A body over the limit.
  const big = await listen(rawServer(`HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n${'a'.repeat(100)}`));
  const small = new Http1Pool(big.url, { maxBodyBytes: 50 });
  try {
    await assert.rejects(small.post('/', {}, 'x', timeout()).then((r) => r.text()), /body over the size limit/);
  } finally {
    small.destroy();
    await big.close();
  }
});

test('a header value with CR or LF is refused before anything is sent; the client never sends a caller\'s own framing headers', async () => {
  let received = '';
  const s = await listen(net.createServer((socket) => {
    socket.on('data', (d) => {
      received += d;
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    });
  }));
  const pool = new Http1Pool(s.url);
  try {
    await assert.rejects(pool.post('/', { 'x-evil': 'a\r\nx-injected: 1' }, '', timeout()), /not a valid header/);
    await assert.rejects(pool.post('/', { 'bad name': 'v' }, '', timeout()), /not a valid header/);
    assert.equal(received, '');
    await (await pool.post('/', { 'Content-Length': '999', 'transfer-encoding': 'chunked', host: 'elsewhere' }, 'abc', timeout())).text();
    assert.match(received, /content-length: 3\r\n/);
    assert.doesNotMatch(received, /999|chunked|elsewhere/);
  } finally {
    pool.destroy();
    await s.close();
  }
});

test('refused connections, aborts (waiting for headers, mid-body, queued) and a closed pool are errors with a reason', async () => {
  const probe = await listen(net.createServer());
  const port = (probe.server.address() as AddressInfo).port;
  await probe.close();
  const refused = new Http1Pool(new URL(`http://127.0.0.1:${port}/`));
  await assert.rejects(refused.post('/', {}, '', timeout()), (err: Http1Error) => err.cause?.code === 'ECONNREFUSED');
  refused.destroy();

  let release: () => void = () => {};
  const s = await listen(createServer((req, res) => {
    req.resume();
    if (req.url === '/slow') return void (release = () => res.end());
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: 1\n\n');
  }));
  const pool = new Http1Pool(s.url, { maxSockets: 1 });
  try {
    const c1 = new AbortController();
    const slow = pool.post('/slow', {}, '', c1.signal);
    const c2 = new AbortController();
    const queued = pool.post('/', {}, '', c2.signal);
    c2.abort(new Error('queued and cancelled'));
    await assert.rejects(queued, /queued and cancelled/);
    c1.abort(new Error('cancelled before the headers'));
    await assert.rejects(slow, /cancelled before the headers/);
    const c3 = new AbortController();
    const streaming = await pool.post('/', {}, '', c3.signal);
    const it = streaming.body[Symbol.asyncIterator]();
    await it.next();
    c3.abort(new Error('cancelled mid-body'));
    await assert.rejects(it.next(), /cancelled mid-body/);
    release();
    pool.destroy();
    await assert.rejects(pool.post('/', {}, '', timeout()), /pool is closed/);
  } finally {
    pool.destroy();
    s.server.closeAllConnections();
    await s.close();
  }
});

test('at most maxSockets open; more requests wait their turn and all get their answers', async () => {
  const sockets = new Set<unknown>();
  const s = await listen(createServer((req, res) => {
    sockets.add(req.socket);
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-length': String(req.url!.length) }).end(req.url), 5));
  }));
  const pool = new Http1Pool(s.url, { maxSockets: 3 });
  try {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.post(`/${i}`, {}, '', timeout()).then((r) => r.text())));
    assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => `/${i}`));
    assert.ok(sockets.size <= 3, `${sockets.size} sockets`);
  } finally {
    pool.destroy();
    s.server.closeAllConnections();
    await s.close();
  }
});
