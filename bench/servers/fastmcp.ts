// (FMCP) fastmcp (TypeScript) with its OAuth support: its OAuth proxy (the generic `OAuthProvider`) is the
// authorization server MCP clients see (metadata, dynamic registration, PKCE, its own JWTs by token swap, the upstream
// tokens kept encrypted in its token storage), and it signs users in through an upstream identity provider, as it would
// through Google or GitHub. Here that upstream is a minimal loopback one in this process (the bench user is taken as
// signed in: /authorize sends the code straight back, /token exchanges it); it is called only while the token is
// obtained, never during the load. Stateless HTTP streaming (a fresh session per request), JSON answers, and the
// one tool every bench server serves, open to any authenticated caller (requireAuth). No metering: fastmcp has none.
// The token is obtained by the harness over HTTP (lib/oauth-client.ts), as an MCP client would. fastmcp logs a line
// per request by default; like Tollgate's, it goes to the bench's log file (BENCH_LOG_FILE) rather than to the pipe the
// harness would have to read on the same cores.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { FastMCP, OAuthProvider, requireAuth } from 'fastmcp';
import { z } from 'zod';
import { benchContactResult } from '../lib/contact.ts';
import { announceReady, BENCH_CONTACT_ID, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';
import { freePort } from '../lib/scratch.ts';

/** The upstream identity provider: authorizes the bench user at once, and swaps a code for an opaque token. */
function startUpstream(): Promise<string> {
  const codes = new Set<string>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/authorize') {
      const redirect = url.searchParams.get('redirect_uri');
      if (!redirect?.startsWith('http://127.0.0.1:')) return void res.writeHead(400).end();
      const code = randomBytes(16).toString('base64url');
      codes.add(code);
      const back = new URL(redirect);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      return void res.writeHead(302, { location: back.toString() }).end();
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        const code = new URLSearchParams(body).get('code') ?? '';
        if (!codes.delete(code)) return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: randomBytes(24).toString('base64url'), token_type: 'Bearer', expires_in: 3600, scope: 'openid' }));
      });
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

const logFile = process.env.BENCH_LOG_FILE ? createWriteStream(process.env.BENCH_LOG_FILE, { flags: 'a' }) : undefined;
const line = (level: string) => (...args: unknown[]) => {
  const text = `[FastMCP ${level}] ${args.map(String).join(' ')}\n`;
  if (logFile) logFile.write(text);
  else process.stderr.write(text);
};
const logger = { debug: line('debug'), info: line('info'), log: line('log'), warn: line('warn'), error: line('error') };

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = new FastMCP({
    name: 'bench-fastmcp',
    version: '1.0.0',
    logger,
    auth: new OAuthProvider({
      baseUrl: origin,
      authorizationEndpoint: `${upstream}/authorize`,
      tokenEndpoint: `${upstream}/token`,
      clientId: 'bench-upstream-client',
      clientSecret: 'bench-upstream-secret',
      scopes: ['openid'],
      consentRequired: false,
      allowedRedirectUriPatterns: ['http://127.0.0.1:*'],
    }),
  });
  server.addTool({
    name: 'get_contact',
    description: 'Get a contact by id',
    parameters: z.object({ id: z.string() }),
    canAccess: requireAuth,
    execute: async () => benchContactResult(),
  });
  await server.start({ transportType: 'httpStream', httpStream: { host: '127.0.0.1', port, endpoint: '/mcp', stateless: true, enableJsonResponse: true } });
  announceReady({
    url: `${origin}/mcp`,
    headers: { ...MCP_HEADERS },
    body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }),
    meta: { oauth: { resource: `${origin}/mcp`, scope: 'openid' }, metering: false },
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
