// Requirement (issue 8 §3, refresh ≥ 1,500/s): under `tollgate serve` a POST to the token endpoint is answered straight
// from node:http (src/oauth/token-fast-path.ts); the answer — status, headers, error bodies — is the one the Hono
// route gives (the app embedded elsewhere), for successes and refusals alike, in root and per-workspace issuer mode.
// Tokens, request ids and dates naturally differ.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import type { AppEnv } from '../src/http/env.ts';
import { startTestServer, ADMIN_EMAIL, type TestServer } from './helpers/server.ts';
import { workspaceResourceUrl } from '../src/oauth/resource.ts';

const VARYING = new Set(['x-request-id', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);
const FORM = 'application/x-www-form-urlencoded';

interface Setup {
  srv: TestServer;
  app: Hono<AppEnv>;
  publicClient: string;
  confidential: { id: string; secret: string };
  /** A fresh refresh token of the public client's grant (each is single-use). */
  refreshToken(): Promise<string>;
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  let app!: Hono<AppEnv>;
  const srv = await startTestServer({ env: { TOLLGATE_REFRESH_GRACE_SECONDS: '30', ...env }, configureApp: (a) => (app = a) });
  const { oauth, accounts } = srv.services;
  const meta = { redirectUris: ['http://127.0.0.1/callback'], applicationType: 'native' as const, grantTypes: ['authorization_code', 'refresh_token'], scope: null, extra: {} };
  const { client } = await oauth.clients.createClient({ ...meta, clientName: 'Fast path public', tokenEndpointAuthMethod: 'none' }, 'dynamic');
  const conf = await oauth.clients.createClient({ ...meta, clientName: 'Fast path confidential', tokenEndpointAuthMethod: 'client_secret_basic' }, 'static');
  const user = (await accounts.users.findUserByEmail(ADMIN_EMAIL))!;
  const ws = await accounts.workspaces.requireWorkspace('demo');
  const grant = await oauth.grants.createGrant({ clientId: client.clientId, userId: user.id, workspaceId: ws.id, resource: workspaceResourceUrl(srv.config.publicUrl, 'demo'), scopes: ['mcp:read', 'mcp:write'] });
  return {
    srv,
    app,
    publicClient: client.clientId,
    confidential: { id: conf.client.clientId, secret: conf.clientSecret! },
    refreshToken: () => oauth.refreshTokens.issueRefreshToken(grant.id),
  };
}

type Normalized = { status: number; headers: Record<string, string>; body: unknown; requestId: string | null };

async function normalize(r: Response): Promise<Normalized> {
  const headers: [string, string][] = [];
  r.headers.forEach((v, k) => (VARYING.has(k) ? undefined : headers.push([k, v])));
  const text = await r.text();
  let body: unknown = text;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    // Token values and request ids differ by nature; their presence and everything else must not.
    for (const k of ['access_token', 'refresh_token', 'request_id']) if (typeof json[k] === 'string') json[k] = '…';
    body = json;
  } catch {
    // not JSON: compared as text
  }
  return { status: r.status, headers: Object.fromEntries(headers.sort()), body, requestId: r.headers.get('x-request-id') };
}

/** The same request through node:http (the fast path) and through the Hono app. */
async function both(s: Setup, path: string, init: { headers?: Record<string, string>; body: string | (() => Promise<string>) }) {
  const body = async () => (typeof init.body === 'string' ? init.body : init.body());
  const headers = { 'content-type': FORM, ...init.headers };
  const viaNode = await fetch(s.srv.url + path, { method: 'POST', headers, body: await body() });
  const viaHono = await s.app.request(s.srv.url + path, { method: 'POST', headers, body: await body() });
  return { node: await normalize(viaNode), hono: await normalize(viaHono) };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function assertSame(name: string, r: { node: Normalized; hono: Normalized }, status?: number): void {
  assert.ok(r.node.requestId && r.hono.requestId, `${name}: a request id on both`);
  assert.deepEqual({ ...r.node, requestId: 0 }, { ...r.hono, requestId: 0 }, name);
  if (status !== undefined) assert.equal(r.node.status, status, `${name}: ${JSON.stringify(r.node.body)}`);
}

describe('token endpoint fast path, root issuer', () => {
  let s: Setup;
  before(async () => (s = await setUp()));
  after(async () => s.srv.stop());

  test('the node:http fast path and the Hono route give the same answers', async () => {
    const refresh = (extra: Record<string, string> = {}) => async () => form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken(), ...extra });
    const cases: [string, { headers?: Record<string, string>; body: string | (() => Promise<string>) }, number][] = [
      ['a refresh', { body: refresh() }, 200],
      ['a refresh that narrows the scope', { body: refresh({ scope: 'mcp:read' }) }, 200],
      ['a refresh that widens the scope', { body: refresh({ scope: 'mcp:read openid' }) }, 400],
      ['a refresh from a browser origin', { headers: { origin: 'https://app.example' }, body: refresh() }, 200],
      ['a refresh with a byte-order mark', { body: async () => `\uFEFF${await refresh()()}` }, 200],
      ['an unknown refresh token', { body: form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: 'nope' }) }, 400],
      ['no refresh token', { body: form({ grant_type: 'refresh_token', client_id: s.publicClient }) }, 400],
      ['an unknown client', { body: form({ grant_type: 'refresh_token', client_id: 'nobody', refresh_token: 'x' }) }, 401],
      ['no client at all', { body: form({ grant_type: 'refresh_token', refresh_token: 'x' }) }, 401],
      ['a public client sending a secret', { body: form({ grant_type: 'refresh_token', client_id: s.publicClient, client_secret: 's', refresh_token: 'x' }) }, 401],
      ['a confidential client with a wrong secret (Basic)', { headers: { authorization: basic(s.confidential.id, 'wrong') }, body: form({ grant_type: 'refresh_token', refresh_token: 'x' }) }, 401],
      ['a confidential client, right secret, unknown token', { headers: { authorization: basic(s.confidential.id, s.confidential.secret) }, body: form({ grant_type: 'refresh_token', refresh_token: 'x' }) }, 400],
      ['a malformed Basic header', { headers: { authorization: 'Basic !!!' }, body: form({ grant_type: 'refresh_token', refresh_token: 'x' }) }, 401],
      ['no grant type', { body: form({ client_id: s.publicClient }) }, 400],
      ['an unsupported grant type', { body: form({ grant_type: 'password', client_id: s.publicClient }) }, 400],
      ['a parameter sent twice', { body: `grant_type=refresh_token&client_id=${s.publicClient}&client_id=${s.publicClient}` }, 400],
      ['JSON instead of a form', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'refresh_token' }) }, 400],
      ['a code that does not exist', { body: form({ grant_type: 'authorization_code', client_id: s.publicClient, code: 'nope', code_verifier: 'v'.repeat(43) }) }, 400],
    ];
    for (const [name, init, status] of cases) assertSame(name, await both(s, '/token', init), status);
  });

  test('a refresh presented again within the grace window gets the same successor on either path', async () => {
    const token = await s.refreshToken();
    const body = form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: token });
    const first = await fetch(`${s.srv.url}/token`, { method: 'POST', headers: { 'content-type': FORM }, body });
    const again = await s.app.request(`${s.srv.url}/token`, { method: 'POST', headers: { 'content-type': FORM }, body });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.equal(((await first.json()) as { refresh_token: string }).refresh_token, ((await again.json()) as { refresh_token: string }).refresh_token);
  });

  test('the fast path logs one request line and echoes a sane request id', async () => {
    const r = await fetch(`${s.srv.url}/token`, { method: 'POST', headers: { 'content-type': FORM, 'x-request-id': 'client-token-req-1' }, body: form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken() }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-request-id'), 'client-token-req-1');
    const lines = s.srv.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.requestId === 'client-token-req-1' && l.msg === 'request');
    assert.deepEqual(lines.map((l) => [l.method, l.path, l.status]), [['POST', '/token', 200]]);
    assert.ok(!s.srv.logs.some((l) => l.includes('refresh_token=') || l.includes('"refresh_token"')), 'no token in the logs');
  });

  test('requests the fast path leaves to the app are answered as the app answers them', async () => {
    // A trailing slash, a percent-encoded path, a chunked body: the general path takes them.
    const body = form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: 'unknown' });
    for (const path of ['/token/', '/%74oken']) {
      const viaNode = await fetch(s.srv.url + path, { method: 'POST', headers: { 'content-type': FORM }, body });
      const viaHono = await s.app.request(s.srv.url + path, { method: 'POST', headers: { 'content-type': FORM }, body });
      assert.equal(viaNode.status, viaHono.status, path);
    }
    const chunkedBody = new TextEncoder().encode(form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken() }));
    const chunked = await fetch(`${s.srv.url}/token`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new ReadableStream({ start: (c) => (c.enqueue(chunkedBody), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 200);
  });
});

describe('token endpoint fast path, per-workspace issuers', () => {
  let s: Setup;
  before(async () => (s = await setUp({ TOLLGATE_ISSUER_MODE: 'workspace' })));
  after(async () => s.srv.stop());

  test('a workspace issuer\'s token endpoint, an unknown workspace\'s and the root one answer alike on both paths', async () => {
    const refresh = async () => form({ grant_type: 'refresh_token', client_id: s.publicClient, refresh_token: await s.refreshToken() });
    assertSame('a refresh at the workspace issuer', await both(s, '/demo/token', { body: refresh }), 200);
    assertSame('a refresh at the root issuer (another authorization server)', await both(s, '/token', { body: refresh }), 400);
    assertSame('an unknown workspace', await both(s, '/nowhere/token', { body: refresh }), 404);
  });
});
