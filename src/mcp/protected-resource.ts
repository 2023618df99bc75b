// RFC 9728 protected-resource metadata for each MCP endpoint, and the URLs that point at it.
import type { Config } from '../config/config.ts';
import { issuerFor } from '../oauth/resource.ts';

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

/** Precomputes the pieces of every endpoint URL from the public URL (never from request headers). */
export function endpointUrlBuilder(publicUrl: string) {
  const u = new URL(publicUrl);
  const origin = u.origin;
  const basePath = u.pathname.replace(/\/+$/, '');
  return (slug: string | undefined, trailingSlash: boolean): EndpointUrls => {
    const path = `${basePath}${slug === undefined ? '' : `/${slug}`}/mcp`;
    const slash = trailingSlash ? '/' : '';
    return { resource: `${origin}${path}`, resourceUsed: `${origin}${path}${slash}`, metadataUrl: `${origin}${PRM_PREFIX}${path}${slash}` };
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
export function protectedResourceMetadata(config: Pick<Config, 'publicUrl' | 'issuerMode'>, resourceUsed: string, workspace: { slug: string; name: string } | undefined): ProtectedResourceMetadata {
  return {
    resource: resourceUsed,
    authorization_servers: [issuerFor(config, workspace?.slug)],
    scopes_supported: [...SCOPES_SUPPORTED],
    bearer_methods_supported: ['header'],
    resource_name: workspace ? `${workspace.name} (MCP)` : 'Tollgate MCP',
  };
}
