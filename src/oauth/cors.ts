// CORS for the endpoints browser-based MCP clients call directly (metadata, registration, token, revocation,
// introspection, userinfo, JWKS). No cookies are involved there, so any origin may call them.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/env.ts';

export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, MCP-Protocol-Version, Mcp-Method, Mcp-Name, X-Request-Id',
  'Access-Control-Expose-Headers': 'WWW-Authenticate, X-Request-Id, Retry-After',
  'Access-Control-Max-Age': '86400',
} as const;

export function oauthCors(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS_HEADERS });
    await next();
    for (const [k, v] of Object.entries(CORS_HEADERS)) c.res.headers.set(k, v);
  };
}
