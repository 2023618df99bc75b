// Redirect URIs: judged one by one at registration, matched exactly at /authorize (loopback ports excepted).

export type RedirectKind = 'loopback' | 'private-use' | 'https';
export type RedirectJudgement = { ok: true; uri: string; kind: RedirectKind } | { ok: false; uri: string; reason: string };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
// Schemes that run code, read local files or leave the browser for something that is not an app.
const REFUSED_SCHEMES = new Set([
  'javascript', 'data', 'file', 'vbscript', 'about', 'blob', 'filesystem', 'view-source', 'ftp', 'mailto', 'tel', 'sms', 'ws', 'wss', 'urn',
]);
const MAX_LENGTH = 2048;

/** One registered redirect URI, judged on its own (one bad URI must not sink a registration that has good ones). */
export function judgeRedirectUri(raw: unknown, applicationType: 'native' | 'web'): RedirectJudgement {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, uri: typeof raw === 'string' ? '' : `(${raw === null ? 'null' : typeof raw})`, reason: 'not a non-empty string' };
  const uri = raw;
  if (uri.length > MAX_LENGTH) return { ok: false, uri: uri.slice(0, 100), reason: 'too long' };
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) return { ok: false, uri, reason: 'contains whitespace or control characters' };
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
  if (uri.includes('#')) return { ok: false, uri, reason: 'has a fragment' };
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) return { ok: false, uri, reason: 'not an absolute URI' };
  if (REFUSED_SCHEMES.has(scheme)) return { ok: false, uri, reason: `the ${scheme}: scheme is not allowed` };
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return { ok: false, uri, reason: 'not a valid URI' };
  }
  if (u.username || u.password) return { ok: false, uri, reason: 'has user information' };
  if (scheme === 'http') {
    // RFC 8252 §7.3 and RFC 9700 §4.1: plain http only to the loopback interface.
    if (!LOOPBACK_HOSTS.has(u.hostname)) return { ok: false, uri, reason: 'http is allowed only for loopback hosts (127.0.0.1, localhost, [::1])' };
    return { ok: true, uri, kind: 'loopback' };
  }
  if (scheme === 'https') {
    if (!u.hostname) return { ok: false, uri, reason: 'has no host' };
    return { ok: true, uri, kind: 'https' };
  }
  // RFC 8252 §7.1: private-use URI schemes belong to native apps (`cursor://…`, `com.example.app:/cb`).
  if (applicationType === 'web') return { ok: false, uri, reason: 'web applications may use only https or loopback redirect URIs' };
  return { ok: true, uri, kind: 'private-use' };
}

function loopbackParts(uri: string): { host: string; path: string; query: string } | undefined {
  if (!uri.startsWith('http://')) return undefined;
  try {
    const u = new URL(uri);
    if (!LOOPBACK_HOSTS.has(u.hostname) || u.hash || u.username || u.password) return undefined;
    return { host: u.hostname, path: u.pathname, query: u.search };
  } catch {
    return undefined;
  }
}

/**
 * Whether a presented redirect URI matches a registered one: exact string comparison (RFC 9700 §4.1.1), except that
 * a loopback URI may use any port (RFC 8252 §7.3: "MUST allow any port to be specified at the time of the request").
 */
export function redirectUriMatches(registered: string, presented: string): boolean {
  if (registered === presented) return true;
  const a = loopbackParts(registered);
  const b = a && loopbackParts(presented);
  return !!a && !!b && a.host === b.host && a.path === b.path && a.query === b.query;
}

export function findRegisteredRedirect(registered: readonly string[], presented: string): string | undefined {
  return registered.find((r) => redirectUriMatches(r, presented));
}

/** The host (or app scheme) shown prominently on the consent page. */
export function redirectDisplay(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.protocol === 'http:' || u.protocol === 'https:') return u.host;
    return `${u.protocol}//${u.host}`.replace(/\/\/$/, '');
  } catch {
    return uri.slice(0, 80);
  }
}

export const isLoopbackRedirect = (uri: string): boolean => loopbackParts(uri) !== undefined;
