// (WOP) The Worker that bench/servers/wop.ts bundles and runs in workerd (miniflare): Cloudflare's
// workers-oauth-provider as the authorization server and the token check (its grants and tokens in the KV namespace
// OAUTH_KV, as deployed), with the `agents` package's stateless MCP handler (createMcpHandler, SDK v2) behind it,
// serving the one tool every bench server serves. The /authorize step is the application's own in this library; here
// the bench's user is taken as signed in and consenting, so it completes the authorization at once (a real page would
// sign the user in and show the consent helpers' form first). No metering: the library has none.
import { OAuthProvider, type OAuthHelpers } from '@cloudflare/workers-oauth-provider';
import { createMcpHandler } from 'agents/mcp/server';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { benchContactResult } from '../../lib/contact.ts';

interface Env {
  OAUTH_KV: unknown;
  OAUTH_PROVIDER: OAuthHelpers;
  /** This Worker's origin (http://127.0.0.1:<port>), chosen by the harness before workerd starts. */
  ORIGIN: string;
}

const BENCH_USER = 'bench-user';

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-wop', version: '1.0.0' });
  server.registerTool('get_contact', { description: 'Get a contact by id', inputSchema: z.object({ id: z.string() }) }, async () => benchContactResult());
  return server;
}

const mcp = createMcpHandler(buildServer, { route: '/mcp' });
/** The Worker's execution context, as the handler takes it (workerd's type; this tree has no Workers type package). */
type ExecutionContext = Parameters<typeof mcp>[2];

const apiHandler = {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    return mcp(request, env, ctx);
  },
};

const defaultHandler = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== '/authorize') return new Response('not found', { status: 404 });
    const oauth = env.OAUTH_PROVIDER;
    const authRequest = await oauth.parseAuthRequest(request);
    const { redirectTo } = await oauth.completeAuthorization({ request: authRequest, userId: BENCH_USER, metadata: {}, scope: authRequest.scope, props: { userId: BENCH_USER } });
    return new Response(null, { status: 302, headers: { location: redirectTo } });
  },
};

let provider: OAuthProvider<Env> | undefined;

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    provider ??= new OAuthProvider<Env>({
      apiRoute: '/mcp',
      apiHandler,
      defaultHandler,
      authorizeEndpoint: '/authorize',
      tokenEndpoint: '/token',
      clientRegistrationEndpoint: '/register',
      scopesSupported: ['mcp:read', 'mcp:write'],
      resourceMetadata: { resource: `${env.ORIGIN}/mcp`, authorization_servers: [env.ORIGIN] },
      requiredScopes: ['mcp:read'],
    });
    return provider.fetch(request, env, ctx);
  },
};
