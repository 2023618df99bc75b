import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePastedResponse } from './paste-back.ts';

test('the full callback URL, its query string, or a bare code', () => {
  const full = parsePastedResponse('  http://127.0.0.1:23456/callback?code=abc123xyz&state=s1&iss=https%3A%2F%2Fas.example \n');
  assert.equal(full?.params.get('code'), 'abc123xyz');
  assert.equal(full?.params.get('iss'), 'https://as.example');
  assert.equal(full?.bareCode, false);
  for (const q of ['?code=abc123xyz&state=s1', 'code=abc123xyz&state=s1', '/callback?code=abc123xyz&state=s1']) {
    const p = parsePastedResponse(q);
    assert.equal(p?.params.get('state'), 's1', q);
    assert.equal(p?.bareCode, false);
  }
  const bare = parsePastedResponse('Zx8_k-2Qa9');
  assert.equal(bare?.params.get('code'), 'Zx8_k-2Qa9');
  assert.equal(bare?.bareCode, true);
});

test('an error answer is recognised; junk is not', () => {
  assert.equal(parsePastedResponse('http://127.0.0.1:1/callback?error=access_denied&state=s')?.params.get('error'), 'access_denied');
  for (const junk of ['', 'hello world', 'http://127.0.0.1:1/callback', 'short', 'nonsense', 'continue']) assert.equal(parsePastedResponse(junk), undefined, junk);
});
