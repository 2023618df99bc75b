import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { checkCimdUrl, cimdService, clientFromDocument, freshnessSeconds, looksLikeCimdUrl } from './cimd.ts';
import { createTestStore } from '../../test/helpers/databases.ts';
import { createLogger } from '../util/logger.ts';

test('client ID metadata document URLs: https with a path, no fragment, credentials or dot segments', () => {
  assert.equal(checkCimdUrl('https://app.example/oauth/client.json', false), undefined);
  assert.match(checkCimdUrl('http://app.example/c.json', false)!, /https/);
  assert.equal(checkCimdUrl('http://app.example/c.json', true), undefined);
  assert.match(checkCimdUrl('https://app.example/', false)!, /path/);
  assert.match(checkCimdUrl('https://app.example/c.json#x', false)!, /fragment/);
  assert.match(checkCimdUrl('https://u:p@app.example/c.json', false)!, /credentials/);
  assert.match(checkCimdUrl('https://app.example/a/../c.json', false)!, /dot segments|path/);
  assert.ok(looksLikeCimdUrl('https://x/y', false));
  assert.ok(!looksLikeCimdUrl('abc123', false));
  assert.ok(!looksLikeCimdUrl('http://x/y', false));
});

test('documents: client_id must equal the URL, no secrets, `none` accepted when listed, private_key_jwt alone refused', () => {
  const url = 'https://chatgpt.example/oauth/client.json';
  const base = { client_id: url, client_name: 'ChatGPT', redirect_uris: ['https://chatgpt.example/cb'] };
  const c = clientFromDocument(url, { ...base, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'] }, 1);
  assert.equal(c.tokenEndpointAuthMethod, 'none');
  assert.equal(c.confidential, false);
  assert.equal(c.kind, 'cimd');
  assert.equal(clientFromDocument(url, base, 1).name, 'ChatGPT');
  assert.throws(() => clientFromDocument(url, { ...base, token_endpoint_auth_method: 'private_key_jwt' }, 1), /private_key_jwt/);
  assert.throws(() => clientFromDocument(url, { ...base, client_id: 'https://other/c.json' }, 1), /differs/);
  assert.throws(() => clientFromDocument(url, { ...base, client_secret: 's' }, 1), /secret/);
  assert.throws(() => clientFromDocument(url, [base], 1), /not a JSON object/);
  assert.throws(() => clientFromDocument(url, { ...base, redirect_uris: ['http://evil.example/cb'] }, 1), /redirect URI/);
});

test('freshness honours Cache-Control within a minute and a day', () => {
  assert.equal(freshnessSeconds(undefined), 3600);
  assert.equal(freshnessSeconds('max-age=600'), 600);
  assert.equal(freshnessSeconds('public, s-maxage=120, max-age=30'), 120);
  assert.equal(freshnessSeconds('max-age=5'), 60);
  assert.equal(freshnessSeconds('max-age=99999999'), 86400);
  assert.equal(freshnessSeconds('no-store'), 60);
});

test('a document that cannot be fetched: the client hears only "could not be fetched", the log says why', async () => {
  const store = await createTestStore('sqlite');
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
  const cimd = cimdService(store, { cimdAllowHttp: false, cimdAllowPrivateAddresses: false, cimdTimeoutMs: 2000, cimdMaxBytes: 5000 }, createLogger('info', sink));
  try {
    // One name that resolves to a loopback address, one that resolves to nothing (.invalid never does, RFC 6761 §6.4).
    const cases = [
      ['https://localhost/client.json', /non-public address/],
      ['https://no-such-host.invalid/client.json', /host not found|EAI_AGAIN/],
      ['https://10.0.0.1/client.json', /not a public address/],
    ] as const;
    for (const [url, reason] of cases) {
      const err = await cimd.resolve(url).then(() => assert.fail(`${url} resolved`), (e: Error & { error?: string }) => e);
      assert.equal(err.error, 'invalid_client');
      assert.equal(err.message, `The client metadata document at ${url} could not be fetched`);
      assert.doesNotMatch(err.message.replace(url, ''), /resolv|private|public|DNS|address|not found/i);
      const logged = lines.map((l) => JSON.parse(l) as { msg: string; clientId?: string; reason?: string }).find((l) => l.clientId === url);
      assert.equal(logged?.msg, 'client metadata document could not be fetched', url);
      assert.match(logged?.reason ?? '', reason, url);
    }
  } finally {
    await store.drop();
  }
});
