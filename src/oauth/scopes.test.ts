import { test } from 'node:test';
import assert from 'node:assert/strict';
import { narrowScopes, parseRequestedScopes } from './scopes.ts';

test('parseRequestedScopes trims, splits on any whitespace, drops unknown scopes and falls back to the MCP defaults', () => {
  assert.deepEqual(parseRequestedScopes('  mcp:write\tmcp:read\n openid  '), ['mcp:read', 'mcp:write', 'openid']);
  assert.deepEqual(parseRequestedScopes('claudeai'), ['mcp:read', 'mcp:write']);
  assert.deepEqual(parseRequestedScopes(undefined), ['mcp:read', 'mcp:write']);
  assert.deepEqual(parseRequestedScopes('email email profile admin:all'), ['profile', 'email']);
  assert.deepEqual(parseRequestedScopes('offline_access'), ['offline_access']);
});

test('narrowScopes narrows, refuses to widen, ignores unknown scopes', () => {
  const granted = ['mcp:read', 'mcp:write', 'openid'];
  assert.deepEqual(narrowScopes('mcp:read', granted), ['mcp:read']);
  assert.deepEqual(narrowScopes('openid mcp:read claudeai', granted), ['mcp:read', 'openid']);
  assert.deepEqual(narrowScopes('', granted), granted);
  assert.equal(narrowScopes('mcp:read email', granted), undefined);
});
