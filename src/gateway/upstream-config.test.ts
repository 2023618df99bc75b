import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkName, checkPrice, checkUrl, describeTarget, parseEnv, parseHeader, splitCommand } from './upstream-config.ts';
import { circuitBreaker } from './circuit-breaker.ts';

test('upstream names are URL- and tool-name-safe', () => {
  assert.equal(checkName('crm-2'), 'crm-2');
  for (const bad of ['', 'Crm', '2crm', 'a_b', 'a/b', 'x'.repeat(33), '../etc']) assert.throws(() => checkName(bad), /invalid/, bad);
});

test('headers: Name: value; Tollgate\'s own headers and header injection refused', () => {
  assert.deepEqual(parseHeader('X-Api-Key:  sk-1 '), ['X-Api-Key', 'sk-1']);
  // No token passthrough: Authorization carries the forwarded JWT.
  assert.throws(() => parseHeader('Authorization: Bearer abc'), /carries the forwarded JWT/);
  for (const h of ['Host: evil', 'Mcp-Session-Id: 1', 'Content-Length: 5', 'Transfer-Encoding: chunked']) assert.throws(() => parseHeader(h), /set by Tollgate/, h);
  assert.throws(() => parseHeader('X-A: b\r\nX-Injected: 1'), /line break/);
  assert.throws(() => parseHeader('no colon'), /Name: value/);
  assert.throws(() => parseHeader('Bad Name: v'), /not a valid HTTP field name/);
});

test('env, URLs, prices and commands are checked', () => {
  assert.deepEqual(parseEnv('API_KEY=a=b'), ['API_KEY', 'a=b']);
  assert.throws(() => parseEnv('=x'), /NAME=value/);
  assert.throws(() => parseEnv('1X=y'), /NAME=value/);
  assert.equal(checkUrl('http://127.0.0.1:9/mcp#frag'), 'http://127.0.0.1:9/mcp');
  assert.throws(() => checkUrl('file:///etc/passwd'), /http or https/);
  assert.throws(() => checkUrl('https://user:pw@host/mcp'), /must not carry credentials/);
  assert.throws(() => checkUrl('not a url'), /absolute/);
  assert.equal(checkPrice('0'), 0);
  for (const bad of ['-1', '1.5', 'abc', '9999999999']) assert.throws(() => checkPrice(bad), /whole number/, bad);
  assert.deepEqual(splitCommand(`npx -y "@scope/server x" --flag='a b' c\\ d`), ['npx', '-y', '@scope/server x', '--flag=a b', 'c d']);
  assert.throws(() => splitCommand('node "unclosed'), /unclosed quote/);
  assert.throws(() => splitCommand('   '), /empty/);
});

test('an upstream is described with header and env names, never their values', () => {
  const http = describeTarget({ transport: 'http', url: 'https://h/mcp', headers: { 'X-Api-Key': 'sk-secret' } });
  const stdio = describeTarget({ transport: 'stdio', command: ['node', 'my server.js'], env: { TOKEN: 'tok-secret' } });
  assert.match(http, /X-Api-Key/);
  assert.match(stdio, /TOKEN/);
  assert.ok(!http.includes('sk-secret') && !stdio.includes('tok-secret'));
  assert.match(stdio, /"my server.js"/);
});

test('circuit breaker: opens after N failures in a row, lets one trial through after the cooldown, closes on success', () => {
  const b = circuitBreaker({ failures: 3, cooldownMs: 1000 });
  const t0 = 1_000_000;
  b.failure(t0);
  b.failure(t0);
  assert.equal(b.blockedForMs(t0), undefined);
  b.failure(t0);
  assert.equal(b.blockedForMs(t0 + 10), 990);
  assert.equal(b.blockedForMs(t0 + 1000), undefined, 'the trial call');
  assert.equal(b.blockedForMs(t0 + 1001), 1000, 'only one trial at a time');
  b.failure(t0 + 1100);
  assert.ok((b.blockedForMs(t0 + 1200) ?? 0) > 0, 'a failed trial opens it again');
  assert.equal(b.blockedForMs(t0 + 2100), undefined);
  b.success();
  assert.equal(b.blockedForMs(t0 + 2101), undefined);
  assert.equal(b.state, 'closed');
});
