import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantAudience, issuerForResource, resolveResource, rootIssuer, workspaceIssuer } from './issuers.ts';

const root = { publicUrl: 'https://h.example', issuerMode: 'root' as const, sharedEndpoint: true };
const perWs = { ...root, issuerMode: 'workspace' as const };
const none = { has: () => false };

test('root mode: any workspace endpoint or the shared one; a missing resource is chosen at consent', () => {
  assert.deepEqual(resolveResource(root, rootIssuer(root), 'HTTPS://H.example/acme/mcp/', none), { kind: 'workspace', resource: 'https://h.example/acme/mcp', slug: 'acme' });
  assert.deepEqual(resolveResource(root, rootIssuer(root), 'https://h.example/mcp', none), { kind: 'pick', resource: 'https://h.example/mcp', implicit: false });
  assert.deepEqual(resolveResource(root, rootIssuer(root), undefined, none), { kind: 'pick', resource: null, implicit: true });
  for (const bad of ['https://other.example/acme/mcp', 'https://h.example/acme/other', 'https://h.example/a/b/mcp', 'ftp://h.example/mcp', 'not a url']) {
    assert.ok('error' in resolveResource(root, rootIssuer(root), bad, none), bad);
  }
  assert.ok('error' in resolveResource({ ...root, sharedEndpoint: false }, rootIssuer(root), 'https://h.example/mcp', none));
});

test('workspace mode: a workspace issuer serves only its own endpoint; the root issuer only the shared one', () => {
  const acme = workspaceIssuer(perWs, 'acme');
  assert.equal(acme.issuer, 'https://h.example/acme');
  assert.deepEqual(resolveResource(perWs, acme, undefined, none), { kind: 'workspace', resource: 'https://h.example/acme/mcp', slug: 'acme' });
  assert.ok('error' in resolveResource(perWs, acme, 'https://h.example/other/mcp', none));
  assert.ok('error' in resolveResource(perWs, acme, 'https://h.example/mcp', none));
  assert.ok('error' in resolveResource(perWs, rootIssuer(perWs), 'https://h.example/acme/mcp', none));
  assert.deepEqual(resolveResource(perWs, rootIssuer(perWs), undefined, none), { kind: 'pick', resource: 'https://h.example/mcp', implicit: false });
  assert.equal(issuerForResource(perWs, 'https://h.example/acme/mcp'), 'https://h.example/acme');
  assert.equal(issuerForResource(perWs, 'https://h.example/mcp'), 'https://h.example');
});

test('an implicit resource makes tokens valid at the workspace endpoint and the shared one', () => {
  assert.deepEqual(grantAudience(root, 'https://h.example/acme/mcp', true), ['https://h.example/acme/mcp', 'https://h.example/mcp']);
  assert.deepEqual(grantAudience({ ...root, sharedEndpoint: false }, 'https://h.example/acme/mcp', true), ['https://h.example/acme/mcp']);
  assert.deepEqual(grantAudience(root, 'https://h.example/acme/mcp', false), ['https://h.example/acme/mcp']);
});

test('an upstream server\'s own endpoint is a resource only while the gateway serves an upstream by that name', () => {
  const served = { has: (name: string) => name === 'ads' };
  assert.deepEqual(resolveResource(root, rootIssuer(root), 'https://h.example/acme/mcp/ads', served), { kind: 'workspace', resource: 'https://h.example/acme/mcp/ads', slug: 'acme' });
  const unknown = resolveResource(root, rootIssuer(root), 'https://h.example/acme/mcp/crm', served);
  assert.ok('error' in unknown && /no MCP server named crm/.test(unknown.error), JSON.stringify(unknown));
  assert.ok('error' in resolveResource(root, rootIssuer(root), 'https://h.example/acme/mcp/ads', none));
});
