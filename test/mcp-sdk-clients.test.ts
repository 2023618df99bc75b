// Requirement (MCP endpoints §6): the official SDK clients, given only the MCP URL, do the whole dance against the
// real server — 401 → protected-resource metadata → AS metadata → dynamic registration → authorize (sign-in and
// consent through the real pages over HTTP) → token → tools/list → tools/call → refresh → revoke → 401. No mocks:
// the only stand-in is the browser, which walks the real pages with test/helpers/oauth-flow.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2, UnauthorizedError as UnauthorizedV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError as UnauthorizedV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/server.ts';
import { approveAuthorization, postForm } from './helpers/oauth-flow.ts';
import { legacyCall } from './helpers/mcp-http.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';

/** An OAuth client provider for both SDK generations whose "browser" approves through the real pages. */
function headlessProvider(name: string) {
  const state = {
    clientInformation: undefined as any,
    tokens: undefined as any,
    verifier: '',
    discovery: undefined as any,
    callback: undefined as URLSearchParams | undefined,
    authorizeUrls: [] as URL[],
    approve: true,
  };
  const provider = {
    get redirectUrl() {
      return REDIRECT;
    },
    get clientMetadata() {
      return { client_name: name, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
    },
    clientInformation: () => state.clientInformation,
    saveClientInformation: (info: unknown) => {
      state.clientInformation = info;
    },
    tokens: () => state.tokens,
    saveTokens: (tokens: unknown) => {
      state.tokens = tokens;
    },
    redirectToAuthorization: async (url: URL) => {
      state.authorizeUrls.push(url);
      if (!state.approve) return;
      state.callback = (await approveAuthorization(url.toString(), { email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).searchParams;
    },
    saveCodeVerifier: (v: string) => {
      state.verifier = v;
    },
    codeVerifier: () => state.verifier,
    saveDiscoveryState: (d: unknown) => {
      state.discovery = d;
    },
    discoveryState: () => state.discovery,
  };
  return { provider, state };
}

describe('official SDK clients against a workspace endpoint, full OAuth', () => {
  let srv: TestServer;
  let endpoint: string;
  before(async () => {
    srv = await startTestServer({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' } });
    endpoint = `${srv.url}/demo/mcp`;
  });
  after(async () => srv.stop());

  /** Revokes the grant the way a client would (RFC 7009 with its refresh token), then checks raw 401s. */
  async function revokeAndCheck(state: ReturnType<typeof headlessProvider>['state']) {
    const accessToken = state.tokens.access_token as string;
    const revoked = await postForm(`${srv.url}/revoke`, { token: state.tokens.refresh_token, token_type_hint: 'refresh_token', client_id: state.clientInformation.client_id });
    assert.equal(revoked.status, 200);
    const after = await legacyCall(endpoint, accessToken, 'tools/list');
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  }

  const modes = [
    { label: 'SDK v2 (2025-11-25 handshake)', negotiation: 'legacy' as const, version: '2025-11-25' },
    { label: 'SDK v2 (2026-07-28, server/discover)', negotiation: 'auto' as const, version: '2026-07-28' },
  ];
  for (const mode of modes) {
    test(`${mode.label}: discovery, registration, consent, tools, refresh, revoke`, async () => {
      const { provider, state } = headlessProvider(`sdk v2 ${mode.negotiation}`);
      const newClient = () => new ClientV2({ name: 'tollgate-e2e', version: '1.0.0' }, { versionNegotiation: { mode: mode.negotiation } });
      let transport = new TransportV2(new URL(endpoint), { authProvider: provider });
      let client = newClient();
      await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedV2);
      assert.ok(state.clientInformation?.client_id, 'registered dynamically');
      assert.equal(state.authorizeUrls.length, 1);
      const authorize = state.authorizeUrls[0];
      assert.equal(authorize.searchParams.get('resource'), endpoint, 'resource indicator from the protected-resource metadata');
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(state.callback?.get('code'));
      await transport.finishAuth(state.callback!);
      assert.ok(state.tokens?.access_token && state.tokens.refresh_token);

      transport = new TransportV2(new URL(endpoint), { authProvider: provider });
      client = newClient();
      await client.connect(transport);
      assert.equal(client.getNegotiatedProtocolVersion?.() ?? mode.version, mode.version);
      const tools = await client.listTools();
      const names = tools.tools.map((t) => t.name);
      for (const n of ['search_contacts', 'create_deal', 'pipeline_summary']) assert.ok(names.includes(n), n);
      const found = await client.callTool({ name: 'search_contacts', arguments: { query: 'lindqvist' } });
      assert.equal((found.structuredContent as any).contacts[0].company, 'FjordPay');
      const created = await client.callTool({ name: 'create_contact', arguments: { name: `Via ${mode.negotiation}`, email: `${mode.negotiation}@sdk.test` } });
      assert.match((created.structuredContent as any).contact.id, /^ct_/);

      // The access token goes bad (as when it expires): the client refreshes with its rotating refresh token.
      const before = { ...state.tokens };
      state.tokens = { ...state.tokens, access_token: 'expired.or.otherwise.invalid' };
      const summary = await client.callTool({ name: 'pipeline_summary', arguments: {} });
      assert.ok((summary.structuredContent as any).currencies.length > 0);
      assert.notEqual(state.tokens.access_token, before.access_token);
      assert.notEqual(state.tokens.refresh_token, before.refresh_token, 'refresh tokens rotate');

      await revokeAndCheck(state);
      state.approve = false;
      await assert.rejects(client.callTool({ name: 'pipeline_summary', arguments: {} }));
      await client.close();
    });
  }

  test('SDK v1: discovery, registration, consent, tools, refresh, revoke', async () => {
    const { provider, state } = headlessProvider('sdk v1');
    let transport = new TransportV1(new URL(endpoint), { authProvider: provider as never });
    let client = new ClientV1({ name: 'tollgate-e2e-v1', version: '1.0.0' });
    await assert.rejects(client.connect(transport), (e: unknown) => e instanceof UnauthorizedV1);
    assert.ok(state.clientInformation?.client_id);
    await transport.finishAuth(state.callback!.get('code')!);

    transport = new TransportV1(new URL(endpoint), { authProvider: provider as never });
    client = new ClientV1({ name: 'tollgate-e2e-v1', version: '1.0.0' });
    await client.connect(transport);
    assert.equal(client.getServerVersion()?.name, 'tollgate');
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('get_deal'));
    const deals = await client.callTool({ name: 'search_deals', arguments: { stage: 'negotiation' } });
    assert.ok((deals.structuredContent as any).deals.length >= 2);
    // v1 validates structured content against the output schema even on errors: a tool error must still pass.
    const missing = await client.callTool({ name: 'get_deal', arguments: { id: 'dl_doesnotexist' } });
    assert.equal(missing.isError, true);

    const before = { ...state.tokens };
    state.tokens = { ...state.tokens, access_token: 'expired.or.otherwise.invalid' };
    await client.callTool({ name: 'search_contacts', arguments: { limit: 1 } });
    assert.notEqual(state.tokens.access_token, before.access_token);

    await revokeAndCheck(state);
    state.approve = false;
    await assert.rejects(client.callTool({ name: 'search_contacts', arguments: {} }));
    await client.close();
  });
});
