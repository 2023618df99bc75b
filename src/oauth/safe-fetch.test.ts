import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchJsonDocument, isPublicAddress } from './safe-fetch.ts';

test('isPublicAddress refuses loopback, private, link-local, CGNAT, multicast, reserved and mapped forms', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1', 'not-an-ip']) {
    assert.equal(isPublicAddress(a), false, a);
  }
  for (const a of ['1.1.1.1', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(a), true, a);
});

test('fetchJsonDocument refuses http and literal private addresses before connecting', async () => {
  const opts = { allowHttp: false, allowPrivateAddresses: false, timeoutMs: 500, maxBytes: 1024 };
  await assert.rejects(fetchJsonDocument('http://example.com/x.json', opts), /must use https/);
  await assert.rejects(fetchJsonDocument('https://127.0.0.1/x.json', opts), /not a public address/);
  await assert.rejects(fetchJsonDocument('https://[fd00::1]/x.json', opts), /not a public address/);
  await assert.rejects(fetchJsonDocument('https://localhost/x.json', opts), /non-public address/);
  await assert.rejects(fetchJsonDocument('not a url', opts), /not a valid URL/);
});
