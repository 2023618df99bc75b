// The gateway's tables: the upstream MCP servers, their discovered tools with prices and scopes, and one version
// counter that every change bumps (what other processes watch to reload).
export interface GatewayUpstreamsTable {
  name: string;
  transport: 'http' | 'stdio';
  /** Streamable HTTP URL (http), or null. */
  url: string | null;
  /** The program and its arguments as a JSON array (stdio), or null. */
  command: string | null;
  /** JSON `{ name: value }` of static request headers (http), sealed like the signing keys. */
  headers_sealed: string | null;
  /** JSON `{ K: V }` of environment variables (stdio), sealed. */
  env_sealed: string | null;
  /** Credits per call for tools without a price of their own. */
  default_price: number;
  /** Per-call timeout; null means the configured default. */
  timeout_ms: number | null;
  created_at: number;
  updated_at: number;
}

export interface GatewayToolsTable {
  upstream: string;
  name: string;
  /** The tool as the upstream listed it (JSON), as last discovered. */
  definition: string;
  /** Credits per call; null means the upstream's default price. */
  price: number | null;
  /** `mcp:read` / `mcp:write`; null means from `readOnlyHint`. */
  scope: string | null;
  discovered_at: number;
}

export interface GatewayStateTable {
  id: number;
  version: number;
}

export interface GatewayTables {
  gateway_upstreams: GatewayUpstreamsTable;
  gateway_tools: GatewayToolsTable;
  gateway_state: GatewayStateTable;
}
