// Requirement: the bench harness gets a peer's token as an MCP client would (issue 21), from the discovery the specs
// define: the challenge's resource_metadata (RFC 9728 §5.1), then the authorization server's metadata found by RFC 8414
// path insertion; and it never talks to anything but loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metadataUrls, obtainAccessToken, resourceMetadataFromChallenge } from '../bench/lib/oauth-client.ts';

test('authorization-server metadata URLs: RFC 8414 path insertion first, then the OpenID forms', () => {
  assert.deepEqual(metadataUrls('http://127.0.0.1:8080'), [
    'http://127.0.0.1:8080/.well-known/oauth-authorization-server',
    'http://127.0.0.1:8080/.well-known/openid-configuration',
    'http://127.0.0.1:8080/.well-known/openid-configuration',
  ]);
  assert.deepEqual(metadataUrls('http://127.0.0.1:8080/api/auth/'), [
    'http://127.0.0.1:8080/.well-known/oauth-authorization-server/api/auth',
    'http://127.0.0.1:8080/.well-known/openid-configuration/api/auth',
    'http://127.0.0.1:8080/api/auth/.well-known/openid-configuration',
  ]);
});

test('resource_metadata is read from a Bearer challenge, and only from there', () => {
  assert.equal(
    resourceMetadataFromChallenge('Bearer error="invalid_token", resource_metadata="http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp"'),
    'http://127.0.0.1:1/.well-known/oauth-protected-resource/mcp',
  );
  assert.equal(resourceMetadataFromChallenge('Bearer realm="x"'), undefined);
  assert.equal(resourceMetadataFromChallenge(null), undefined);
});

test('a peer that is not on loopback is refused before any request is sent', async () => {
  await assert.rejects(obtainAccessToken({ resource: 'http://192.0.2.1/mcp', scope: 'mcp:read' }), /only talks to loopback/);
  await assert.rejects(obtainAccessToken({ resource: 'https://example.com/mcp', scope: 'mcp:read' }), /only talks to loopback/);
});
