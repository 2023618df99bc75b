// Scopes Tollgate understands, and the tolerant parsing real clients need.

/** What the authorization server advertises (RFC 8414 `scopes_supported`). */
export const SUPPORTED_SCOPES = ['mcp:read', 'mcp:write', 'openid', 'profile', 'email', 'offline_access'] as const;
export type Scope = (typeof SUPPORTED_SCOPES)[number];

/** Granted when a client asks for nothing Tollgate knows (e.g. claude.ai's `claudeai`). */
export const DEFAULT_SCOPES: Scope[] = ['mcp:read', 'mcp:write'];

/** Plain words for the consent page. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'mcp:read': 'Read data through the MCP server\u2019s tools',
  'mcp:write': 'Change data through the MCP server\u2019s tools',
  openid: 'Confirm who you are',
  profile: 'See your name',
  email: 'See your email address',
  offline_access: 'Stay connected when you are not using it',
};

const isSupported = (s: string): s is Scope => (SUPPORTED_SCOPES as readonly string[]).includes(s);

/**
 * Trims and splits on any whitespace, drops unknown scopes rather than failing, removes duplicates and keeps the
 * advertised order. Falls back to the default MCP scopes when nothing known is left.
 */
export function parseRequestedScopes(raw: string | undefined | null): Scope[] {
  const asked = new Set((raw ?? '').trim().split(/\s+/).filter(Boolean));
  const known = SUPPORTED_SCOPES.filter((s) => asked.has(s));
  return known.length ? known : [...DEFAULT_SCOPES];
}

/**
 * A refresh request's `scope` (RFC 6749 §6: may narrow, never widen): the granted scopes asked for; unknown scopes are
 * ignored as at /authorize; undefined when a known scope was never granted.
 */
export function narrowScopes(raw: string, granted: readonly string[]): string[] | undefined {
  const asked = [...new Set(raw.trim().split(/\s+/).filter(isSupported))];
  if (asked.some((s) => !granted.includes(s))) return undefined;
  return asked.length ? granted.filter((s) => (asked as string[]).includes(s)) : [...granted];
}

export const scopeString = (scopes: readonly string[]): string => scopes.join(' ');

export function describeScope(scope: string): string {
  return isSupported(scope) ? SCOPE_DESCRIPTIONS[scope] : scope;
}
