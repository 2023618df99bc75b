// A tool source whose tools change while the process runs (the gateway's upstream servers): the MCP module serves
// `tools()` on the workspace endpoints beside the built-in tools, and each of `servers()` on a resource URL of its
// own (`/<workspace>/mcp/<name>`), rebuilding its pre-serialised listings whenever `subscribe`'s listener fires.
// The MCP module owns this contract; the gateway implements it.
import type { ToolContext, ToolDefinition } from './tool-types.ts';

/** A JSON-RPC error that a method handler answers with (in-band, HTTP 200). */
export class MethodError extends Error {
  readonly code: number;
  readonly data?: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'MethodError';
    this.code = code;
    this.data = data;
  }
}

/** Methods besides tools (`resources/*`, `prompts/*`, `completion/complete`) that a served server passes through. */
export interface PassThroughMethods {
  /** MCP capabilities to advertise besides `tools` (only those the server really has). */
  readonly capabilities: Readonly<Record<string, unknown>>;
  /** Whether `method` is handled here. */
  handles(method: string): boolean;
  /** The JSON-RPC result object; throws MethodError for an in-band error. */
  call(method: string, params: Record<string, unknown> | undefined, ctx: ToolContext): Promise<Record<string, unknown>>;
}

/** One server served on its own resource URL. */
export interface ServedServer {
  readonly name: string;
  /** What `initialize` / `server/discover` tell the client about it. */
  readonly instructions?: string;
  readonly tools: readonly ToolDefinition[];
  readonly methods?: PassThroughMethods;
}

export interface LiveToolSource {
  /** The tools for the workspace endpoints, now. */
  tools(): readonly ToolDefinition[];
  /** The servers with a resource URL of their own, by name, now. */
  servers(): ReadonlyMap<string, ServedServer>;
  /** Called (synchronously, no arguments) after `tools()` or `servers()` changed. */
  subscribe(listener: () => void): void;
}
