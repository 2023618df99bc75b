import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalizeResource, issuerFor, parseResource, workspaceResourceUrl } from './resource.ts';

test('canonicalizeResource lower-cases scheme and host, drops fragment, query, trailing slash and default port', () => {
  assert.equal(canonicalizeResource('HTTPS://MCP.Example.COM:443/Acme/mcp/?x=1#frag'), 'https://mcp.example.com/Acme/mcp');
  assert.equal(canonicalizeResource('http://127.0.0.1:8787/demo/mcp/'), 'http://127.0.0.1:8787/demo/mcp');
  assert.equal(canonicalizeResource('ftp://x/y'), undefined);
  assert.equal(canonicalizeResource('not a url'), undefined);
  assert.equal(canonicalizeResource('https://user:pw@x/mcp'), undefined);
  assert.equal(canonicalizeResource(''), undefined);
});

test('parseResource names a workspace endpoint, the shared endpoint, or nothing', () => {
  const base = 'http://127.0.0.1:8787';
  assert.deepEqual(parseResource(base, workspaceResourceUrl(base, 'demo')), { kind: 'workspace', slug: 'demo' });
  assert.deepEqual(parseResource(base, 'HTTP://127.0.0.1:8787/demo/mcp/'), { kind: 'workspace', slug: 'demo' });
  assert.deepEqual(parseResource(base, `${base}/mcp`), { kind: 'shared' });
  assert.equal(parseResource(base, 'http://127.0.0.1:9999/demo/mcp'), undefined);
  assert.equal(parseResource(base, `${base}/demo/other`), undefined);
  assert.equal(parseResource(base, `${base}/a/b/mcp`), undefined);
});

test('issuerFor: one root issuer by default, per-workspace in workspace mode', () => {
  assert.equal(issuerFor({ publicUrl: 'https://h', issuerMode: 'root' }, 'acme'), 'https://h');
  assert.equal(issuerFor({ publicUrl: 'https://h', issuerMode: 'workspace' }, 'acme'), 'https://h/acme');
  assert.equal(issuerFor({ publicUrl: 'https://h', issuerMode: 'workspace' }), 'https://h');
});
