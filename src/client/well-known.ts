// The well-known URLs real MCP clients probe, as pure functions so the client and `tollgate doctor` agree.

/** Path of a URL without a trailing slash ('' for the root). */
function trimmedPath(u: URL): string {
  return u.pathname.replace(/\/+$/, '');
}

/**
 * Protected-resource metadata candidates for an MCP server URL, in the order clients try them: the
 * `resource_metadata` from the 401 challenge (RFC 9728 §5.1), then the path-suffixed well-known URL, then the
 * root one (RFC 9728 §3.1; MCP 2025-11-25 "Protected Resource Metadata Discovery").
 */
export function protectedResourceMetadataUrls(serverUrl: string, challengeUrl?: string): string[] {
  const u = new URL(serverUrl);
  const path = trimmedPath(u);
  const urls: string[] = [];
  if (challengeUrl) urls.push(challengeUrl);
  if (path) urls.push(`${u.origin}/.well-known/oauth-protected-resource${path}`);
  urls.push(`${u.origin}/.well-known/oauth-protected-resource`);
  return [...new Set(urls)];
}

export type MetadataKind = 'oauth' | 'oidc';

export interface MetadataCandidate {
  url: string;
  kind: MetadataKind;
  /** How the URL was built, for messages and the doctor. */
  rule: 'RFC 8414 path insertion' | 'root' | 'OIDC path insertion' | 'OIDC path appending' | 'OIDC root';
}

/**
 * Authorization-server metadata candidates for an issuer. For an issuer without a path: the RFC 8414 URL (which
 * is the root one), then OpenID discovery. For an issuer with a path: RFC 8414 path insertion, OIDC path
 * insertion, OIDC path appending (MCP 2025-11-25 "Authorization Server Metadata Discovery"), and last the root
 * RFC 8414 URL, which some servers use for every issuer because some clients only look there. The root comes
 * last, not second: a client that asks the root first is the divergence some servers trap (it can find another
 * issuer's document); a document found there is accepted only when its `issuer` is byte-identical anyway.
 */
export function authorizationServerMetadataUrls(issuer: string): MetadataCandidate[] {
  const u = new URL(issuer);
  const path = trimmedPath(u);
  if (!path) {
    return [
      { url: `${u.origin}/.well-known/oauth-authorization-server`, kind: 'oauth', rule: 'root' },
      { url: `${u.origin}/.well-known/openid-configuration`, kind: 'oidc', rule: 'OIDC root' },
    ];
  }
  return [
    { url: `${u.origin}/.well-known/oauth-authorization-server${path}`, kind: 'oauth', rule: 'RFC 8414 path insertion' },
    { url: `${u.origin}/.well-known/openid-configuration${path}`, kind: 'oidc', rule: 'OIDC path insertion' },
    { url: `${u.origin}${path}/.well-known/openid-configuration`, kind: 'oidc', rule: 'OIDC path appending' },
    { url: `${u.origin}/.well-known/oauth-authorization-server`, kind: 'oauth', rule: 'root' },
  ];
}

/** RFC 8414 §3.1 alone (what a strict RFC 8414 client builds): path insertion, or the root for a pathless issuer. */
export function rfc8414MetadataUrl(issuer: string): string {
  const u = new URL(issuer);
  return `${u.origin}/.well-known/oauth-authorization-server${trimmedPath(u)}`;
}

/** What `new URL('/.well-known/oauth-authorization-server', issuer)` gives: the root, whatever the issuer's path. */
export function rootMetadataUrl(issuer: string): string {
  return `${new URL(issuer).origin}/.well-known/oauth-authorization-server`;
}

/**
 * Whether protected-resource metadata naming `resource` may be used for `serverUrl`: same origin, and the
 * resource's path equals the server URL's path or is a parent of it at a segment boundary (how the official
 * SDKs read RFC 9728 §3.3 for servers that publish one PRM at the root for every endpoint).
 */
export function resourceCoversServer(resource: string, serverUrl: string): boolean {
  let r: URL;
  let s: URL;
  try {
    r = new URL(resource);
    s = new URL(serverUrl);
  } catch {
    return false;
  }
  if (r.origin !== s.origin || r.hash) return false;
  const rp = trimmedPath(r);
  const sp = trimmedPath(s);
  return rp === sp || rp === '' || sp.startsWith(rp + '/');
}
