// MCP metrics: tool calls by tool, workspace (the N busiest, the rest `other`), outcome and protocol revision,
// and how long the handlers ran. Tool names come from the registry (an unknown name is `(unknown)`), revisions from
// the era routing (only supported ones get here), outcomes from the fixed list below: every label is bounded.
import { counter, histogram } from '../observability/metrics.ts';
import { workspaceLabel } from '../observability/labels.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

export type CallOutcome =
  | 'ok'
  | 'tool_error'
  | 'unknown_tool'
  | 'insufficient_scope'
  | 'bad_arguments'
  | 'rate_limited'
  | 'insufficient_credits'
  | 'metering_error'
  /** A dependency (the database) could not answer, in metering or in the handler: answered 503 with Retry-After. */
  | 'unavailable';

const calls = counter('tollgate_mcp_tool_calls_total', 'MCP tools/call requests by tool, workspace, outcome and protocol revision.', ['tool', 'workspace', 'outcome', 'revision']);
const duration = histogram('tollgate_mcp_tool_duration_seconds', 'How long tool handlers ran (metering excluded), by tool.', ['tool']);

export const UNKNOWN_TOOL = '(unknown)';

export function countCall(tool: string, workspaceSlug: string, outcome: CallOutcome, revision: string): void {
  calls.child(tool, workspaceLabel(workspaceSlug), outcome, revision).inc();
  if (outcome === 'rate_limited') countRateLimited('tool_call');
}

export function timeHandler(tool: string, ms: number): void {
  duration.child(tool).observe(ms / 1000);
}

export const mcpMetrics = { calls, duration };
