import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { listenForCallback, stableCallbackPort } from './loopback-callback.ts';

test('the callback port is stable per server URL and outside the ephemeral range', () => {
  const p = stableCallbackPort('https://mcp.example/ws/mcp');
  assert.equal(p, stableCallbackPort('https://mcp.example/ws/mcp'));
  assert.notEqual(p, stableCallbackPort('https://mcp.example/other/mcp'));
  assert.ok(p >= 20000 && p < 30000);
});

test('the listener takes the code on 127.0.0.1, ignores other paths, and falls back when the port is taken', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => blocker.close());
  const taken = (blocker.address() as { port: number }).port;
  const l = await listenForCallback({ port: taken });
  t.after(() => l.close());
  assert.equal(l.fellBack, true);
  assert.notEqual(l.port, taken);
  assert.equal(l.redirectUri, `http://127.0.0.1:${l.port}/callback`);
  assert.equal((await fetch(`http://127.0.0.1:${l.port}/favicon.ico`)).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${l.port}/callback`)).status, 400, 'nothing to take');
  const page = await fetch(`${l.redirectUri}?code=abc&state=s`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /signed in/i);
  assert.equal((await l.result).get('code'), 'abc');
  await assert.rejects(listenForCallback({ port: l.port, allowFallback: false }), /EADDRINUSE/);
});
