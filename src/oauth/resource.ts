// Resource and issuer URLs. Every URL derives from the configured public URL, never from request headers.
import type { Config } from '../config/config.ts';
import { isWorkspaceSlug } from '../accounts/index.ts';

/** `server`: an upstream MCP server's own endpoint in the workspace (the gateway), `<publicUrl>/<slug>/mcp/<server>`. */
export type ResourceTarget = { kind: 'workspace'; slug: string; server?: string } | { kind: 'shared' };

/** `<publicUrl>/<slug>/mcp`: the per-workspace MCP endpoint, and the `aud` of tokens for it. */
export const workspaceResourceUrl = (publicUrl: string, slug: string): string => `${publicUrl}/${slug}/mcp`;

/** `<publicUrl>/<slug>/mcp/<server>`: an upstream server's own endpoint in a workspace; its tokens work nowhere else. */
export const serverResourceUrl = (publicUrl: string, slug: string, server: string): string => `${publicUrl}/${slug}/mcp/${server}`;

/** The syntax of an upstream server's name in its resource URL (the gateway's UPSTREAM_NAME). */
export const SERVER_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** `<publicUrl>/mcp`: the shared endpoint, where the workspace is chosen at consent. */
export const sharedResourceUrl = (publicUrl: string): string => `${publicUrl}/mcp`;

/**
 * The issuer for a resource: the public URL itself (default `root` mode, no trailing slash), or
 * `<publicUrl>/<slug>` in `workspace` mode (metadata found by RFC 8414 path insertion).
 */
export function issuerFor(config: Pick<Config, 'publicUrl' | 'issuerMode'>, slug?: string): string {
  return config.issuerMode === 'workspace' && slug ? `${config.publicUrl}/${slug}` : config.publicUrl;
}

/**
 * RFC 8707 resource indicator, canonicalised: absolute http(s), scheme and host lower-cased, no fragment, no query,
 * no trailing slash, default ports dropped. Undefined when it is not a usable absolute URL.
 */
export function canonicalizeResource(raw: string | undefined | null): string | undefined {
  if (!raw || raw.length > 2048) return undefined;
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  if (u.username || u.password) return undefined;
  // RFC 8707 §2: the resource "MUST NOT include a fragment component"; a query is not used to address ours.
  u.hash = '';
  u.search = '';
  const path = u.pathname.replace(/\/+$/, '');
  return `${u.protocol}//${u.host}${path}`;
}

/** Which of Tollgate's MCP endpoints a canonical resource names, or undefined when it is none of them. */
export function parseResource(publicUrl: string, resource: string): ResourceTarget | undefined {
  const base = canonicalizeResource(publicUrl);
  const canonical = canonicalizeResource(resource);
  if (!base || !canonical || !canonical.startsWith(base + '/')) return undefined;
  const rest = canonical.slice(base.length + 1);
  if (rest === 'mcp') return { kind: 'shared' };
  const m = /^([^/]+)\/mcp(?:\/([^/]+))?$/.exec(rest);
  if (!m || !isWorkspaceSlug(m[1])) return undefined;
  if (m[2] === undefined) return { kind: 'workspace', slug: m[1] };
  // RFC 8707: each upstream server is a resource of its own, so a token for one is refused by every other.
  return SERVER_NAME.test(m[2]) ? { kind: 'workspace', slug: m[1], server: m[2] } : undefined;
}
