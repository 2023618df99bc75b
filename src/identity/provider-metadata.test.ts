import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ProviderError, providerMetadataService } from './provider-metadata.ts';

let server: Server;
let base = '';
let kid = 'k1';
let jwksHits = 0;
let discovery: Record<string, unknown> = {};
const key = () => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' });

before(async () => {
  server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify(discovery));
    if (req.url === '/jwks') {
      jwksHits++;
      return res.end(JSON.stringify({ keys: [key(), { kty: 'oct', k: 'c2VjcmV0', kid }, { ...key(), d: 'private', kid: 'leak' }] }));
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/jwks' });
      return res.end();
    }
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  discovery = { issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token`, jwks_uri: `${base}/jwks` };
});
after(() => new Promise<void>((r) => server.close(() => r())));

const options = { allowHttp: true, allowPrivateAddresses: true, timeoutMs: 2000, maxBytes: 65536, cacheSeconds: 3600 };

test('discovery: the document must name the issuer it was fetched for, with usable endpoints and S256', async () => {
  const providers = providerMetadataService(options);
  assert.equal((await providers.metadata(base)).token_endpoint, `${base}/token`);
  for (const bad of [{ ...discovery, issuer: 'https://evil.example' }, { ...discovery, token_endpoint: 'javascript:alert(1)' }, { ...discovery, code_challenge_methods_supported: ['plain'] }, { ...discovery, jwks_uri: undefined }]) {
    const saved = discovery;
    discovery = bad as Record<string, unknown>;
    providers.clear();
    await assert.rejects(providers.metadata(base), ProviderError);
    discovery = saved;
  }
});

test('the SSRF guard: private addresses and http are refused unless allowed, redirects never followed', async () => {
  await assert.rejects(providerMetadataService({ ...options, allowPrivateAddresses: false }).metadata(base), /not a public address/);
  await assert.rejects(providerMetadataService({ ...options, allowHttp: false }).metadata(base), /https/);
  await assert.rejects(providerMetadataService(options).keysFor(`${base}/redirect`, 'k1', 'ES256'), /redirects are not followed/);
});

test('JWKS: cached, private and symmetric keys skipped, and an unknown kid refetches exactly once', async () => {
  const providers = providerMetadataService(options);
  jwksHits = 0;
  assert.equal((await providers.keysFor(`${base}/jwks`, 'k1', 'ES256')).length, 1);
  assert.equal((await providers.keysFor(`${base}/jwks`, 'k1', 'ES256')).length, 1);
  assert.equal(jwksHits, 1, 'served from the cache');
  assert.equal((await providers.keysFor(`${base}/jwks`, 'leak', 'ES256')).length, 0, 'a JWK with a private part is never used');
  assert.equal(jwksHits, 2, 'one refetch for the unknown kid');
  kid = 'k2'; // the provider rotates
  assert.equal((await providers.keysFor(`${base}/jwks`, 'k2', 'ES256')).length, 1);
  assert.equal(jwksHits, 3);
  assert.equal((await providers.keysFor(`${base}/jwks`, 'k2', 'RS256')).length, 0, 'a key for another algorithm does not match');
});
