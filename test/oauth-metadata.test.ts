// Requirements (OAuth §1): RFC 8414 metadata at the root issuer, a valid OpenID discovery document, the opt-in
// per-workspace issuer mode with byte-identical issuers (metadata, `iss` parameter, JWT `iss`), JWKS, CORS, and
// Claude Code's root-only discovery.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, authorizeUrl, exchangeCode, pkcePair } from './helpers/oauth-flow.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';

const json = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init);
  return { status: r.status, headers: r.headers, body: r.status === 204 ? null : await r.json() };
};

describe('OAuth metadata (root issuer)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => srv.stop());

  test('RFC 8414 metadata at the root: issuer without trailing slash and every required field', async () => {
    const { status, headers, body } = await json(`${srv.url}/.well-known/oauth-authorization-server`);
    assert.equal(status, 200);
    assert.match(headers.get('content-type') ?? '', /application\/json/);
    assert.equal(body.issuer, srv.url);
    assert.ok(!body.issuer.endsWith('/'));
    for (const [field, path] of [
      ['authorization_endpoint', '/authorize'], ['token_endpoint', '/token'], ['registration_endpoint', '/register'], ['revocation_endpoint', '/revoke'],
      ['introspection_endpoint', '/introspect'], ['userinfo_endpoint', '/userinfo'], ['jwks_uri', '/.well-known/jwks.json'],
    ]) assert.equal(body[field], srv.url + path, field);
    assert.deepEqual(body.scopes_supported, ['mcp:read', 'mcp:write', 'openid', 'profile', 'email', 'offline_access']);
    assert.deepEqual(body.response_types_supported, ['code']);
    assert.deepEqual(body.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:device_code']);
    // MCP enterprise-managed authorization §6: the ID-JAG profile is discoverable.
    assert.deepEqual(body.authorization_grant_profiles_supported, ['urn:ietf:params:oauth:grant-profile:id-jag']);
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(body.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']);
    assert.deepEqual(body.token_endpoint_auth_signing_alg_values_supported, ['ES256', 'RS256']);
    assert.equal(body.client_id_metadata_document_supported, true);
    assert.equal(body.authorization_response_iss_parameter_supported, true);
  });

  test('a valid OpenID Connect discovery document with the same issuer', async () => {
    const { status, body } = await json(`${srv.url}/.well-known/openid-configuration`);
    assert.equal(status, 200);
    assert.equal(body.issuer, srv.url);
    // OpenID Connect Discovery 1.0 §3: required members; RS256 must be among the id token algorithms.
    for (const f of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported']) assert.ok(body[f], f);
    assert.ok(body.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(body.scopes_supported.includes('openid'));
    assert.equal(body.userinfo_endpoint, `${srv.url}/userinfo`);
  });

  test('JWKS publishes the public ES256 and RS256 keys only', async () => {
    const { body, headers } = await json(`${srv.url}/.well-known/jwks.json`);
    assert.deepEqual(body.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
    for (const k of body.keys) for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.ok(!(priv in k), priv);
    assert.equal(headers.get('access-control-allow-origin'), '*');
  });

  test('path-inserted and unknown well-known URLs are 404 in root mode', async () => {
    for (const p of ['/.well-known/oauth-authorization-server/demo', '/.well-known/openid-configuration/demo', '/demo/.well-known/openid-configuration', '/.well-known/nothing-here']) {
      const r = await fetch(srv.url + p);
      assert.equal(r.status, 404, p);
      assert.equal((await r.json()).error, 'not_found');
    }
  });

  test('CORS: OPTIONS is answered on metadata, registration, token, revocation, introspection and userinfo', async () => {
    for (const p of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/.well-known/jwks.json', '/register', '/token', '/revoke', '/introspect', '/userinfo']) {
      const r = await fetch(srv.url + p, { method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' } });
      assert.equal(r.status, 204, p);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const allowed = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const h of ['authorization', 'content-type', 'mcp-protocol-version', 'mcp-method', 'mcp-name']) assert.ok(allowed.includes(h), `${p} allows ${h}`);
      assert.match(r.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
    }
    const post = await fetch(`${srv.url}/token`, { method: 'POST', headers: { origin: 'https://inspector.example' } });
    assert.equal(post.headers.get('access-control-allow-origin'), '*', 'error responses carry CORS headers too');
  });

  test('Claude Code: root-only metadata discovery is enough to register, authorize and get a token', async () => {
    const md = (await json(`${srv.url}/.well-known/oauth-authorization-server`)).body;
    const reg = await json(md.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Claude Code', redirect_uris: ['http://localhost:51234/callback'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(reg.status, 201);
    const p = pkcePair();
    const u = new URL(md.authorization_endpoint);
    for (const [k, v] of Object.entries({ response_type: 'code', client_id: reg.body.client_id, redirect_uri: 'http://localhost:51234/callback', code_challenge: p.challenge, code_challenge_method: 'S256', state: 'cc', resource: `${srv.url}/demo/mcp` })) u.searchParams.set(k, v);
    const back = await approveAuthorization(u.toString(), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    assert.equal(back.searchParams.get('iss'), md.issuer);
    const t = await fetch(md.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: reg.body.client_id, code: back.searchParams.get('code')!, redirect_uri: 'http://localhost:51234/callback', code_verifier: p.verifier }) });
    assert.equal(t.status, 200);
    assert.equal(decodeJwt((await t.json()).access_token)!.payload.iss, md.issuer);
  });
});

describe('OAuth metadata (per-workspace issuer mode)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_ISSUER_MODE: 'workspace' } });
  });
  after(async () => srv.stop());

  test('metadata by RFC 8414 path insertion and both OpenID forms, all with issuer <publicUrl>/<ws>', async () => {
    const issuer = `${srv.url}/demo`;
    for (const p of ['/.well-known/oauth-authorization-server/demo', '/.well-known/openid-configuration/demo', '/demo/.well-known/openid-configuration']) {
      const { status, body } = await json(srv.url + p);
      assert.equal(status, 200, p);
      assert.equal(body.issuer, issuer, p);
      assert.equal(body.authorization_endpoint, `${issuer}/authorize`);
      assert.equal(body.token_endpoint, `${issuer}/token`);
    }
    assert.equal((await fetch(`${srv.url}/.well-known/oauth-authorization-server/nosuchws`)).status, 404);
    // The root issuer still exists (for the shared endpoint).
    assert.equal((await json(`${srv.url}/.well-known/oauth-authorization-server`)).body.issuer, srv.url);
  });

  test('the issuer is byte-identical in metadata, the iss parameter, the access token and the id token', async () => {
    const issuer = `${srv.url}/demo`;
    const md = (await json(`${srv.url}/.well-known/oauth-authorization-server/demo`)).body;
    const reg = await json(md.registration_endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }) });
    const p = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: reg.body.client_id, redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: p.challenge, scope: 'openid mcp:read' }, '/demo/authorize'), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
    assert.equal(back.searchParams.get('iss'), issuer);
    const t = await exchangeCode(srv.url, { client_id: reg.body.client_id, code: back.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:9/cb', code_verifier: p.verifier }, undefined, '/demo/token');
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const at = decodeJwt(t.body.access_token)!.payload;
    assert.equal(at.iss, issuer);
    assert.equal(at.aud, `${srv.url}/demo/mcp`, 'a missing resource means the workspace\'s endpoint');
    assert.equal(decodeJwt(t.body.id_token)!.payload.iss, issuer);
    assert.ok((await srv.services.oauth.accessTokens.verifyAccessToken(t.body.access_token, `${srv.url}/demo/mcp`)).ok);
    // The code cannot be taken to another issuer's token endpoint, and this issuer serves only its own workspace.
    const elsewhere = await exchangeCode(srv.url, { client_id: reg.body.client_id, code: back.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:9/cb', code_verifier: p.verifier });
    assert.equal(elsewhere.body.error, 'invalid_grant');
    const foreign = await fetch(authorizeUrl(srv.url, { client_id: reg.body.client_id, redirect_uri: 'http://127.0.0.1:9/cb', code_challenge: p.challenge, resource: `${srv.url}/mcp` }, '/demo/authorize'), { redirect: 'manual' });
    const loc = new URL(foreign.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'invalid_target');
    assert.equal(loc.searchParams.get('iss'), issuer);
  });
});
