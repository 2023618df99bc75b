// The MCP module's public face: the resource server's endpoints over the tools it is given. It declares what it
// needs (McpDeps) and knows nothing of where the tools, the metering or the tokens come from.
import type { Config } from '../config/config.ts';
import type { Workspace } from '../accounts/index.ts';
import type { OAuth } from '../oauth/index.ts';
import type { EndpointRoute } from '../http/endpoint.ts';
import type { Metering } from '../tools/metering.ts';
import type { ToolDefinition } from '../tools/tool-types.ts';
import { buildToolRegistry, type ToolRegistry } from './registry.ts';
import { bearerVerifier, type BearerVerifier } from './bearer.ts';
import { workspaceCache } from './workspace-cache.ts';
import { connectionLog } from './connection-log.ts';
import { createDispatcher } from './dispatcher.ts';
import { originPolicy } from './origins.ts';
import { endpointUrlBuilder } from './protected-resource.ts';
import { mcpRoutes } from './endpoints.ts';

export type McpConfig = Pick<Config, 'publicUrl' | 'issuerMode' | 'sharedEndpoint' | 'bodyLimitBytes' | 'allowedOrigins'>;

/** A provider of MCP tools (the credits module's own tools, the demo CRM, an upstream server). */
export interface ToolSource {
  readonly tools: readonly ToolDefinition[];
}

export interface McpDeps {
  readonly config: McpConfig;
  /** Every tool the endpoints serve, indexed once here. */
  readonly tools: readonly ToolDefinition[];
  /** Rate limits and credits around each call. */
  readonly metering: Metering;
  /** Token verification and the grants' revocation state. */
  readonly tokens: Pick<OAuth, 'accessTokens' | 'grants'>;
  /** Where the per-client connection log goes. */
  readonly clientEvents: OAuth['clientEvents'];
  readonly workspaces: { getWorkspaceBySlug(slug: string): Promise<Workspace | undefined> };
  /** Tools per `tools/list` page (default 100). */
  readonly toolsPageSize?: number;
}

export interface McpModule {
  readonly registry: ToolRegistry;
  readonly bearer: BearerVerifier;
  /** The endpoint table's MCP routes (served by both HTTP adapters). */
  readonly routes: readonly EndpointRoute<unknown>[];
  /** A workspace hook: forget what the cache remembers of a slug (a "no such workspace" in particular). */
  onWorkspaceCreated(workspace: Pick<Workspace, 'slug'>): Promise<void>;
}

export function mcpModule(deps: McpDeps): McpModule {
  // Compiles every tool's schemas: a bad tool definition fails here, at start.
  const registry = buildToolRegistry([...deps.tools], { pageSize: deps.toolsPageSize });
  const bearer = bearerVerifier(deps.tokens);
  const workspaces = workspaceCache((slug) => deps.workspaces.getWorkspaceBySlug(slug));
  const dispatch = createDispatcher({ registry, metering: deps.metering, connectionLog: connectionLog(deps.clientEvents) });
  const routes = mcpRoutes({ config: deps.config, bearer, workspaces, dispatch, origins: originPolicy(deps.config), urlsFor: endpointUrlBuilder(deps.config.publicUrl) });
  return {
    registry,
    bearer,
    routes: routes as EndpointRoute<unknown>[],
    onWorkspaceCreated: async (ws) => workspaces.forget(ws.slug),
  };
}
