// Requirements (OAuth §2): dynamic client registration (RFC 7591) — 201 with the registered metadata, redirect URIs
// judged one by one, unknown members ignored, native by default, secrets shown once and stored hashed, a per-IP rate
// limit, garbage collection of clients that never completed a grant, and RFC-shaped errors for bad bodies; RFC 7592
// deletion of a self-registered client with its registration access token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { obtainTokens, rawRequest } from './helpers/oauth-flow.ts';
import { forEachDialect } from './helpers/databases.ts';
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

  test('registrations are rate limited per IP: 429 temporarily_unavailable with Retry-After (slow_down is for device polling only)', async () => {
    const body = { token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'] };
    for (let i = 0; i < 3; i++) assert.equal((await register(srv, body)).status, 201);
    const r = await register(srv, body);
    assert.equal(r.status, 429);
    assert.equal(r.body.error, 'temporarily_unavailable');
    assert.match(r.body.error_description, /Too many client registrations/);
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

// RFC 7592 (client management) for self-registered clients: delete only, with the registration access token.
forEachDialect('OAuth client management (RFC 7592)', (dialect) => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_DCR_RATE_PER_MINUTE: '1000' } });
  });
  after(async () => srv.stop());

  const REDIRECT = 'http://127.0.0.1:9/callback';
  const del = (uri: string, authorization?: string) => fetch(uri, { method: 'DELETE', headers: authorization ? { authorization } : {} });
  const exists = async (clientId: string) => !!(await srv.services.oauth.clients.getClient(clientId));

  test('a self-registered client gets registration_client_uri and a registration access token (stored hashed) and deletes itself; its grants end', async () => {
    const reg = await register(srv, { client_name: 'Throw-away', token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT] });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.registration_client_uri, `${srv.url}/register/${reg.body.client_id}`);
    assert.equal(typeof reg.body.registration_access_token, 'string');
    assert.ok(reg.body.registration_access_token.length >= 32);
    const row = await srv.services.store.db.selectFrom('oauth_clients').selectAll().where('client_id', '=', reg.body.client_id).executeTakeFirstOrThrow();
    assert.equal(row.registration_token_hash, sha256Hex(reg.body.registration_access_token), 'only the hash is stored');
    assert.ok(!Object.values(row).includes(reg.body.registration_access_token));

    const resource = `${srv.url}/demo/mcp`;
    const { tokens } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource, clientId: reg.body.client_id, redirectUri: REDIRECT });
    assert.equal((await srv.services.oauth.accessTokens.verifyAccessToken(tokens.access_token, resource)).ok, true);

    const r = await del(reg.body.registration_client_uri, `Bearer ${reg.body.registration_access_token}`);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(await exists(reg.body.client_id), false);
    assert.equal((await srv.services.oauth.accessTokens.verifyAccessToken(tokens.access_token, resource)).ok, false, 'the grant is revoked');
    assert.ok(srv.logs.some((l) => l.includes('client deleted with its registration access token') && l.includes(reg.body.client_id)));
    assert.ok(!srv.logs.some((l) => l.includes(reg.body.registration_access_token)), 'the token never reaches the log');
  });

  test('attacks: no token, a wrong one, another client\'s, a replay after delete, one for a pre-registered client → 401 invalid_token', async () => {
    const a = (await register(srv, { client_name: 'A', token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT] })).body;
    const b = (await register(srv, { client_name: 'B', token_endpoint_auth_method: 'client_secret_post', redirect_uris: [REDIRECT] })).body;
    const refused = async (uri: string, authorization: string | undefined, challenge: RegExp, why: string) => {
      const r = await del(uri, authorization);
      assert.equal(r.status, 401, why);
      assert.match(r.headers.get('www-authenticate') ?? '', challenge, why);
      const body = await r.json();
      assert.equal(body.error, 'invalid_token', why);
      assert.ok(body.request_id, why);
    };
    await refused(a.registration_client_uri, undefined, /^Bearer$/, 'no token');
    await refused(a.registration_client_uri, 'Basic ' + Buffer.from(`${a.client_id}:x`).toString('base64'), /^Bearer$/, 'not a bearer token');
    await refused(a.registration_client_uri, 'Bearer not-the-token', /invalid_token/, 'a wrong token');
    await refused(a.registration_client_uri, `Bearer ${b.registration_access_token}`, /invalid_token/, "another client's token");
    await refused(a.registration_client_uri, `Bearer ${b.client_secret}`, /invalid_token/, 'a client secret is not a registration access token');
    assert.equal(await exists(a.client_id), true, 'nothing above deleted it');

    assert.equal((await del(a.registration_client_uri, `Bearer ${a.registration_access_token}`)).status, 204);
    await refused(a.registration_client_uri, `Bearer ${a.registration_access_token}`, /invalid_token/, 'a replay after delete');
    await refused(`${srv.url}/register/no-such-client`, `Bearer ${b.registration_access_token}`, /invalid_token/, 'an unknown client');

    const { client: operatorClient, registrationAccessToken } = await srv.services.oauth.clients.createClient({ clientName: 'Operator', redirectUris: ['https://x.example/cb'], tokenEndpointAuthMethod: 'none', applicationType: 'web', grantTypes: ['authorization_code'], scope: null, extra: {} }, 'static');
    assert.equal(registrationAccessToken, undefined, 'pre-registered clients are managed by operators, not by a token');
    await refused(`${srv.url}/register/${operatorClient.clientId}`, `Bearer ${b.registration_access_token}`, /invalid_token/, 'a pre-registered client');
    assert.equal(await exists(operatorClient.clientId), true);
    assert.equal(await exists(b.client_id), true, 'B was never deleted');
  });

  test('unused `(tollgate doctor)` registrations are garbage-collected after 15 minutes, before other unused clients', async () => {
    const body = (name: string) => ({ client_name: name, token_endpoint_auth_method: 'none', redirect_uris: [REDIRECT] });
    const doctorOld = (await register(srv, body('Claude Code (tollgate doctor)'))).body.client_id;
    const doctorNew = (await register(srv, body('Cursor (tollgate doctor)'))).body.client_id;
    const ordinary = (await register(srv, body('Ordinary client'))).body.client_id;
    const db = srv.services.store.db;
    const sixteenMinutesAgo = Date.now() - 16 * 60_000;
    for (const id of [doctorOld, ordinary]) await db.updateTable('oauth_clients').set({ created_at: sixteenMinutesAgo }).where('client_id', '=', id).execute();
    await srv.services.oauth.runMaintenance(true);
    assert.equal(await exists(doctorOld), false, 'an unused doctor registration older than 15 minutes is gone');
    assert.equal(await exists(doctorNew), true, 'a recent one stays');
    assert.equal(await exists(ordinary), true, 'an ordinary unused client waits for the configured TTL (a day)');
  });
});
