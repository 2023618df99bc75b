// RFC 9728 protected-resource metadata for each MCP endpoint, and the URLs that point at it.
import type { Config } from '../config/config.ts';
import { issuerFor, serverResourceUrl, sharedResourceUrl, workspaceResourceUrl } from '../oauth/resource.ts';

export const PRM_PREFIX = '/.well-known/oauth-protected-resource';

/** The minimal scope set (DESIGN: offline_access appears only in the AS metadata). */
export const SCOPES_SUPPORTED = ['mcp:read', 'mcp:write'] as const;

export interface EndpointUrls {
  /** The canonical resource: the `aud` of tokens for this endpoint. */
  readonly resource: string;
  /** The exact URL form the client used (with or without the trailing slash). */
  readonly resourceUsed: string;
  /** RFC 9728 §3.1: the metadata URL for `resourceUsed` (well-known suffix inserted after the host). */
  readonly metadataUrl: string;
}

/**
 * The URLs of each endpoint, from the (canonical) public URL and the resource formulas of oauth/resource.ts — the
 * same strings tokens are issued for — never from request headers.
 */
export function endpointUrlBuilder(publicUrl: string) {
  const origin = new URL(publicUrl).origin;
  return (slug: string | undefined, trailingSlash: boolean, server?: string): EndpointUrls => {
    const resource = slug === undefined ? sharedResourceUrl(publicUrl) : server !== undefined ? serverResourceUrl(publicUrl, slug, server) : workspaceResourceUrl(publicUrl, slug);
    const slash = trailingSlash ? '/' : '';
    // RFC 9728 §3.1: the well-known suffix goes between the host and the resource's path.
    return { resource, resourceUsed: `${resource}${slash}`, metadataUrl: `${origin}${PRM_PREFIX}${resource.slice(origin.length)}${slash}` };
  };
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported: string[];
  bearer_methods_supported: string[];
  resource_name: string;
}

/**
 * RFC 9728 §2/§3.3: `resource` must be identical to the URL the client derived the metadata URL from, so it is the
 * URL form used, byte for byte; `authorization_servers[0]` is the issuer, byte-identical to the AS metadata `issuer`.
 */
export function protectedResourceMetadata(config: Pick<Config, 'publicUrl' | 'issuerMode'>, resourceUsed: string, workspace: { slug: string; name: string } | undefined, server?: string): ProtectedResourceMetadata {
  return {
    resource: resourceUsed,
    authorization_servers: [issuerFor(config, workspace?.slug)],
    scopes_supported: [...SCOPES_SUPPORTED],
    bearer_methods_supported: ['header'],
    resource_name: workspace ? (server ? `${server} in ${workspace.name} (MCP)` : `${workspace.name} (MCP)`) : 'Tollgate MCP',
  };
}
