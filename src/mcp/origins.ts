// Browser origins: which may call the MCP endpoints (DNS-rebinding protection), and the CORS headers they get.
import type { Config } from '../config/config.ts';

/** Request headers a browser client may send (preflight); `Mcp-Param-*` headers are allowed by prefix. */
const ALLOWED_REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-session-id', 'last-event-id', 'x-request-id'];
/** Response headers a browser client may read. */
export const EXPOSED_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, RateLimit, RateLimit-Policy, Retry-After, X-Request-Id';

function normalizeOrigin(raw: string): string | undefined {
  try {
    const u = new URL(raw.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

export interface OriginPolicy {
  /** True for no Origin (not a browser), the public URL's origin and configured extra origins. */
  allows(origin: string | undefined): boolean;
}

export function originPolicy(config: Pick<Config, 'publicUrl' | 'allowedOrigins'>): OriginPolicy {
  const allowed = new Set<string>();
  const own = normalizeOrigin(config.publicUrl);
  if (own) allowed.add(own);
  for (const entry of config.allowedOrigins.split(',')) {
    const o = entry.trim() && normalizeOrigin(entry);
    if (o) allowed.add(o);
  }
  return {
    allows(origin) {
      if (origin === undefined) return true;
      // Origin serialisation (RFC 6454 §6.2) is already lower-case scheme/host without a path; compare exactly,
      // and once more after normalising (an explicit default port, upper-case host).
      return allowed.has(origin) || allowed.has(normalizeOrigin(origin) ?? '');
    },
  };
}

/** CORS headers on an actual response to an allowed origin. */
export function corsHeaders(origin: string): Record<string, string> {
  return { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': EXPOSED_HEADERS, Vary: 'Origin' };
}

/** The request headers a preflight asked for that we allow, as the Access-Control-Allow-Headers value. */
export function allowedRequestHeaders(requested: string | undefined): string {
  const out = new Set(ALLOWED_REQUEST_HEADERS);
  for (const h of (requested ?? '').split(',')) {
    const name = h.trim().toLowerCase();
    if (/^mcp-param-[a-z0-9-]{1,64}$/.test(name)) out.add(name);
  }
  return [...out].join(', ');
}
