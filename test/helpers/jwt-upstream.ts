// An upstream MCP server written with the official SDK v2 (`createMcpHandler`), served over node:http, that trusts
// only Tollgate's forwarded JWT: it fetches Tollgate's JWKS and checks signature, type, issuer, audience and expiry
// itself before the SDK sees the request. Its `whoami` tool answers with the identity it verified; `slow` sleeps.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

export interface JwtUpstream {
  readonly url: string;
  /** Every Authorization header it received (to check no client token ever arrived). */
  readonly authorizations: string[];
  /** Every traceparent header it received (W3C Trace Context, passed on by Tollgate). */
  readonly traceparents: string[];
  /** Requests refused for a bad JWT. */
  refused: number;
  close(): Promise<void>;
}

function b64json(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** `modernOnly`: a 2026-07-28 server that refuses 2025-era requests (`legacy: 'reject'`): no initialize, no session. */
export async function startJwtUpstream(tollgateUrl: string, options: { modernOnly?: boolean } = {}): Promise<JwtUpstream> {
  const keys = new Map<string, KeyObject>();
  async function keyFor(kid: string): Promise<KeyObject | undefined> {
    if (!keys.has(kid)) {
      const jwks = (await (await fetch(`${tollgateUrl}/.well-known/jwks.json`)).json()) as { keys: (Record<string, unknown> & { kid: string })[] };
      for (const k of jwks.keys) keys.set(k.kid, createPublicKey({ key: k as never, format: 'jwk' }));
    }
    return keys.get(kid);
  }
  let url = '';
  async function verify(authorization: string | undefined): Promise<Record<string, unknown> | undefined> {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const parts = token?.split('.');
    if (!parts || parts.length !== 3) return undefined;
    const header = b64json(parts[0]);
    const payload = b64json(parts[1]);
    if (header.alg !== 'ES256' || header.typ !== 'tollgate-forwarded+jwt' || typeof header.kid !== 'string') return undefined;
    const key = await keyFor(header.kid);
    if (!key) return undefined;
    const ok = verifySignature('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
    if (!ok || payload.iss !== tollgateUrl || payload.aud !== url || typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) return undefined;
    return payload;
  }

  const factory = ({ authInfo }: { authInfo?: { extra?: Record<string, unknown> } }) => {
    const server = new McpServer({ name: 'jwt-upstream', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who Tollgate says is calling', inputSchema: z.object({}), annotations: { readOnlyHint: true } }, async () => {
      const claims = authInfo?.extra ?? {};
      return { content: [{ type: 'text', text: JSON.stringify(claims) }], structuredContent: claims };
    });
    server.registerTool('slow', { description: 'Sleeps', inputSchema: z.object({ ms: z.number() }) }, async ({ ms }: { ms: number }) => {
      await new Promise((r) => setTimeout(r, ms));
      return { content: [{ type: 'text', text: `slept ${ms}` }] };
    });
    return server;
  };
  const handler = createMcpHandler(factory as never, options.modernOnly ? { legacy: 'reject' } : {});

  const authorizations: string[] = [];
  const traceparents: string[] = [];
  const state = { refused: 0 };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    authorizations.push(String(req.headers.authorization ?? ''));
    if (typeof req.headers.traceparent === 'string') traceparents.push(req.headers.traceparent);
    const claims = await verify(req.headers.authorization);
    if (!claims) {
      state.refused++;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(url, { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined });
    const response = await handler.fetch(request, { authInfo: { token: 'forwarded', clientId: String(claims.client_id ?? ''), scopes: String(claims.scope ?? '').split(' '), extra: claims } } as never);
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  return {
    url,
    authorizations,
    traceparents,
    get refused() {
      return state.refused;
    },
    set refused(n: number) {
      state.refused = n;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
