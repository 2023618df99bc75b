// Requirements (MCP endpoints §3): bearer verification before anything else on POST, GET and DELETE, with RFC 6750
// challenges; bad signature, expired, revoked, forged, another workspace's or endpoint's token → 401 invalid_token;
// a revoked grant refused on the very next request; no token in the query string; foreign Origin → 403; no token in
// the logs. On SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DIALECTS, PG_URL } from './helpers/databases.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { legacyCall, mcpRequest } from './helpers/mcp-http.ts';
import { oauthModule } from '../src/oauth/index.ts';
import { decodeJwt, signJwt } from '../src/oauth/jwt.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

for (const dialect of DIALECTS) {
  describe(`MCP bearer checks [${dialect}]`, { skip: dialect === 'postgres' && !PG_URL ? 'TOLLGATE_TEST_PG_URL not set' : false }, () => {
    let srv: TestServer;
    let endpoint: string;
    let metadataUrl: string;
    const tokensUsed: string[] = [];
    const mint = async (...args: Parameters<typeof mintAccessToken>) => {
      const t = await mintAccessToken(...args);
      tokensUsed.push(t.accessToken);
      return t;
    };

    before(async () => {
      srv = await startTestServer({ dialect, env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' } });
      await srv.services.createWorkspace({ slug: 'acme' });
      endpoint = `${srv.url}/demo/mcp`;
      metadataUrl = `${srv.url}/.well-known/oauth-protected-resource/demo/mcp`;
    });
    after(async () => srv.stop());

    const invalid = (r: { status: number; headers: Headers; body: any }, why: string) => {
      assert.equal(r.status, 401, why);
      const challenge = r.headers.get('www-authenticate') ?? '';
      assert.match(challenge, new RegExp(`^Bearer resource_metadata="${metadataUrl}", error="invalid_token"`), why);
      assert.equal(r.body.error, 'invalid_token', why);
    };

    test('anonymous POST, GET and DELETE get 401 with resource_metadata and no error code (auth before method dispatch)', async () => {
      for (const method of ['POST', 'GET', 'DELETE']) {
        const r = await fetch(endpoint, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{"jsonrpc":"2.0","id":1,"method":"ping"}' : undefined });
        assert.equal(r.status, 401, method);
        assert.equal(r.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`, method);
      }
      const basic = await fetch(endpoint, { method: 'POST', headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      assert.equal(basic.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`, 'another scheme counts as no credentials');
    });

    test('garbage, forged, foreign-key and alg=none tokens are invalid_token', async () => {
      const { accessToken } = await mint(srv.services);
      const d = decodeJwt(accessToken)!;
      const [h, , s] = accessToken.split('.');
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const candidates: [string, string][] = [
        ['garbage', 'not-a-jwt'],
        ['tampered payload', `${h}.${b64({ ...d.payload, scope: 'mcp:read mcp:write admin' })}.${s}`],
        ['another workspace in the payload', `${h}.${b64({ ...d.payload, workspace: 'acme' })}.${s}`],
        ['signed by a foreign key', signJwt({ alg: 'ES256', typ: 'at+jwt', kid: d.header.kid as string }, d.payload, privateKey)],
        ['alg none', `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(d.payload)}.`],
        ['empty bearer', ''],
      ];
      for (const [why, token] of candidates) {
        const r = await mcpRequest(endpoint, { headers: { authorization: `Bearer ${token}` }, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
        invalid(r, why);
      }
    });

    test("a token for workspace A is refused at workspace B, and a shared-endpoint token at a workspace endpoint", async () => {
      const acme = await mint(srv.services, { workspace: 'acme' });
      invalid(await legacyCall(endpoint, acme.accessToken, 'ping'), 'acme token at demo');
      assert.equal((await legacyCall(`${srv.url}/acme/mcp`, acme.accessToken, 'ping')).status, 200);
      const shared = await mint(srv.services, { endpoint: 'shared' });
      invalid(await legacyCall(endpoint, shared.accessToken, 'ping'), 'shared token at /demo/mcp');
      // A grant for demo whose token claims another resource (aud) is refused too.
      const crossed = await mint(srv.services, { resource: `${srv.url}/acme/mcp` });
      invalid(await legacyCall(endpoint, crossed.accessToken, 'ping'), 'aud of another workspace');
    });

    test('an expired token is refused', async () => {
      const short = oauthModule(srv.services.store, { ...srv.services.config, accessTokenTtlSeconds: -5 }, srv.services.secret);
      const fresh = await mint(srv.services);
      const d = decodeJwt(fresh.accessToken)!.payload;
      const { accessToken } = await short.accessTokens.issueAccessToken({
        grantId: fresh.grantId, userId: fresh.userId, clientId: 'test-client', workspaceId: fresh.workspaceId, workspaceSlug: 'demo', resource: d.aud as string, scopes: ['mcp:read', 'mcp:write'],
      });
      tokensUsed.push(accessToken);
      const r = await legacyCall(endpoint, accessToken, 'ping');
      invalid(r, 'expired');
      assert.match(r.headers.get('www-authenticate') ?? '', /error_description="expired"/);
    });

    test('a revoked grant is refused on the very next request, on every method', async () => {
      const t = await mint(srv.services);
      for (let i = 0; i < 3; i++) assert.equal((await legacyCall(endpoint, t.accessToken, 'ping')).status, 200);
      assert.equal(await srv.services.oauth.grants.revokeGrant(t.grantId, 'test'), true);
      invalid(await legacyCall(endpoint, t.accessToken, 'ping'), 'revoked');
      for (const method of ['GET', 'DELETE']) invalid(await mcpRequest(endpoint, { method, token: t.accessToken }), `revoked ${method}`);
    });

    test('a token in the query string is refused, with or without a header', async () => {
      const t = await mint(srv.services);
      for (const headers of [{}, { authorization: `Bearer ${t.accessToken}` }] as Record<string, string>[]) {
        const r = await mcpRequest(`${endpoint}?access_token=${t.accessToken}`, { headers, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
        assert.equal(r.status, 400);
        assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
        assert.equal(r.body.error, 'invalid_request');
      }
    });

    test('GET and DELETE with a valid token are 405 (no server stream, no session)', async () => {
      const t = await mint(srv.services);
      for (const method of ['GET', 'DELETE']) {
        const r = await mcpRequest(endpoint, { method, token: t.accessToken });
        assert.equal(r.status, 405, method);
        assert.match(r.headers.get('allow') ?? '', /POST/);
      }
    });

    test('a foreign Origin is refused with 403 even with a valid token; the own origin is allowed', async () => {
      const t = await mint(srv.services);
      const foreign = await mcpRequest(endpoint, { token: t.accessToken, headers: { origin: 'http://evil.example.com' }, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
      assert.equal(foreign.status, 403);
      assert.equal(foreign.headers.get('access-control-allow-origin'), null);
      const own = await mcpRequest(endpoint, { token: t.accessToken, headers: { origin: new URL(srv.url).origin }, body: { jsonrpc: '2.0', id: 1, method: 'ping' } });
      assert.equal(own.status, 200);
      assert.equal(own.headers.get('access-control-allow-origin'), new URL(srv.url).origin);
    });

    test('a token without any MCP scope gets 403 insufficient_scope naming the scopes', async () => {
      const t = await mint(srv.services, { scopes: ['openid', 'profile'] });
      const r = await legacyCall(endpoint, t.accessToken, 'tools/list');
      assert.equal(r.status, 403);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="mcp:read mcp:write"/);
    });

    test('no access token ever reaches the log', async () => {
      assert.ok(tokensUsed.length >= 8);
      const all = srv.logs.join('\n');
      assert.ok(all.includes('mcp bearer token refused'), 'refusals are logged (without the token)');
      for (const t of tokensUsed) {
        assert.ok(!all.includes(t), 'a token leaked into the log');
        assert.ok(!all.includes(t.split('.')[2]), 'a token signature leaked into the log');
      }
    });
  });
}
