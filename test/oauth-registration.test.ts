// Requirements (OAuth §2): dynamic client registration (RFC 7591) — 201 with the registered metadata, redirect URIs
// judged one by one, unknown members ignored, native by default, secrets shown once and stored hashed, a per-IP rate
// limit, garbage collection of clients that never completed a grant, and RFC-shaped errors for bad bodies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { obtainTokens, rawRequest } from './helpers/oauth-flow.ts';
import { sha256Hex } from '../src/util/ids.ts';

async function register(srv: TestServer, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const r = await fetch(`${srv.url}/register`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, headers: r.headers, body: await r.json() };
}

describe('OAuth dynamic client registration', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_DCR_RATE_PER_MINUTE: '1000', TOLLGATE_UNUSED_CLIENT_TTL_SECONDS: '60' } });
  });
  after(async () => srv.stop());

  test('201 with the registered metadata; unknown members ignored; application_type defaults to native; public clients get no secret', async () => {
    const r = await register(srv, {
      client_name: 'MCP Inspector',
      redirect_uris: ['http://localhost:6274/oauth/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_uri: 'https://inspector.example',
      logo_uri: 'javascript:alert(1)',
      x_unknown_member: { nested: true },
      software_statement: 'not-supported',
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.ok(r.body.client_id);
    assert.equal(typeof r.body.client_id_issued_at, 'number');
    assert.equal(r.body.client_name, 'MCP Inspector');
    assert.deepEqual(r.body.redirect_uris, ['http://localhost:6274/oauth/callback']);
    assert.equal(r.body.token_endpoint_auth_method, 'none');
    assert.equal(r.body.application_type, 'native');
    assert.deepEqual(r.body.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(r.body.response_types, ['code']);
    assert.equal(r.body.client_uri, 'https://inspector.example');
    assert.equal(r.body.logo_uri, undefined, 'a javascript: logo is dropped');
    assert.equal(r.body.x_unknown_member, undefined);
    assert.equal(r.body.client_secret, undefined);
  });

  test('a confidential client (the RFC 7591 default method) gets a secret once; only its hash is stored', async () => {
    const r = await register(srv, { client_name: 'Server app', redirect_uris: ['https://app.example/cb'] });
    assert.equal(r.status, 201);
    assert.equal(r.body.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(typeof r.body.client_secret, 'string');
    assert.ok(r.body.client_secret.length >= 40);
    assert.equal(r.body.client_secret_expires_at, 0);
    const row = await srv.services.store.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', r.body.client_id).executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, sha256Hex(r.body.client_secret));
    assert.ok(!JSON.stringify(row).includes(r.body.client_secret));
  });

  test('redirect URIs are judged one by one: bad ones are dropped, a registration with none left is invalid_redirect_uri', async () => {
    const r = await register(srv, {
      client_name: 'Mixed',
      token_endpoint_auth_method: 'none',
      redirect_uris: [
        'https://claude.ai/api/mcp/auth_callback',
        'https://chatgpt.com/connector/oauth/abc123',
        'http://127.0.0.1:33418/',
        'http://[::1]/cb',
        'cursor://anysphere.cursor-retrieval/oauth/callback',
        'javascript:alert(1)',
        'data:text/html,hi',
        'file:///etc/passwd',
        'vbscript:msgbox',
        'https://app.example/cb#frag',
        'http://evil.example/cb',
        'not a uri',
        42,
      ],
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.redirect_uris, [
      'https://claude.ai/api/mcp/auth_callback',
      'https://chatgpt.com/connector/oauth/abc123',
      'http://127.0.0.1:33418/',
      'http://[::1]/cb',
      'cursor://anysphere.cursor-retrieval/oauth/callback',
    ]);
    const events = await srv.services.oauth.clientEvents.list(r.body.client_id);
    assert.match(events[0].detail, /refused redirect URIs: javascript:/);

    const none = await register(srv, { redirect_uris: ['javascript:alert(1)', 'http://evil.example/cb'] });
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'invalid_redirect_uri');
    assert.match(none.body.error_description, /http is allowed only for loopback/);
    for (const bad of [undefined, [], 'https://app.example/cb', {}]) {
      const x = await register(srv, { redirect_uris: bad });
      assert.equal(x.status, 400);
      assert.equal(x.body.error, 'invalid_redirect_uri');
    }
  });

  test('web applications may not use private-use schemes', async () => {
    const r = await register(srv, { application_type: 'web', token_endpoint_auth_method: 'none', redirect_uris: ['cursor://x/cb', 'https://web.example/cb'] });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.redirect_uris, ['https://web.example/cb']);
    assert.equal(r.body.application_type, 'web');
  });

  test('unsupported metadata values are invalid_client_metadata', async () => {
    for (const body of [
      { redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'private_key_jwt' },
      { redirect_uris: ['https://a.example/cb'], response_types: ['token'] },
      { redirect_uris: ['https://a.example/cb'], grant_types: ['client_credentials'] },
    ]) {
      const r = await register(srv, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'invalid_client_metadata');
    }
  });

  test('malformed bodies and wrong content types are RFC 7591 errors, never a 500', async () => {
    const cases: [unknown, Record<string, string>][] = [
      ['{"redirect_uris":', { 'content-type': 'application/json' }],
      ['[1,2]', { 'content-type': 'application/json' }],
      ['null', { 'content-type': 'application/json' }],
      ['redirect_uris=https://a.example/cb', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['{}', { 'content-type': 'text/plain' }],
      ['', {}],
      [JSON.stringify({ redirect_uris: ['https://a.example/' + 'x'.repeat(3000)] }), { 'content-type': 'application/json' }],
      [JSON.stringify({ client_name: 'x'.repeat(100_000), redirect_uris: ['https://a.example/cb'] }), { 'content-type': 'application/json' }],
    ];
    for (const [body, headers] of cases) {
      const r = await fetch(`${srv.url}/register`, { method: 'POST', headers, body: body as string });
      assert.ok(r.status === 400 || r.status === 201, `${r.status} for ${String(body).slice(0, 40)}`);
      const j = await r.json();
      if (r.status === 400) {
        assert.match(j.error, /^invalid_(client_metadata|redirect_uri)$/);
        assert.equal(typeof j.error_description, 'string');
      } else assert.equal(j.client_name.length, 200, 'an oversized name is cut');
    }
    const huge = await rawRequest(`${srv.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], pad: 'x'.repeat(2_000_000) }) });
    assert.equal(huge.status, 413);
  });

  test('self-registered clients that never completed a grant are garbage-collected; used and pre-registered ones stay', async () => {
    const unused = await register(srv, { client_name: 'Never used', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'] });
    const { clientId: used } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource: `${srv.url}/demo/mcp` });
    const fresh = await register(srv, { client_name: 'Just registered', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'] });
    const { client: staticClient } = await srv.services.oauth.clients.createClient({ clientName: 'Operator', redirectUris: ['https://x.example/cb'], tokenEndpointAuthMethod: 'none', applicationType: 'web', grantTypes: ['authorization_code'], scope: null, extra: {} }, 'static');
    const db = srv.services.store.db;
    const old = Date.now() - 61_000; // the unused-client TTL is 60 s on this server
    for (const id of [unused.body.client_id, used, staticClient.clientId]) await db.updateTable('oauth_clients').set({ created_at: old }).where('client_id', '=', id).execute();
    await srv.services.oauth.runMaintenance(true);
    const left = new Set((await db.selectFrom('oauth_clients').select('client_id').execute()).map((r: { client_id: string }) => r.client_id));
    assert.ok(!left.has(unused.body.client_id), 'the unused old client is gone');
    assert.ok(left.has(used), 'a client with a grant stays');
    assert.ok(left.has(fresh.body.client_id), 'a recent client stays');
    assert.ok(left.has(staticClient.clientId), 'a pre-registered client stays');
  });
});

describe('OAuth dynamic client registration rate limit', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_DCR_RATE_PER_MINUTE: '3' } });
  });
  after(async () => srv.stop());

  test('registrations are rate limited per IP: 429 with Retry-After', async () => {
    const body = { token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'] };
    for (let i = 0; i < 3; i++) assert.equal((await register(srv, body)).status, 201);
    const r = await register(srv, body);
    assert.equal(r.status, 429);
    assert.equal(r.body.error, 'slow_down');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  });
});

describe('OAuth dynamic client registration rate limit behind a proxy', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_DCR_RATE_PER_MINUTE: '2', TOLLGATE_TRUSTED_PROXY_HOPS: '1' } });
  });
  after(async () => srv.stop());

  test('with one trusted proxy the limit counts the forwarded client address, not the proxy', async () => {
    const body = { token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'] };
    const from = (ip: string) => register(srv, body, { 'content-type': 'application/json', 'x-forwarded-for': ip });
    for (let i = 0; i < 2; i++) assert.equal((await from('198.51.100.1')).status, 201);
    assert.equal((await from('198.51.100.1')).status, 429);
    // Another client behind the same proxy has its own counter; an address the client prepends itself changes nothing.
    assert.equal((await from('198.51.100.2')).status, 201);
    assert.equal((await from('9.9.9.9, 198.51.100.1')).status, 429);
  });
});
