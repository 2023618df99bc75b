// Which issuer answers a request, where its endpoints are, and which resources it may issue tokens for.
// Root mode: one issuer at the public URL for every endpoint. Workspace mode: `<publicUrl>/<ws>` for that workspace's
// endpoint, and the root issuer only for the shared endpoint — so the issuer a client discovered is the one in `iss`.
import type { Config } from '../config/config.ts';
import { canonicalizeResource, issuerFor, parseResource, sharedResourceUrl, workspaceResourceUrl } from './resource.ts';

export type IssuerConfig = Pick<Config, 'publicUrl' | 'issuerMode' | 'sharedEndpoint'>;

export interface IssuerContext {
  /** The issuer identifier, byte-identical in metadata, the `iss` parameter and tokens. */
  issuer: string;
  /** Set for a per-workspace issuer (workspace mode). */
  slug?: string;
}

export type EndpointName = 'authorize' | 'token' | 'register' | 'revoke' | 'introspect' | 'userinfo' | 'device_authorization';

export const rootIssuer = (config: IssuerConfig): IssuerContext => ({ issuer: issuerFor(config) });
export const workspaceIssuer = (config: IssuerConfig, slug: string): IssuerContext => ({ issuer: issuerFor(config, slug), slug });

/**
 * The issuer an endpoint path belongs to: the root issuer, or in workspace mode the issuer of an existing
 * workspace. Undefined means the path is not an endpoint here (404).
 */
export async function issuerForSlug(
  config: IssuerConfig,
  workspaces: { getWorkspaceBySlug(slug: string): Promise<unknown> },
  slug: string | undefined,
): Promise<IssuerContext | undefined> {
  if (slug === undefined) return rootIssuer(config);
  if (config.issuerMode !== 'workspace') return undefined;
  return (await workspaces.getWorkspaceBySlug(slug)) ? workspaceIssuer(config, slug) : undefined;
}

/** Endpoints hang under their issuer: `/token` for the root issuer, `/<ws>/token` for a workspace issuer. */
export const endpointUrl = (ctx: IssuerContext, name: EndpointName): string => `${ctx.issuer}/${name}`;

export type ResolvedResource =
  /** A workspace endpoint named by the client (or implied by a workspace issuer). */
  | { kind: 'workspace'; resource: string; slug: string }
  /**
   * The workspace is chosen at consent. `implicit`: the client sent no resource, so the token will be for the chosen
   * workspace's endpoint and also the shared one (either may be where it came from).
   */
  | { kind: 'pick'; resource: string | null; implicit: boolean };

/**
 * RFC 8707: the resource a request is for, canonicalised and checked against this issuer's MCP endpoints. A
 * missing one means the endpoint the client came from: the workspace of a workspace issuer, or a choice at consent.
 * Returns an error description (for `invalid_target`) when it is not one of ours. Workspace existence is the
 * caller's check.
 */
/** The upstream servers whose own endpoints (`/<ws>/mcp/<server>`) are served now (the gateway sets it). */
export interface ResourceServers {
  has(name: string): boolean;
}

export function resolveResource(config: IssuerConfig, ctx: IssuerContext, raw: string | undefined, servers: ResourceServers): ResolvedResource | { error: string } {
  if (raw === undefined || raw === '') {
    if (ctx.slug) return { kind: 'workspace', resource: workspaceResourceUrl(config.publicUrl, ctx.slug), slug: ctx.slug };
    if (config.issuerMode === 'root') return { kind: 'pick', resource: null, implicit: true };
    if (config.sharedEndpoint) return { kind: 'pick', resource: sharedResourceUrl(config.publicUrl), implicit: false };
    return { error: 'resource is required: name the MCP endpoint, e.g. ' + workspaceResourceUrl(config.publicUrl, '<workspace>') };
  }
  const canonical = canonicalizeResource(raw);
  if (!canonical) return { error: 'resource must be an absolute http(s) URL without credentials' };
  const target = parseResource(config.publicUrl, canonical);
  if (!target) return { error: `${canonical.slice(0, 200)} is not an MCP endpoint of this server` };
  if (target.kind === 'shared') {
    if (!config.sharedEndpoint) return { error: 'the shared /mcp endpoint is disabled on this server' };
    if (ctx.slug) return { error: 'this workspace\'s authorization server issues tokens only for its own endpoint' };
    return { kind: 'pick', resource: canonical, implicit: false };
  }
  if (ctx.slug && target.slug !== ctx.slug) return { error: 'this workspace\'s authorization server issues tokens only for its own endpoint' };
  if (!ctx.slug && config.issuerMode === 'workspace') return { error: `in per-workspace issuer mode, tokens for ${canonical.slice(0, 200)} come from ${issuerFor(config, target.slug)}` };
  // RFC 8707 §2: a token only for a resource this server has; an upstream's endpoint exists while the gateway serves it.
  if (target.server !== undefined && !servers.has(target.server)) return { error: `no MCP server named ${target.server} is served here` };
  return { kind: 'workspace', resource: canonical, slug: target.slug };
}

/** The `aud` of a grant's tokens. */
export function grantAudience(config: IssuerConfig, resource: string, implicit: boolean): string[] {
  return implicit && config.sharedEndpoint ? [resource, sharedResourceUrl(config.publicUrl)] : [resource];
}

/** The issuer responsible for a (canonical) resource. */
export function issuerForResource(config: IssuerConfig, resource: string): string {
  const target = parseResource(config.publicUrl, resource);
  return issuerFor(config, target?.kind === 'workspace' ? target.slug : undefined);
}
