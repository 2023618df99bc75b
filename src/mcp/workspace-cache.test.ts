import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workspaceCache } from './workspace-cache.ts';
import { originPolicy } from './origins.ts';

test('workspace lookups are cached, misses briefly, bounded, and forgettable; junk slugs never reach the database', async () => {
  const loads: string[] = [];
  let exists = false;
  const cache = workspaceCache(
    async (slug) => {
      loads.push(slug);
      return exists ? { id: `id-${slug}`, slug, name: slug, createdAt: 0, externalId: null } : undefined;
    },
    { missTtlMs: 60_000, maxEntries: 2 },
  );
  assert.equal(await cache.get('acme'), undefined);
  exists = true;
  assert.equal(await cache.get('acme'), undefined, 'a miss is remembered');
  cache.forget('acme');
  assert.equal((await cache.get('acme'))?.id, 'id-acme');
  assert.equal((await cache.get('acme'))?.id, 'id-acme');
  assert.deepEqual(loads, ['acme', 'acme']);
  await cache.get('bbb');
  await cache.get('ccc');
  await cache.get('acme');
  assert.equal(loads.filter((s) => s === 'acme').length, 3, 'the oldest entry was evicted');
  for (const junk of ['', 'A', '..', 'x'.repeat(41), 'a/b', '-ab']) assert.equal(await cache.get(junk), undefined);
  assert.equal(loads.length, 5);
});

test('origins: none (not a browser), the public origin and configured ones are allowed; nothing else', () => {
  const p = originPolicy({ publicUrl: 'https://mcp.example.com', allowedOrigins: 'http://localhost:6274, https://app.example.org/' });
  assert.equal(p.allows(undefined), true);
  assert.equal(p.allows('https://mcp.example.com'), true);
  assert.equal(p.allows('https://MCP.example.com:443'), true);
  assert.equal(p.allows('http://localhost:6274'), true);
  assert.equal(p.allows('https://app.example.org'), true);
  for (const bad of ['https://evil.example.com', 'null', 'http://mcp.example.com', 'https://mcp.example.com.evil.net', '']) assert.equal(p.allows(bad), false, bad);
});
