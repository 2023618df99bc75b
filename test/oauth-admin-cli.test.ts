// Requirements (OAuth §2, §4): pre-registered clients with `tollgate admin client create` (secret printed once),
// `rotate-secret` with an overlap window in which both secrets work, `delete`, and `tollgate admin keys rotate`
// publishing a new key while the old one stays in JWKS. The CLI runs as a real process on the server's database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { runCli } from './helpers/cli.ts';
import { approveAuthorization, authorizeUrl, CookieJar, exchangeCode, pkcePair } from './helpers/oauth-flow.ts';
import { decodeJwt } from '../src/oauth/jwt.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newJti, nowS, testSigner } from './helpers/jwt-signer.ts';
import { postForm } from './helpers/oauth-flow.ts';

const REDIRECT = 'https://app.example/oauth/callback';

describe('tollgate admin client / keys', { concurrency: true }, () => {
  let srv: TestServer;
  let env: Record<string, string>;
  const jar = new CookieJar();
  before(async () => {
    srv = await startTestServer();
    env = { TOLLGATE_DATABASE_URL: srv.config.databaseUrl, TOLLGATE_DATA_DIR: srv.config.dataDir, TOLLGATE_PUBLIC_URL: srv.url };
  });
  after(async () => srv.stop());

  async function codeFor(clientId: string) {
    const p = pkcePair();
    const back = await approveAuthorization(authorizeUrl(srv.url, { client_id: clientId, redirect_uri: REDIRECT, code_challenge: p.challenge, resource: `${srv.url}/demo/mcp` }), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, jar });
    return { code: back.searchParams.get('code')!, verifier: p.verifier };
  }
  const exchangeWith = async (clientId: string, secret: string) => {
    const { code, verifier } = await codeFor(clientId);
    return exchangeCode(srv.url, { code, redirect_uri: REDIRECT, code_verifier: verifier }, { id: clientId, secret });
  };

  test('create prints the client id and secret once; rotate-secret keeps the old one working for the overlap; delete revokes', async () => {
    const created = await runCli(['admin', 'client', 'create', 'Acme backend', '--redirect-uri', REDIRECT, '--redirect-uri', 'http://evil.example/cb'], { env });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /Refused redirect URI http:\/\/evil\.example\/cb/);
    const clientId = /client_id: (\S+)/.exec(created.stdout)![1];
    const secret = /client_secret: (\S+)/.exec(created.stdout)![1];
    assert.match(created.stdout, /client_secret_basic/);
    const first = await exchangeWith(clientId, secret);
    assert.equal(first.status, 200, JSON.stringify(first.body));

    const listed = await runCli(['admin', 'client', 'list'], { env });
    assert.match(listed.stdout, new RegExp(`${clientId}\\s+Acme backend\\s+pre-registered`));
    assert.ok(!listed.stdout.includes(secret));

    const rotated = await runCli(['admin', 'client', 'rotate-secret', clientId], { env });
    assert.equal(rotated.code, 0, rotated.stderr);
    const newSecret = /client_secret: (\S+)/.exec(rotated.stdout)![1];
    assert.notEqual(newSecret, secret);
    assert.match(rotated.stdout, /previous secret keeps working until/);
    assert.equal((await exchangeWith(clientId, secret)).status, 200, 'the old secret works during the overlap');
    assert.equal((await exchangeWith(clientId, newSecret)).status, 200, 'the new secret works');
    // Once the overlap has passed, only the new secret works.
    await srv.services.store.db.updateTable('oauth_clients').set({ previous_secret_expires_at: Date.now() - 1 }).where('client_id', '=', clientId).execute();
    assert.equal((await exchangeWith(clientId, secret)).status, 401);

    const deleted = await runCli(['admin', 'client', 'delete', clientId], { env });
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await srv.services.oauth.accessTokens.verifyAccessToken(first.body.access_token, `${srv.url}/demo/mcp`)).ok, false);
  });

  test('a public pre-registered client has no secret; bad input is a usage error or a clear failure', async () => {
    const pub = await runCli(['admin', 'client', 'create', 'Desktop app', '--public', '--redirect-uri', 'http://127.0.0.1/cb'], { env });
    assert.equal(pub.code, 0, pub.stderr);
    assert.doesNotMatch(pub.stdout, /client_secret/);
    const clientId = /client_id: (\S+)/.exec(pub.stdout)![1];
    const rot = await runCli(['admin', 'client', 'rotate-secret', clientId], { env });
    assert.equal(rot.code, 1);
    assert.match(rot.stderr, /public client/);
    const bad = await runCli(['admin', 'client', 'create', 'Bad', '--redirect-uri', 'javascript:alert(1)'], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /No acceptable redirect URI/);
  });

  test('keys rotate: a new key signs, the old one stays in JWKS, and tokens it signed still verify', async () => {
    const before = (await (await fetch(`${srv.url}/.well-known/jwks.json`)).json()).keys.map((k: { kid: string }) => k.kid);
    const { client } = await srv.services.oauth.clients.createClient({ clientName: 'Key test', redirectUris: [REDIRECT], tokenEndpointAuthMethod: 'none', applicationType: 'web', grantTypes: ['authorization_code', 'refresh_token'], scope: null, extra: {} }, 'static');
    const clientId = client.clientId;
    const { code, verifier } = await codeFor(clientId);
    const old = await exchangeCode(srv.url, { client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier });
    const oldKid = decodeJwt(old.body.access_token)!.header.kid;
    const rotated = await runCli(['admin', 'keys', 'rotate'], { env });
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKid = /New signing key (\S+) is active/.exec(rotated.stdout)![1];
    const after = (await (await fetch(`${srv.url}/.well-known/jwks.json`)).json()).keys.map((k: { kid: string }) => k.kid);
    assert.ok(after.includes(newKid));
    for (const kid of before) assert.ok(after.includes(kid), 'retired keys stay published');
    assert.ok(before.includes(oldKid));
    assert.ok((await srv.services.oauth.accessTokens.verifyAccessToken(old.body.access_token, `${srv.url}/demo/mcp`)).ok);
  });

  test('client create-machine (secret or JWK Set) and idp add | list | remove: real tokens follow; a non-admin cannot bind', async () => {
    const secretMade = await runCli(['admin', 'client', 'create-machine', 'Nightly export', '--workspace', 'demo', '--admin', ADMIN_EMAIL], { env });
    assert.equal(secretMade.code, 0, secretMade.stderr);
    const id = /client_id: (\S+)/.exec(secretMade.stdout)![1];
    const secret = /client_secret: (\S+)/.exec(secretMade.stdout)![1];
    const r = await postForm(`${srv.url}/token`, { grant_type: 'client_credentials' }, { id, secret });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(decodeJwt(r.body.access_token)!.payload.aud, `${srv.url}/demo/mcp`);

    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-jwks-'));
    const signer = testSigner('ES256');
    const jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(signer.jwks));
    const keyMade = await runCli(['admin', 'client', 'create-machine', 'Key bot', '--workspace', 'demo', '--admin', ADMIN_EMAIL, '--jwks-file', jwksFile, '--scope', 'mcp:read'], { env });
    assert.equal(keyMade.code, 0, keyMade.stderr);
    assert.doesNotMatch(keyMade.stdout, /client_secret:/);
    const keyId = /client_id: (\S+)/.exec(keyMade.stdout)![1];
    const assertion = signer.sign({ iss: keyId, sub: keyId, aud: srv.url, exp: nowS() + 60, jti: newJti() });
    const k = await postForm(`${srv.url}/token`, { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    assert.equal(k.status, 200, JSON.stringify(k.body));
    assert.equal(k.body.scope, 'mcp:read');

    const notAdmin = await runCli(['admin', 'client', 'create-machine', 'X', '--workspace', 'demo', '--admin', 'nobody@example.com'], { env });
    assert.equal(notAdmin.code, 1);
    assert.match(notAdmin.stderr, /not an owner or admin/);

    const added = await runCli(['admin', 'idp', 'add', 'acme', '--issuer', 'https://idp.acme.example', '--jwks-file', jwksFile, '--client', id], { env });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /aud http/);
    const listed = await runCli(['admin', 'idp', 'list'], { env });
    assert.match(listed.stdout, /acme\s+https:\/\/idp\.acme\.example\s+inline \(1\)/);
    assert.equal((await runCli(['admin', 'idp', 'remove', 'acme'], { env })).code, 0);
    assert.equal((await srv.services.oauth.trustedIdps.listIdps()).length, 0);
  });
});
