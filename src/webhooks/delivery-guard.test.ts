// Outbound deliveries go through the SSRF guard the composition root hands the worker (postGuarded, beside the
// client-metadata fetch in src/oauth/safe-fetch.ts): no private addresses, no http, no redirects, unless allowed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postGuarded } from '../oauth/safe-fetch.ts';
import { retryDelayMs } from './worker.ts';

let server: Server;
let port: number;
const bodies: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => {
      bodies.push(b);
      if (req.url === '/redirect') res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

const strict = { allowHttp: false, allowPrivateAddresses: false, timeoutMs: 2000 };
const loose = { allowHttp: true, allowPrivateAddresses: true, timeoutMs: 2000 };

test('private and loopback targets are refused unless allowed; http needs its own setting', async () => {
  await assert.rejects(postGuarded(`https://127.0.0.1:${port}/`, '{}', {}, strict), /not a public address/);
  await assert.rejects(postGuarded(`https://10.0.0.8/`, '{}', {}, strict), /not a public address/);
  await assert.rejects(postGuarded(`https://[::1]:${port}/`, '{}', {}, strict), /not a public address/);
  await assert.rejects(postGuarded(`http://127.0.0.1:${port}/`, '{}', {}, { ...strict, allowPrivateAddresses: true }), /https/);
  // A name that resolves to loopback is judged by the address connected to.
  await assert.rejects(postGuarded(`https://localhost:${port}/`, '{}', {}, strict), /non-public address/);
  assert.equal(bodies.length, 0);
});

test('allowed: the body arrives; a redirect is reported, never followed', async () => {
  assert.deepEqual(await postGuarded(`http://127.0.0.1:${port}/hook`, '{"a":1}', { 'webhook-id': 'evt_1' }, loose), { status: 204 });
  assert.deepEqual(bodies, ['{"a":1}']);
  assert.deepEqual(await postGuarded(`http://127.0.0.1:${port}/redirect`, '{}', {}, loose), { status: 302 });
  assert.equal(bodies.length, 2);
});

test('retries back off exponentially, capped at 6 hours, with at most 10 % jitter', () => {
  assert.deepEqual([1, 2, 3, 4].map((a) => retryDelayMs(a, 30, () => 0)), [30_000, 60_000, 120_000, 240_000]);
  assert.equal(retryDelayMs(30, 30, () => 0), 6 * 3600 * 1000);
  assert.equal(retryDelayMs(1, 30, () => 0.999), Math.round(30_000 * 1.0999));
});
