import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, ConfigError } from './config.ts';

test('defaults: loopback 8787, derived public URL and SQLite path under the data dir', () => {
  const c = loadConfig({ env: {}, cwd: '/srv/app' });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8787);
  assert.equal(c.publicUrl, 'http://127.0.0.1:8787');
  assert.equal(c.dataDir, '/srv/app/.tollgate');
  assert.equal(c.databaseUrl, 'sqlite:/srv/app/.tollgate/tollgate.db');
  assert.equal(c.bodyLimitBytes, 1024 * 1024);
});

test('environment overrides defaults; public URL loses its trailing slash', () => {
  const c = loadConfig({ env: { TOLLGATE_PORT: '9000', TOLLGATE_PUBLIC_URL: 'https://mcp.example.com/', TOLLGATE_SHARED_ENDPOINT: 'false' } });
  assert.equal(c.port, 9000);
  assert.equal(c.publicUrl, 'https://mcp.example.com');
  assert.equal(c.sharedEndpoint, false);
});

test('an invalid value names the key', () => {
  assert.throws(() => loadConfig({ env: { TOLLGATE_PORT: 'eighty' } }), (e: unknown) => e instanceof ConfigError && /TOLLGATE_PORT/.test(e.message));
  assert.throws(() => loadConfig({ env: { TOLLGATE_PORT: '70000' } }), /TOLLGATE_PORT.*at most 65535/);
  assert.throws(() => loadConfig({ env: { TOLLGATE_LOG_LEVEL: 'loud' } }), /TOLLGATE_LOG_LEVEL.*one of/);
  assert.throws(() => loadConfig({ env: { TOLLGATE_PUBLIC_URL: 'ftp://x' } }), /TOLLGATE_PUBLIC_URL/);
  assert.throws(() => loadConfig({ env: { TOLLGATE_PUBLIC_URL: 'https://x/?a=1' } }), /query or fragment/);
  assert.throws(() => loadConfig({ env: { TOLLGATE_SHARED_ENDPOINT: 'maybe' } }), /TOLLGATE_SHARED_ENDPOINT/);
});

test('a config file is read, and the environment wins over it', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tg-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tollgate.json');
  writeFileSync(file, JSON.stringify({ port: 7000, logLevel: 'warn' }));
  const c = loadConfig({ env: { TOLLGATE_CONFIG: file, TOLLGATE_LOG_LEVEL: 'error' } });
  assert.equal(c.port, 7000);
  assert.equal(c.logLevel, 'error');
});

test('a bad config file is refused with the key named', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tg-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bad.json');
  writeFileSync(file, '{ not json');
  assert.throws(() => loadConfig({ env: { TOLLGATE_CONFIG: file } }), /TOLLGATE_CONFIG.*not a JSON object/);
  writeFileSync(file, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({ env: { TOLLGATE_CONFIG: file } }), /prot.*unknown key/);
  writeFileSync(file, JSON.stringify({ port: 'x' }));
  assert.throws(() => loadConfig({ env: { TOLLGATE_CONFIG: file } }), /port \(config file\)/);
  assert.throws(() => loadConfig({ env: { TOLLGATE_CONFIG: path.join(dir, 'missing.json') } }), /cannot read/);
});

test('the public URL is canonicalised once: scheme and host lower-cased, the default port dropped, no trailing slash', () => {
  const url = (v: string) => loadConfig({ env: { TOLLGATE_PUBLIC_URL: v } }).publicUrl;
  assert.equal(url('http://LocalHost:8787'), 'http://localhost:8787');
  assert.equal(url('HTTPS://MCP.Example.COM:443/'), 'https://mcp.example.com');
  assert.equal(url('http://example.com:80'), 'http://example.com');
  assert.equal(url('https://example.com:8443/Base/Path/'), 'https://example.com:8443/Base/Path');
  assert.equal(url('http://[::1]:8787'), 'http://[::1]:8787');
});

test('a TOML file is read (camelCase or snake_case keys), and every problem is reported at once', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tg-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'tollgate.toml');
  writeFileSync(file, 'port = 7001\npublic_url = "https://mcp.example.com/"\nlogLevel = "warn"\nseed_demo = false\n');
  const c = loadConfig({ env: { TOLLGATE_CONFIG: file } });
  assert.equal(c.port, 7001);
  assert.equal(c.publicUrl, 'https://mcp.example.com');
  assert.equal(c.logLevel, 'warn');
  assert.equal(c.seedDemo, false);
  // --config (configFile) wins over TOLLGATE_CONFIG.
  const other = path.join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ port: 7002 }));
  assert.equal(loadConfig({ env: { TOLLGATE_CONFIG: file }, configFile: other }).port, 7002);

  writeFileSync(file, 'port = "eighty"\nprot = 1\nlog_level = "loud"\n[metrics]\nport = 9\n');
  let err: unknown;
  try {
    loadConfig({ env: { TOLLGATE_CONFIG: file, TOLLGATE_SHARED_ENDPOINT: 'maybe', TOLLGATE_METRICS_TOKEN: 'short' } });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const keys = err.problems.map((p) => p.key);
  assert.deepEqual(keys.sort(), ['TOLLGATE_SHARED_ENDPOINT (environment)', 'logLevel (config file)', 'metrics', 'metricsToken (TOLLGATE_METRICS_TOKEN)', 'port (config file)', 'prot'].sort());
  assert.match(err.message, /6 problems/);
  assert.ok(!err.message.includes('short'), 'a secret value is never printed');

  writeFileSync(file, 'port = 7001\nport = 7002\n');
  assert.throws(() => loadConfig({ env: { TOLLGATE_CONFIG: file } }), /not valid TOML/);
});
