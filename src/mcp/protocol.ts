// MCP protocol vocabulary shared by the dispatcher and the HTTP layer: revisions, header names, `_meta` keys and
// JSON-RPC error codes. Nothing here does I/O.

/** Revisions with the `initialize` handshake (2025 era), newest first. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
/** Stateless revisions: protocol version in every request's `_meta`, no `initialize` (2026 era). */
export const MODERN_VERSIONS = ['2026-07-28'] as const;
export const ALL_VERSIONS: readonly string[] = [...MODERN_VERSIONS, ...LEGACY_VERSIONS];
export const LATEST_LEGACY_VERSION = LEGACY_VERSIONS[0];
/** MCP 2025-06-18 Streamable HTTP: with no MCP-Protocol-Version header, assume 2025-03-26. */
export const DEFAULT_LEGACY_VERSION = '2025-03-26';

export const isLegacyVersion = (v: string): boolean => (LEGACY_VERSIONS as readonly string[]).includes(v);
export const isModernVersion = (v: string): boolean => (MODERN_VERSIONS as readonly string[]).includes(v);
export const isKnownVersion = (v: string): boolean => ALL_VERSIONS.includes(v);

/** Only 2025-03-26 allows JSON-RPC batches; 2025-06-18 removed them, and 2026-07-28 never had them. */
export const allowsBatch = (version: string): boolean => version === '2025-03-26';

// Request `_meta` keys of the 2026-07-28 per-request envelope.
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

// HTTP headers (lower-case: how node delivers them).
export const H_PROTOCOL_VERSION = 'mcp-protocol-version';
export const H_METHOD = 'mcp-method';
export const H_NAME = 'mcp-name';
export const H_PARAM_PREFIX = 'mcp-param-';

/** JSON-RPC 2.0 and MCP error codes. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** MCP 2026-07-28 (SEP-2243): a request header disagrees with the body. */
  HeaderMismatch: -32020,
  /** MCP 2026-07-28: processing needs a client capability the request did not declare. */
  MissingRequiredClientCapability: -32021,
  /** MCP 2026-07-28: the requested protocol version is not served here. */
  UnsupportedProtocolVersion: -32022,
} as const;

/** The methods whose `Mcp-Name` header mirrors a body field (SEP-2243). */
export const MCP_NAME_SOURCE: Readonly<Record<string, string>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

export const SERVER_INFO = { name: 'tollgate', title: 'Tollgate', version: '0.1.0' } as const;
