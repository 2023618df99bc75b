// An upstream's discovered tools as Tollgate tools: prices and scopes from the gateway's tables (default scope from
// `readOnlyHint`: read → mcp:read, else mcp:write), and a handler that forwards the call with the caller's forwarded
// JWT (never the client's token) and turns every failure into a tool error naming the upstream and the request id.
import { ToolError, type ToolContext, type ToolDefinition, type ToolResult, type ToolScope } from '../tools/tool-types.ts';
import { isObject } from '../util/json.ts';
import type { StoredTool } from './gateway-store.ts';
import { UpstreamError, UpstreamRpcError } from './upstream-errors.ts';
import type { LiveUpstream } from './live-upstream.ts';

/** On the workspace endpoints an upstream's tools are namespaced: `<upstream>__<tool>`. */
export const workspaceToolName = (upstream: string, tool: string): string => `${upstream}__${tool}`;

export function scopeOf(tool: StoredTool): ToolScope {
  if (tool.scope) return tool.scope;
  return tool.definition.annotations?.readOnlyHint === true ? 'mcp:read' : 'mcp:write';
}

export function priceOf(tool: StoredTool, defaultPrice: number): number {
  return tool.price ?? defaultPrice;
}

/** What a client reads when a call cannot reach the upstream or it answers badly. */
export function failureText(upstream: string, err: unknown, requestId: string): string {
  if (err instanceof UpstreamRpcError) return `The upstream ${upstream} refused the call: ${err.message} (request id ${requestId})`;
  if (err instanceof UpstreamError) return `The upstream ${upstream} ${err.message}; request id ${requestId}`;
  return `The upstream ${upstream} failed unexpectedly; request id ${requestId}`;
}

function checkResult(result: Record<string, unknown>): ToolResult {
  if (!Array.isArray(result.content) || !result.content.every((c) => isObject(c) && typeof c.type === 'string')) throw new UpstreamError('answered tools/call with something that is not a tool result');
  if (result.structuredContent !== undefined && !isObject(result.structuredContent)) throw new UpstreamError('answered tools/call with structured content that is not an object');
  const out: ToolResult = { content: result.content as ToolResult['content'] };
  if (result.structuredContent !== undefined) out.structuredContent = result.structuredContent as Record<string, unknown>;
  if (result.isError === true) out.isError = true;
  return out;
}

export function toolDefinition(live: LiveUpstream, tool: StoredTool, name: string): ToolDefinition {
  const d = tool.definition;
  const upstream = live.upstream.name;
  const def: ToolDefinition = {
    name,
    description: typeof d.description === 'string' ? d.description : '',
    inputSchema: isObject(d.inputSchema) ? d.inputSchema : { type: 'object' },
    scope: scopeOf(tool),
    cost: priceOf(tool, live.upstream.defaultPrice),
    cancellable: true,
    async handler(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolResult> {
      try {
        return await live.call('tools/call', { name: d.name, arguments: args }, ctx, checkResult);
      } catch (err) {
        throw new ToolError(failureText(upstream, err, ctx.requestId));
      }
    },
  };
  if (typeof d.title === 'string') def.title = d.title;
  if (isObject(d.outputSchema)) def.outputSchema = d.outputSchema;
  if (isObject(d.annotations)) def.annotations = d.annotations;
  return def;
}
