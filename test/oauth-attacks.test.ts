// Requirements (OAuth §6): hostile input at every endpoint — malformed bodies, oversized and duplicated parameters,
// wrong content types, wrong methods — gets an RFC-shaped error, never a 500 or a stack trace; and no token, code,
// secret, password or cookie ever reaches the log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, CookieJar, exchangeCode, pkcePair, postForm, rawRequest, refreshTokens, registerClient } from './helpers/oauth-flow.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';

describe('OAuth endpoints under attack', () => {
  let srv: TestServer;
  let publicId: string;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_DCR_RATE_PER_MINUTE: '1000', TOLLGATE_BODY_LIMIT_BYTES: '65536' } });
    publicId = (await registerClient(srv.url, { redirect_uris: [REDIRECT] })).client_id;
  });
  after(async () => srv.stop());

  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  const bodies: [string, Record<string, string>, string][] = [
    ['garbage bytes', FORM, '\u0000\u00ff%%%&&==\ud800'],
    ['JSON to a form endpoint', { 'content-type': 'application/json' }, '{"grant_type":"authorization_code"}'],
    ['no content type', {}, 'grant_type=refresh_token'],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'],
    ['duplicated parameters', FORM, `grant_type=authorization_code&grant_type=refresh_token&client_id=${'a'}`],
    ['duplicated client_id', FORM, 'grant_type=refresh_token&client_id=a&client_id=b&refresh_token=x'],
    ['an oversized code', FORM, `grant_type=authorization_code&client_id=CID&code=${'c'.repeat(60_000)}&code_verifier=${'v'.repeat(43)}`],
    ['an oversized refresh token', FORM, `grant_type=refresh_token&client_id=CID&refresh_token=${'r'.repeat(60_000)}`],
    ['an oversized token', FORM, `client_id=CID&token=${'t'.repeat(60_000)}`],
    ['an empty body', FORM, ''],
    ['a forged JWT', FORM, 'client_id=CID&token=eyJhbGciOiJub25lIn0.eyJhdWQiOlsxXX0.&grant_type=refresh_token&refresh_token=eyJhbGciOiJub25lIn0.e30.'],
    ['a Basic header that is not base64', FORM, 'grant_type=refresh_token&refresh_token=x'],
  ];

  function assertRfcError(status: number, text: string, what: string): void {
    assert.ok([400, 401, 403, 404, 413, 415, 429].includes(status), `${what}: status ${status} ${text.slice(0, 200)}`);
    assert.doesNotMatch(text, /\bat [\w.<>]+ \(|\.ts:\d+|node:internal/, `${what}: stack trace`);
    const body = JSON.parse(text);
    assert.equal(typeof body.error, 'string', what);
    assert.equal(typeof body.error_description, 'string', what);
  }

  test('the token, revocation and introspection endpoints answer hostile bodies with RFC 6749 errors', async () => {
    for (const path of ['/token', '/revoke', '/introspect']) {
      for (const [what, headers, body] of bodies) {
        const h = what.startsWith('a Basic') ? { ...headers, authorization: 'Basic !!!not-base64' } : headers;
        const r = await rawRequest(srv.url + path, { method: 'POST', headers: h, body: body.replace(/CID/g, publicId) });
        // RFC 7009 §2.2: revoking an unknown token is a success.
        if (path === '/revoke' && r.status === 200 && r.body === '') continue;
        assertRfcError(r.status, r.body, `${path} with ${what}`);
      }
    }
  });

  test('a body over the limit is 413 with an error body', async () => {
    const r = await rawRequest(`${srv.url}/token`, { method: 'POST', headers: FORM, body: `grant_type=x&pad=${'p'.repeat(70_000)}` });
    assert.equal(r.status, 413);
    assertRfcError(r.status, r.body, 'oversized body');
  });

  test('registration answers hostile bodies with RFC 7591 errors', async () => {
    for (const [what, headers, body] of [
      ['deeply nested JSON', { 'content-type': 'application/json' }, `{"redirect_uris":${'['.repeat(5000)}${']'.repeat(5000)}}`],
      ['a prototype-pollution attempt', { 'content-type': 'application/json' }, '{"__proto__":{"admin":true},"redirect_uris":"x"}'],
      ['redirect_uris of objects', { 'content-type': 'application/json' }, '{"redirect_uris":[{"a":1},null,true]}'],
      ['a huge redirect list', { 'content-type': 'application/json' }, JSON.stringify({ redirect_uris: Array.from({ length: 500 }, (_, i) => `https://a.example/${i}`) })],
      ['a non-string name', { 'content-type': 'application/json' }, '{"client_name":{"x":1},"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":7}'],
    ] as const) {
      const r = await rawRequest(`${srv.url}/register`, { method: 'POST', headers, body });
      assertRfcError(r.status, r.body, what);
    }
  });

  test('wrong methods and bearer garbage at userinfo get errors, not 500s', async () => {
    for (const [method, path] of [['GET', '/token'], ['PUT', '/register'], ['DELETE', '/revoke'], ['GET', '/introspect'], ['GET', '/consent']]) {
      const r = await fetch(srv.url + path, { method });
      assert.ok([404, 405].includes(r.status), `${method} ${path}: ${r.status}`);
    }
    for (const auth of ['Bearer', 'Bearer ' + 'x'.repeat(8_000), 'Basic abc', 'Bearer a.b.c', 'Bearer a b c']) {
      const r = await rawRequest(`${srv.url}/userinfo`, { headers: { authorization: auth } });
      assert.equal(r.status, 401, auth.slice(0, 30));
      assertRfcError(r.status, r.body, `userinfo ${auth.slice(0, 20)}`);
    }
  });

  test('/authorize and the consent and sign-in forms survive hostile input without a 500', async () => {
    const p = pkcePair();
    const urls = [
      authorizeUrl(srv.url, { client_id: publicId, redirect_uri: REDIRECT, code_challenge: p.challenge, scope: 's'.repeat(5000) }),
      authorizeUrl(srv.url, { client_id: publicId, redirect_uri: REDIRECT, code_challenge: p.challenge, resource: 'http://[::1' }),
      authorizeUrl(srv.url, { client_id: publicId, redirect_uri: REDIRECT, code_challenge: p.challenge, resource: `${srv.url}/${'a'.repeat(3000)}/mcp` }),
      `${srv.url}/authorize?client_id=%E0%A4%A&redirect_uri=%`,
      `${srv.url}/authorize?${'x=1&'.repeat(1000)}`,
      `${srv.url}/nosuch/authorize?client_id=x`,
    ];
    for (const u of urls) {
      const r = await fetch(u, { redirect: 'manual' });
      assert.ok(r.status < 500, `${r.status} for ${u.slice(0, 100)}`);
      assert.doesNotMatch(await r.text(), /\.ts:\d+|node:internal/);
    }
    for (const [path, body] of [['/consent', 'decision=approve&request=x'], ['/login', 'email=a&password=b'], ['/logout', 'x=1'], ['/consent', '%%%'], ['/login', `email=${'e'.repeat(60_000)}&password=p`]]) {
      for (const headers of [FORM, { 'content-type': 'text/plain' }]) {
        const r = await rawRequest(srv.url + path, { method: 'POST', headers, body });
        assert.ok(r.status < 500, `${path} ${headers['content-type']}: ${r.status}`);
        assert.doesNotMatch(r.body, /\.ts:\d+|node:internal/);
      }
    }
    const dupConsent = await rawRequest(`${srv.url}/consent`, { method: 'POST', headers: FORM, body: 'decision=approve&decision=deny' });
    assert.equal(dupConsent.status, 400);
  });

  test('no token, code, secret, password, verifier or cookie ever reaches the log', async () => {
    const reg = await registerClient(srv.url, { client_name: 'Log check', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post' });
    const jar = new CookieJar();
    const p = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: reg.client_id, redirect_uri: REDIRECT, code_challenge: p.challenge, scope: 'openid mcp:read', resource: `${srv.url}/demo/mcp` }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    const code = back.searchParams.get('code')!;
    const t = await exchangeCode(srv.url, { client_id: reg.client_id, client_secret: reg.client_secret, code, redirect_uri: REDIRECT, code_verifier: p.verifier });
    assert.equal(t.status, 200);
    const replay = await exchangeCode(srv.url, { client_id: reg.client_id, client_secret: reg.client_secret, code, redirect_uri: REDIRECT, code_verifier: p.verifier });
    assert.equal(replay.body.error, 'invalid_grant');
    const again = await (async () => {
      const q = pkcePair();
      const b = await approveAuthorization(authorizeUrl(srv.url, { client_id: reg.client_id, redirect_uri: REDIRECT, code_challenge: q.challenge }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
      return (await exchangeCode(srv.url, { client_id: reg.client_id, client_secret: reg.client_secret, code: b.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: q.verifier })).body;
    })();
    const r = await refreshTokens(srv.url, { client_id: reg.client_id, client_secret: reg.client_secret, refresh_token: again.refresh_token });
    await postForm(`${srv.url}/introspect`, { client_id: reg.client_id, client_secret: reg.client_secret, token: r.body.access_token });
    await postForm(`${srv.url}/revoke`, { client_id: reg.client_id, client_secret: reg.client_secret, token: r.body.refresh_token });
    await postForm(`${srv.url}/token`, { grant_type: 'authorization_code', client_id: reg.client_id, client_secret: 'wrong-secret-value-123', code: 'made-up-code-value-456', code_verifier: p.verifier });

    const secrets: Record<string, string> = {
      code,
      verifier: p.verifier,
      access: t.body.access_token,
      refresh: t.body.refresh_token,
      idToken: t.body.id_token,
      rotated: r.body.refresh_token,
      clientSecret: reg.client_secret,
      wrongSecret: 'wrong-secret-value-123',
      madeUpCode: 'made-up-code-value-456',
      password: ADMIN_PASSWORD,
      session: jar.cookies.get('tollgate_session')!,
      preSession: jar.cookies.get('tollgate_csrf') ?? 'unset-cookie-placeholder',
    };
    const log = srv.logs.join('\n');
    assert.ok(log.length > 0);
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(value, name);
      assert.ok(!log.includes(value), `${name} appears in the log`);
    }
    assert.ok(!log.includes('unhandled error'), 'no 500 happened during the whole suite');
  });
});
