// Requirements (foundation §7, §8, §9): health and readiness, request ids, JSON 404, body limit, no stack traces,
// security headers, log redaction, graceful shutdown with an in-flight request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { readJsonObject } from '../src/http/body.ts';

describe('HTTP basics', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({
      env: { TOLLGATE_BODY_LIMIT_BYTES: '2048' },
      configureApp: (app) => {
        app.post('/test/echo', async (c) => c.json(await readJsonObject(c)));
        app.get('/test/boom', () => {
          throw new Error('secret internals at /srv/app/x.ts:12');
        });
      },
    });
  });
  after(async () => srv.stop());

  test('/healthz is alive and /readyz checks the database', async () => {
    const h = await fetch(`${srv.url}/healthz`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok' });
    const r = await fetch(`${srv.url}/readyz`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).status, 'ready');
  });

  test('every response carries an x-request-id; a sane incoming one is kept, a hostile one replaced', async () => {
    const a = await fetch(`${srv.url}/healthz`);
    assert.match(a.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const b = await fetch(`${srv.url}/healthz`, { headers: { 'x-request-id': 'client-req-12345' } });
    assert.equal(b.headers.get('x-request-id'), 'client-req-12345');
    const c = await fetch(`${srv.url}/healthz`, { headers: { 'x-request-id': 'bad id\u00e9<script>' } });
    assert.notEqual(c.headers.get('x-request-id'), 'bad id\u00e9<script>');
    const d = await fetch(`${srv.url}/nope`);
    assert.ok(d.headers.get('x-request-id'));
  });

  test('unknown routes get a JSON 404', async () => {
    const r = await fetch(`${srv.url}/no/such/route`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const body = await r.json();
    assert.equal(body.error, 'not_found');
    assert.equal(body.request_id, r.headers.get('x-request-id'));
  });

  test('a body over the limit gets 413, with or without Content-Length', async () => {
    const big = JSON.stringify({ x: 'a'.repeat(4096) });
    const r = await fetch(`${srv.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    assert.equal(r.status, 413);
    assert.equal((await r.json()).error, 'request_too_large');
    // Chunked: no Content-Length, so the limit must hold while reading.
    const stream = new ReadableStream({
      start(ctl) {
        ctl.enqueue(new TextEncoder().encode(big));
        ctl.close();
      },
    });
    const r2 = await fetch(`${srv.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    assert.equal(r2.status, 413);
  });

  test('malformed JSON gets 400 with a clear message; the wrong content type 415', async () => {
    const bad = await fetch(`${srv.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error_description, /not valid JSON/);
    const arr = await fetch(`${srv.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
    assert.equal(arr.status, 400);
    const wrong = await fetch(`${srv.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(wrong.status, 415);
    const ok = await fetch(`${srv.url}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    assert.deepEqual(await ok.json(), { a: 1 });
  });

  test('an unexpected error is a bare 500: no stack, no internals, a request id', async () => {
    const r = await fetch(`${srv.url}/test/boom`);
    assert.equal(r.status, 500);
    const text = await r.text();
    assert.doesNotMatch(text, /secret internals|\.ts:|at /);
    assert.equal(JSON.parse(text).request_id, r.headers.get('x-request-id'));
  });

  test('HTML gets CSP with frame-ancestors none, nosniff and a Referrer-Policy; JSON gets nosniff', async () => {
    const r = await fetch(`${srv.url}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    // No browser feature a page needs; no cross-origin window keeps a handle on ours.
    assert.match(r.headers.get('permissions-policy') ?? '', /camera=\(\)/);
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    // HSTS only when the public URL is https (it is http here).
    assert.equal(r.headers.get('strict-transport-security'), null);
    const j = await fetch(`${srv.url}/healthz`);
    assert.equal(j.headers.get('x-content-type-options'), 'nosniff');
  });

  test('a token, cookie, code or password sent in a request appears nowhere in the log', async () => {
    const secrets = ['tok-3f9a8b7c6d5e4f3a2b1c', 'cookie-9d8c7b6a5f4e', 'code-1a2b3c4d5e6f', 'pw-7e6d5c4b3a29'];
    await fetch(`${srv.url}/test/echo?code=${secrets[2]}&access_token=${secrets[0]}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets[0]}`, cookie: `tollgate_session=${secrets[1]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: secrets[3] }),
    });
    await fetch(`${srv.url}/test/boom?token=${secrets[0]}`, { headers: { authorization: `Bearer ${secrets[0]}` } });
    // The logger itself censors secret-named fields, nested too.
    srv.services.logger.info({ password: secrets[3], detail: { token: secrets[0], client_secret: secrets[1] }, deep: { x: { code: secrets[2] } } }, 'probe');
    const all = srv.logs.join('\n');
    assert.ok(srv.logs.length > 2 && all.includes('"path":"/test/echo"'), 'request logs were written');
    for (const s of secrets) assert.ok(!all.includes(s), `log leaked ${s}`);
    for (const line of srv.logs) JSON.parse(line);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM-style close finishes an in-flight request, then refuses new ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const srv = await startTestServer({
      configureApp: (app) => {
        app.get('/test/slow', async (c) => {
          entered();
          await gate;
          return c.json({ finished: true });
        });
      },
    });
    const inFlight = fetch(`${srv.url}/test/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await inHandler;
    const closed = srv.stop();
    // A new connection is refused while the old request is still running.
    await new Promise((r) => setTimeout(r, 50));
    const refused = await new Promise<boolean>((resolve) => {
      const req = request(`${srv.url}/healthz`, { agent: false }, () => resolve(false));
      req.on('error', () => resolve(true));
      req.end();
    });
    assert.equal(refused, true);
    release();
    assert.deepEqual(await inFlight, { status: 200, body: { finished: true } });
    await closed;
  });
});

describe('an https public URL', () => {
  test('every answer carries Strict-Transport-Security: pages, JSON, the endpoint table', async () => {
    // TLS ends at a proxy in front; the listener itself speaks http on loopback.
    const srv = await startTestServer({ env: { TOLLGATE_PUBLIC_URL: 'https://127.0.0.1:0' } });
    try {
      const base = `http://127.0.0.1:${srv.port}`;
      for (const path of ['/login', '/healthz', '/demo/mcp', '/.well-known/oauth-protected-resource/demo/mcp']) {
        const r = await fetch(`${base}${path}`, path === '/demo/mcp' ? { method: 'POST' } : {});
        assert.match(r.headers.get('strict-transport-security') ?? '', /^max-age=31536000/, path);
      }
    } finally {
      await srv.stop();
    }
  });
});
