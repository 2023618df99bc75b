import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeRedirectUri, redirectDisplay, redirectUriMatches } from './redirect-uris.ts';

test('judgeRedirectUri accepts loopback (any of the three hosts), https and native private-use schemes', () => {
  for (const [uri, kind] of [
    ['http://127.0.0.1:33418/', 'loopback'],
    ['http://localhost/callback', 'loopback'],
    ['http://[::1]:8080/cb', 'loopback'],
    ['https://claude.ai/api/mcp/auth_callback', 'https'],
    ['https://vscode.dev/redirect', 'https'],
    ['cursor://anysphere.cursor-retrieval/oauth/callback', 'private-use'],
    ['com.example.app:/oauth2redirect', 'private-use'],
  ] as const) {
    const j = judgeRedirectUri(uri, 'native');
    assert.ok(j.ok, uri);
    assert.equal(j.ok && j.kind, kind, uri);
  }
});

test('judgeRedirectUri refuses dangerous schemes, fragments, credentials, plain http to other hosts and non-strings', () => {
  for (const uri of ['javascript:alert(1)', 'JavaScript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'vbscript:x', 'https://a.example/cb#x', 'http://a.example/cb', 'http://127.0.0.1.evil.com/cb', 'https://u:p@a.example/cb', 'relative/path', '', 'https://a.example/ cb']) {
    assert.equal(judgeRedirectUri(uri, 'native').ok, false, uri);
  }
  for (const v of [null, 42, {}, ['x']]) assert.equal(judgeRedirectUri(v, 'native').ok, false);
  assert.equal(judgeRedirectUri('cursor://x/cb', 'web').ok, false, 'web apps: no private-use schemes');
  assert.equal(judgeRedirectUri('http://127.0.0.1/cb', 'web').ok, true);
});

test('redirectUriMatches: exact strings, except that loopback ports may differ (RFC 8252 §7.3)', () => {
  assert.ok(redirectUriMatches('https://a.example/cb', 'https://a.example/cb'));
  assert.ok(!redirectUriMatches('https://a.example/cb', 'https://a.example/cb/'));
  assert.ok(!redirectUriMatches('https://a.example/cb', 'https://A.example/cb'));
  assert.ok(!redirectUriMatches('https://a.example/cb', 'https://a.example:443/cb'));
  assert.ok(redirectUriMatches('http://127.0.0.1/', 'http://127.0.0.1:54321/'));
  assert.ok(redirectUriMatches('http://127.0.0.1:33418/cb', 'http://127.0.0.1:1/cb'));
  assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://localhost:1/cb'), 'the host must stay the same');
  assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:1/other'));
  assert.ok(!redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:1/cb?x=1'));
  assert.ok(!redirectUriMatches('https://a.example/cb', 'https://a.example:8443/cb'), 'only loopback ports are free');
});

test('redirectDisplay shows the host or the app scheme', () => {
  assert.equal(redirectDisplay('https://claude.ai/api/mcp/auth_callback'), 'claude.ai');
  assert.equal(redirectDisplay('http://127.0.0.1:1234/cb'), '127.0.0.1:1234');
  assert.equal(redirectDisplay('cursor://anysphere.cursor-retrieval/oauth'), 'cursor://anysphere.cursor-retrieval');
});
