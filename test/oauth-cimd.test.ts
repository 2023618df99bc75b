// Requirements (OAuth §2, CIMD): a client whose client_id is a URL is fetched under the SSRF guard (https only, public
// addresses only unless configured, no redirects, a size cap, a timeout), cached honouring Cache-Control, served
// stale when a refetch fails, and validated (client_id equals the URL; `none` accepted when listed). The documents
// are served by a real local HTTP server, with the test-only settings that allow http and loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, browserRequest, CookieJar, exchangeCode, pkcePair } from './helpers/oauth-flow.ts';

const REDIRECT = 'https://chatgpt.com/connector_platform_oauth_redirect';

describe('OAuth client ID metadata documents', () => {
  let srv: TestServer;
  let docs: Server;
  let base: string;
  const hits = new Map<string, number>();
  /** path → how to answer */
  const routes = new Map<string, (path: string) => { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number }>();

  before(async () => {
    docs = createServer((req, res) => {
      const path = req.url ?? '/';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const route = routes.get(path);
      const answer = route ? route(path) : { status: 404, body: { error: 'nope' } };
      setTimeout(() => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
    await new Promise<void>((r) => docs.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(docs.address() as AddressInfo).port}`;
    srv = await startTestServer({ env: { TOLLGATE_CIMD_ALLOW_HTTP: 'true', TOLLGATE_CIMD_ALLOW_PRIVATE_ADDRESSES: 'true', TOLLGATE_CIMD_TIMEOUT_MS: '300', TOLLGATE_CIMD_MAX_BYTES: '2048' } });
  });
  after(async () => {
    await srv.stop();
    docs.closeAllConnections();
    await new Promise((r) => docs.close(r));
  });

  const doc = (path: string, extra: Record<string, unknown> = {}) => ({ client_id: base + path, client_name: 'ChatGPT', redirect_uris: [REDIRECT], ...extra });
  const authorizeAs = (clientId: string, p = pkcePair()) => authorizeUrl(srv.url, { client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, resource: `${srv.url}/demo/mcp`, state: 'c' });
  const pageFor = async (clientId: string) => browserRequest(new CookieJar(), authorizeAs(clientId));

  test('ChatGPT\'s document, preferring private_key_jwt but listing none, works end to end as a public client', async () => {
    routes.set('/chatgpt.json', (p) => ({
      headers: { 'cache-control': 'max-age=600' },
      body: doc(p, { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_methods_supported: ['private_key_jwt', 'none'], jwks_uri: `${base}/jwks.json`, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'mcp:read mcp:write' }),
    }));
    const clientId = `${base}/chatgpt.json`;
    const p = pkcePair();
    const back = await approveAuthorization(authorizeAs(clientId, p), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    const t = await exchangeCode(srv.url, { client_id: clientId, code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    // Cached: the authorize and the token request fetched the document once.
    assert.equal(hits.get('/chatgpt.json'), 1);
    const row = await srv.services.store.db.selectFrom('oauth_cimd_documents').selectAll().where('url', '=', clientId).executeTakeFirstOrThrow();
    assert.equal(row.expires_at - row.fetched_at, 600_000, 'max-age honoured');
  });

  test('the consent page identifies the client by its document host', async () => {
    const page = await browserRequest(new CookieJar(), authorizeAs(`${base}/chatgpt.json`));
    assert.equal(page.status, 302, 'signed out: sent to sign in');
    const back = await approveAuthorization(authorizeAs(`${base}/chatgpt.json`), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    assert.ok(back.searchParams.get('code'));
  });

  test('Cache-Control is clamped: no-store still caches a minute, a year is cut to a day', async () => {
    routes.set('/nostore.json', (p) => ({ headers: { 'cache-control': 'no-store' }, body: doc(p, { token_endpoint_auth_method: 'none' }) }));
    routes.set('/year.json', (p) => ({ headers: { 'cache-control': 'public, max-age=31536000' }, body: doc(p, { token_endpoint_auth_method: 'none' }) }));
    for (const path of ['/nostore.json', '/year.json']) await srv.services.oauth.cimd.resolve(base + path);
    const rows = await srv.services.store.db.selectFrom('oauth_cimd_documents').selectAll().where('url', 'in', [`${base}/nostore.json`, `${base}/year.json`]).execute();
    const ttl = Object.fromEntries(rows.map((r) => [String(r.url).slice(base.length), Number(r.expires_at) - Number(r.fetched_at)]));
    assert.deepEqual(ttl, { '/nostore.json': 60_000, '/year.json': 86_400_000 });
  });

  test('a cached document is served stale when the refetch fails', async () => {
    let up = true;
    routes.set('/flaky.json', (p) => (up ? { body: doc(p, { token_endpoint_auth_method: 'none' }) } : { status: 503, body: { error: 'down' } }));
    const clientId = `${base}/flaky.json`;
    await srv.services.oauth.cimd.resolve(clientId);
    up = false;
    await srv.services.store.db.updateTable('oauth_cimd_documents').set({ expires_at: Date.now() - 1 }).where('url', '=', clientId).execute();
    const page = await pageFor(clientId);
    assert.equal(page.status, 302, 'still accepted');
    assert.match(page.location ?? '', /\/login/);
    assert.equal(hits.get('/flaky.json'), 2, 'a refetch was attempted');
    assert.ok(srv.logs.some((l) => l.includes('serving the cached copy')));
  });

  test('unusable documents are refused on an error page, never redirected', async () => {
    routes.set('/keyjwt-only.json', (p) => ({ body: doc(p, { token_endpoint_auth_method: 'private_key_jwt' }) }));
    routes.set('/mismatch.json', () => ({ body: doc('/someone-else.json', { token_endpoint_auth_method: 'none' }) }));
    routes.set('/secret.json', (p) => ({ body: doc(p, { token_endpoint_auth_method: 'none', client_secret: 'x' }) }));
    routes.set('/bad-redirects.json', (p) => ({ body: doc(p, { token_endpoint_auth_method: 'none', redirect_uris: ['javascript:alert(1)'] }) }));
    routes.set('/redirect.json', () => ({ status: 302, headers: { location: `${base}/chatgpt.json` }, body: {} }));
    routes.set('/big.json', (p) => ({ body: doc(p, { token_endpoint_auth_method: 'none', pad: 'x'.repeat(5000) }) }));
    routes.set('/slow.json', (p) => ({ delayMs: 1000, body: doc(p, { token_endpoint_auth_method: 'none' }) }));
    routes.set('/notjson.json', () => ({ body: '<html>hi</html>' }));
    const expectations: [string, RegExp][] = [
      ['/keyjwt-only.json', /private_key_jwt/],
      ['/mismatch.json', /differs from its URL/],
      ['/secret.json', /client secret/],
      ['/bad-redirects.json', /redirect URI/],
    ];
    // Fetch failures are told to the client as "could not be fetched"; the reason is in the server log only.
    const unfetchable: [string, RegExp][] = [
      ['/redirect.json', /redirects are not followed/],
      ['/big.json', /larger than 2048 bytes/],
      ['/slow.json', /no answer within 300 ms/],
      ['/notjson.json', /not valid JSON/],
      ['/missing.json', /HTTP 404/],
    ];
    for (const [path, message] of [...expectations, ...unfetchable.map(([p]): [string, RegExp] => [p, /could not be fetched/])]) {
      const page = await pageFor(base + path);
      assert.equal(page.status, 400, path);
      assert.equal(page.location, undefined, path);
      assert.match(page.body, message, path);
    }
    for (const [path, reason] of unfetchable) {
      assert.ok(srv.logs.some((l) => l.includes('could not be fetched') && l.includes(base + path) && reason.test(l)), `${path}: the log says why`);
      assert.doesNotMatch((await pageFor(base + path)).body, reason, `${path}: the page does not`);
    }
    assert.equal(hits.get('/chatgpt.json'), 1, 'the redirect was not followed');
  });

  test('a metadata-document client cannot authenticate with a secret at the token endpoint', async () => {
    const r = await fetch(`${srv.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: `${base}/chatgpt.json`, client_secret: 'guess', code: 'x', code_verifier: 'y'.repeat(43) }) });
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error, 'invalid_client');
  });
});

describe('OAuth client ID metadata documents: the SSRF guard with default settings', () => {
  let srv: TestServer;
  let docs: Server;
  let port: number;
  let hits = 0;
  before(async () => {
    docs = createServer((req, res) => {
      hits++;
      res.end('{}');
    });
    await new Promise<void>((r) => docs.listen(0, '127.0.0.1', r));
    port = (docs.address() as AddressInfo).port;
    srv = await startTestServer();
  });
  after(async () => {
    await srv.stop();
    await new Promise((r) => docs.close(r));
  });

  test('http (not a document URL at all), loopback, private and link-local document URLs are refused without connecting', async () => {
    for (const [clientId, message] of [
      [`http://127.0.0.1:${port}/client.json`, /not registered/],
      [`https://127.0.0.1:${port}/client.json`, /could not be fetched/],
      [`https://localhost:${port}/client.json`, /could not be fetched/],
      ['https://10.0.0.1/client.json', /could not be fetched/],
      ['https://169.254.169.254/latest/meta-data', /could not be fetched/],
      ['https://[::1]/client.json', /could not be fetched/],
      ['https://[::ffff:127.0.0.1]/client.json', /could not be fetched/],
      ['https://app.example/', /must have a path/],
      ['https://user:pw@app.example/c.json', /credentials/],
    ] as const) {
      const page = await browserRequest(new CookieJar(), authorizeUrl(srv.url, { client_id: clientId, redirect_uri: REDIRECT, code_challenge: pkcePair().challenge }));
      assert.equal(page.status, 400, clientId);
      assert.equal(page.location, undefined);
      assert.match(page.body, message, clientId);
    }
    assert.equal(hits, 0, 'nothing reached the local server');
  });

  test('a host that does not resolve and one that resolves to a private address get the same answer; only the log tells them apart', async () => {
    const token = (clientId: string) =>
      fetch(`${srv.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code: 'x', code_verifier: 'y'.repeat(43), redirect_uri: REDIRECT }) });
    // .invalid never resolves (RFC 6761 §6.4); localhost resolves to loopback.
    const cases = [
      [`https://no-such-host.invalid/client.json`, /host not found|EAI_AGAIN/],
      [`https://localhost:${port}/client.json`, /resolves to a non-public address/],
    ] as const;
    const descriptions: string[] = [];
    const statuses: number[] = [];
    for (const [clientId, reason] of cases) {
      const r = await token(clientId);
      statuses.push(r.status);
      const body = (await r.json()) as { error: string; error_description: string };
      assert.equal(body.error, 'invalid_client');
      assert.doesNotMatch(body.error_description.replace(clientId, ''), /resolv|private|public|DNS|address|not found/i);
      descriptions.push(body.error_description.replace(clientId, '<url>'));
      assert.ok(srv.logs.some((l) => l.includes('could not be fetched') && l.includes(clientId) && reason.test(l)), `the log names the reason for ${clientId}`);
    }
    assert.equal(statuses[0], statuses[1]);
    assert.equal(descriptions[0], descriptions[1]);
    assert.equal(descriptions[0], 'The client metadata document at <url> could not be fetched');
    assert.equal(hits, 0);
  });
});
