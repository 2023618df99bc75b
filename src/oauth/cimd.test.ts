import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCimdUrl, clientFromDocument, freshnessSeconds, looksLikeCimdUrl } from './cimd.ts';

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
