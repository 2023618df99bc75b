// The MCP module's public face: the resource server's endpoints over the tools it is given. It declares what it
// needs (McpDeps) and knows nothing of where the tools, the metering or the tokens come from.
import type { Config } from '../config/config.ts';
import type { Workspace } from '../accounts/index.ts';
import type { OAuth } from '../oauth/index.ts';
import type { EndpointRoute } from '../http/endpoint.ts';
import type { Metering } from '../tools/metering.ts';
import type { ToolDefinition } from '../tools/tool-types.ts';
import type { LiveToolSource } from '../tools/tool-source.ts';
import type { Logger } from '../util/logger.ts';
import { buildToolRegistry, type ToolRegistry } from './registry.ts';
import { bearerVerifier, type BearerVerifier } from './bearer.ts';
import { workspaceCache } from './workspace-cache.ts';
import { connectionLog } from './connection-log.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
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
  /** Tools that change at run time (the gateway's upstreams), served after `tools`, and servers with their own URL. */
  readonly liveTools?: LiveToolSource;
  /** Where a live tool that cannot be served (bad name or schema, duplicate) is reported. */
  readonly logger?: Pick<Logger, 'warn'>;
}

export interface McpModule {
  readonly registry: ToolRegistry;
  readonly bearer: BearerVerifier;
  /** The endpoint table's MCP routes (served by both HTTP adapters). */
  readonly routes: readonly EndpointRoute<unknown>[];
  /** A workspace hook: forget what the cache remembers of a slug (a "no such workspace" in particular). */
  onWorkspaceCreated(workspace: Pick<Workspace, 'slug'>): Promise<void>;
}

/** A registry that answers from the latest build: live tools replace it whole, so a request sees one consistent list. */
function switchableRegistry(initial: ToolRegistry) {
  let current = initial;
  const registry: ToolRegistry = {
    get size() {
      return current.size;
    },
    get: (name) => current.get(name),
    listPage: (scopes, cursor, modern) => current.listPage(scopes, cursor, modern),
    visible: (scopes) => current.visible(scopes),
  };
  return { registry, replace: (next: ToolRegistry) => void (current = next) };
}

export function mcpModule(deps: McpDeps): McpModule {
  // Compiles every tool's schemas: a bad tool definition fails here, at start.
  const builtIn = buildToolRegistry([...deps.tools], { pageSize: deps.toolsPageSize });
  const live = deps.liveTools;
  // A live tool that does not fit (a schema that does not compile, a name taken) is left out, not fatal.
  const onInvalid = (name: string, err: Error) => deps.logger?.warn({ tool: name, reason: err.message.slice(0, 300) }, 'an upstream tool cannot be served');
  const withLive = () => buildToolRegistry([...deps.tools, ...(live?.tools() ?? [])], { pageSize: deps.toolsPageSize, onInvalid });
  const switchable = switchableRegistry(live ? withLive() : builtIn);
  const registry = switchable.registry;
  const bearer = bearerVerifier(deps.tokens);
  const workspaces = workspaceCache((slug) => deps.workspaces.getWorkspaceBySlug(slug));
  const log = connectionLog(deps.clientEvents);
  // Only upstream calls (ToolDefinition.cancellable) can be cancelled mid-flight; built-in tools finish in milliseconds.
  const inFlight = live ? new Map<string, AbortController>() : undefined;
  const dispatch = createDispatcher({ registry, metering: deps.metering, connectionLog: log, inFlight });

  // Each live server's own endpoint: its tools under their own names, and its pass-through methods.
  let servers = new Map<string, Dispatcher>();
  const buildServers = () => {
    const next = new Map<string, Dispatcher>();
    for (const [name, server] of live?.servers() ?? []) {
      const serverRegistry = buildToolRegistry([...server.tools], { pageSize: deps.toolsPageSize, onInvalid });
      // Usage, the ledger and the dashboard's charts name a call the same on either URL: `<server>__<tool>`.
      const named = new Map<ToolDefinition, ToolDefinition>();
      const asCharged = (tool: ToolDefinition) => named.get(tool) ?? named.set(tool, { ...tool, name: `${name}__${tool.name}` }).get(tool)!;
      const metering: Metering = {
        begin: (tool, ctx) => deps.metering.begin(asCharged(tool), ctx),
        finish: (charge, tool, ctx, outcome) => deps.metering.finish(charge, asCharged(tool), ctx, outcome),
        refuse: (tool, ctx, reason) => deps.metering.refuse(asCharged(tool), ctx, reason),
      };
      next.set(name, createDispatcher({ registry: serverRegistry, metering, connectionLog: log, inFlight }, { methods: server.methods, instructions: server.instructions }));
    }
    servers = next;
  };
  if (live) {
    buildServers();
    live.subscribe(() => {
      switchable.replace(withLive());
      buildServers();
    });
  }
  const routes = mcpRoutes({
    config: deps.config, bearer, workspaces, dispatch, origins: originPolicy(deps.config), urlsFor: endpointUrlBuilder(deps.config.publicUrl),
    serverDispatch: (name) => servers.get(name),
  });
  return {
    registry,
    bearer,
    routes: routes as EndpointRoute<unknown>[],
    onWorkspaceCreated: async (ws) => workspaces.forget(ws.slug),
  };
}
