import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerChallenge, parseWwwAuthenticate } from './www-authenticate.ts';

test('a Bearer challenge with resource_metadata, scope and error', () => {
  const c = bearerChallenge('Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="https://h/.well-known/oauth-protected-resource/ws/mcp"');
  assert.deepEqual({ rm: c?.resourceMetadata, scope: c?.scope, error: c?.error }, { rm: 'https://h/.well-known/oauth-protected-resource/ws/mcp', scope: 'mcp:read mcp:write', error: 'insufficient_scope' });
});

test('several challenges, unquoted values, odd spacing and escapes', () => {
  const all = parseWwwAuthenticate('Basic realm="x", Bearer  realm = "a \\"b\\"" ,resource_metadata=https://h/m , DPoP algs="ES256"');
  assert.deepEqual(all.map((c) => c.scheme), ['Basic', 'Bearer', 'DPoP']);
  assert.equal(all[1].params.realm, 'a "b"');
  assert.equal(all[1].params.resource_metadata, 'https://h/m');
  assert.equal(bearerChallenge('bearer resource_metadata="u"')?.resourceMetadata, 'u', 'scheme is case-insensitive');
});

test('no header, or no Bearer challenge', () => {
  assert.equal(bearerChallenge(null), undefined);
  assert.equal(bearerChallenge('Basic realm="x"'), undefined);
  assert.deepEqual(bearerChallenge('Bearer')?.params, {});
});
