// (BA) better-auth with its OAuth 2.1 provider plugin (@better-auth/oauth-provider, with the jwt plugin that signs its
// access tokens) on SQLite (node:sqlite, a fresh file; better-auth's own migrations), and an MCP endpoint by
// mcp-handler (the official SDK v2 inside) behind its withMcpAuth, which verifies each bearer token with the plugin's
// resource client (a JWT checked against the server's JWKS, fetched once and cached, as the plugin documents for
// resource servers). The login and consent pages are the application's in better-auth: the bench user signs in by
// email and password (the harness does it over HTTP), and the consent page approves at once (a real one would ask).
// One process, node:http; the same one tool every bench server serves. No metering: better-auth has none.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { getRequestListener } from '@hono/node-server';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { jwt } from 'better-auth/plugins';
import { oauthProvider, oauthProviderAuthServerMetadata } from '@better-auth/oauth-provider';
import { oauthProviderResourceClient } from '@better-auth/oauth-provider/resource-client';
import { createMcpHandler, withMcpAuth } from 'mcp-handler';
import { z } from 'zod';
import { benchContactResult } from '../lib/contact.ts';
import { announceReady, BENCH_CONTACT_ID, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';
import { freePort } from '../lib/scratch.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-ba-'));
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench password, long enough';

async function main(): Promise<void> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const resource = `${origin}/mcp`;
  const issuer = `${origin}/api/auth`;
  const options = {
    baseURL: origin,
    basePath: '/api/auth',
    secret: 'bench-secret-0123456789abcdef0123456789abcdef',
    database: new DatabaseSync(path.join(dir, 'auth.db')),
    emailAndPassword: { enabled: true },
    // The bench signs in and registers hundreds of times per second from one address in no case, but its few calls
    // come fast: no rate limit on the auth endpoints.
    rateLimit: { enabled: false },
    plugins: [
      jwt(),
      oauthProvider({
        loginPage: '/sign-in',
        consentPage: '/consent',
        allowDynamicClientRegistration: true,
        allowUnauthenticatedClientRegistration: true,
        resources: [resource],
        // Every registered client may ask for the MCP endpoint (RFC 8707: the resource it may be issued tokens for).
        clientRegistrationDefaultResources: [resource],
        scopes: ['openid', 'profile', 'email', 'offline_access', 'mcp:read', 'mcp:write'],
      }),
    ],
  };
  // better-auth's own migrations, before the instance (it refuses to start on a database without its tables).
  await (await getMigrations(options)).runMigrations();
  const auth = betterAuth(options);
  await auth.api.signUpEmail({ body: { email: EMAIL, password: PASSWORD, name: 'Bench user' } });

  const { verifyBearerToken } = oauthProviderResourceClient(auth).getActions();
  const mcp = createMcpHandler((server) => {
    server.registerTool('get_contact', { description: 'Get a contact by id', inputSchema: z.object({ id: z.string() }) }, async () => benchContactResult());
  }, { serverInfo: { name: 'bench-better-auth', version: '1.0.0' } });
  const protectedMcp = withMcpAuth(
    mcp,
    async (_req, token) => {
      if (!token) return undefined;
      try {
        const payload = await verifyBearerToken(token, { verifyOptions: { audience: resource, issuer } });
        return { token, clientId: String(payload.azp ?? payload.client_id ?? ''), scopes: String(payload.scope ?? '').split(' ').filter(Boolean), extra: { sub: payload.sub } };
      } catch {
        return undefined;
      }
    },
    { required: true, resourceUrl: origin, requiredScopes: ['mcp:read'] },
  );
  const serverMetadata = oauthProviderAuthServerMetadata(auth);

  const app = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname === '/mcp') return protectedMcp(req);
    if (url.pathname.startsWith('/api/auth/')) return auth.handler(req);
    // RFC 8414 §3.1: the issuer has a path, so its metadata is at the well-known path with the issuer's path after it.
    if (url.pathname === '/.well-known/oauth-authorization-server/api/auth') return serverMetadata(req);
    // RFC 9728 §3.1: the resource's metadata, path inserted in the same way.
    if (url.pathname === '/.well-known/oauth-protected-resource/mcp' || url.pathname === '/.well-known/oauth-protected-resource') {
      return Response.json({ resource, authorization_servers: [issuer], scopes_supported: ['mcp:read', 'mcp:write'], bearer_methods_supported: ['header'] });
    }
    if (url.pathname === '/consent') {
      // The consent page: the signed-in bench user accepts what was asked (the page's own POST, made here at once).
      const answer = await auth.handler(
        new Request(`${issuer}/oauth2/consent`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: req.headers.get('cookie') ?? '', origin },
          body: JSON.stringify({ accept: true, oauth_query: url.search.slice(1) }),
        }),
      );
      const body = (await answer.json()) as { redirect_uri?: string; url?: string };
      const to = body.redirect_uri ?? body.url;
      return to ? new Response(null, { status: 302, headers: { location: to } }) : new Response('consent failed', { status: 400 });
    }
    return new Response('not found', { status: 404 });
  };
  const server = createServer(getRequestListener(app));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  announceReady({
    url: resource,
    headers: { ...MCP_HEADERS },
    body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }),
    meta: {
      oauth: { resource, scope: 'mcp:read mcp:write', signIn: { url: `${issuer}/sign-in/email`, contentType: 'application/json', body: JSON.stringify({ email: EMAIL, password: PASSWORD }) } },
      metering: false,
    },
  });
}

function stop(code: number): void {
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  stop(1);
});
