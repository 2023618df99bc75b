import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizationServerMetadataUrls, protectedResourceMetadataUrls, resourceCoversServer } from './well-known.ts';

test('PRM candidates: the challenge URL, then path-suffixed, then root', () => {
  assert.deepEqual(protectedResourceMetadataUrls('https://h/ws/mcp', 'https://h/custom.json'), [
    'https://h/custom.json',
    'https://h/.well-known/oauth-protected-resource/ws/mcp',
    'https://h/.well-known/oauth-protected-resource',
  ]);
  assert.deepEqual(protectedResourceMetadataUrls('https://h/'), ['https://h/.well-known/oauth-protected-resource']);
});

test('AS metadata candidates: RFC 8414 path insertion, OIDC insertion, OIDC appending, then the root', () => {
  assert.deepEqual(
    authorizationServerMetadataUrls('https://h/tenant1').map((c) => c.url),
    ['https://h/.well-known/oauth-authorization-server/tenant1', 'https://h/.well-known/openid-configuration/tenant1', 'https://h/tenant1/.well-known/openid-configuration', 'https://h/.well-known/oauth-authorization-server'],
  );
  assert.deepEqual(authorizationServerMetadataUrls('https://h').map((c) => c.url), ['https://h/.well-known/oauth-authorization-server', 'https://h/.well-known/openid-configuration']);
});

test('a PRM resource covers its URL or a child path, never another origin or a sibling', () => {
  assert.ok(resourceCoversServer('https://h/ws/mcp', 'https://h/ws/mcp'));
  assert.ok(resourceCoversServer('https://h/ws/mcp/', 'https://h/ws/mcp'));
  assert.ok(resourceCoversServer('https://h', 'https://h/ws/mcp'));
  assert.ok(!resourceCoversServer('https://h/ws/mcp', 'https://h/other/mcp'));
  assert.ok(!resourceCoversServer('https://h/ws', 'https://h/ws2/mcp'));
  assert.ok(!resourceCoversServer('https://evil/ws/mcp', 'https://h/ws/mcp'));
});
