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
  /** Set when the client asked for progress (`_meta.progressToken`) and can receive it (an SSE answer). */
  progress?: (update: { progress: number; total?: number; message?: string }) => void;
  /** Aborted when the client cancels the call (`notifications/cancelled` reaching this process). */
  signal?: AbortSignal;
  /** W3C trace context to send on a call this tool makes to another service (`traceparent`, `tracestate`). */
  traceHeaders?: () => Record<string, string>;
}

/** An MCP `CallToolResult`. */
export interface ToolResult {
  content: ({ type: 'text'; text: string } | { type: string; [k: string]: unknown })[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const STRUCTURED_JSON = Symbol('tollgate.structuredJson');

/**
 * The common result shape — one text item holding the structured content as JSON, plus that structured content —
 * with the JSON made once: the dispatcher reuses it rather than serialising the same content a second time. (The
 * result must not be changed afterwards.)
 */
export function structuredResult(structuredContent: Record<string, unknown>): ToolResult {
  const text = JSON.stringify(structuredContent);
  const result: ToolResult = { content: [{ type: 'text', text }], structuredContent };
  Object.defineProperty(result, STRUCTURED_JSON, { value: text });
  return result;
}

/** The JSON of a `structuredResult`'s content, when `result` is one and still has exactly that shape. */
export function structuredJsonOf(result: ToolResult): string | undefined {
  const text = (result as { [STRUCTURED_JSON]?: string })[STRUCTURED_JSON];
  if (text === undefined) return undefined;
  const keys = Object.keys(result);
  const item = result.content[0] as { type: string; text?: string };
  const intact = keys.length === 2 && keys[0] === 'content' && keys[1] === 'structuredContent' && result.content.length === 1 && item.text === text && Object.keys(item).length === 2;
  return intact ? text : undefined;
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
  /** The handler honours `ctx.signal` (a client's notifications/cancelled aborts it): upstream tools. */
  cancellable?: boolean;
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
