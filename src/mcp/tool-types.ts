// What a tool is. Tools are registered once at start; a request looks them up, it never rebuilds them.
export type ToolScope = 'mcp:read' | 'mcp:write';

/** Who is calling: filled from the verified access token and the request. */
export interface ToolContext {
  userId: string;
  workspaceId: string;
  workspaceSlug: string;
  clientId: string;
  grantId: string;
  scopes: readonly string[];
  requestId: string;
}

/** An MCP `CallToolResult`. */
export interface ToolResult {
  content: ({ type: 'text'; text: string } | { type: string; [k: string]: unknown })[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface ToolDefinition {
  name: string;
  title?: string;
  description: string;
  /** JSON Schema (draft 2020-12 subset) for `arguments`; an object schema. */
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  /** The scope a token needs to see and call the tool. */
  scope: ToolScope;
  /** Credits charged per call; 0 is free. */
  cost: number;
  annotations?: ToolAnnotations;
  handler(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult>;
}

/**
 * Thrown by a handler for a failure the caller should read (not found, duplicate, bad state): the dispatcher answers
 * a tool result with `isError: true` and this message, and the call counts as failed (refunded when configured).
 * Any other exception is answered with a generic message and logged.
 */
export class ToolError extends Error {
  readonly structuredContent?: Record<string, unknown>;
  constructor(message: string, structuredContent?: Record<string, unknown>) {
    super(message);
    this.name = 'ToolError';
    this.structuredContent = structuredContent;
  }
}
