// Requirement (issue "One HTTP core", §3): the public URL is canonicalised once and every issuer, resource and
// metadata URL derives from it. With TOLLGATE_PUBLIC_URL written as `http://LocalHost:<port>` (or with a default
// port), a client that sends no `resource` got a token whose `aud` another formula had spelled differently, and every
// MCP call was refused 401 "issued for another resource" — the re-authorization loop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { obtainTokens } from './helpers/oauth-flow.ts';
import { legacyCall } from './helpers/mcp-http.ts';

let srv: TestServer;
before(async () => {
  // `:0` is replaced by the real port once the server listens.
  srv = await startTestServer({ env: { TOLLGATE_PUBLIC_URL: 'http://LocalHost:0/' } });
});
after(async () => srv.stop());

test('a mixed-case public URL: a client that sends no resource gets a token the MCP endpoint accepts', async () => {
  assert.match(srv.config.publicUrl, /^http:\/\/localhost:\d+$/);
  const base = srv.config.publicUrl;
  const meta = (await (await fetch(`${base}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
  assert.equal(meta.issuer, base);
  const prm = (await (await fetch(`${base}/.well-known/oauth-protected-resource/demo/mcp`)).json()) as { resource: string; authorization_servers: string[] };
  assert.equal(prm.resource, `${base}/demo/mcp`);
  assert.deepEqual(prm.authorization_servers, [base]);

  // No `resource` parameter anywhere (as claude.ai sends it): the workspace is chosen at consent.
  const { tokens } = await obtainTokens(base, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, scope: 'mcp:read mcp:write', workspace: 'demo' });
  const claims = JSON.parse(Buffer.from(String(tokens.access_token).split('.')[1], 'base64url').toString('utf8')) as { aud: string | string[]; iss: string };
  assert.equal(claims.iss, base);
  assert.ok([claims.aud].flat().includes(`${base}/demo/mcp`), `aud ${JSON.stringify(claims.aud)}`);
  const r = await legacyCall(`${base}/demo/mcp`, tokens.access_token as string, 'tools/list');
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
