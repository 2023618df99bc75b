// The seam between the MCP dispatcher and the credits module: before a tool's handler runs, `begin` checks the
// rate limits and deducts the tool's cost atomically; after, `finish` records the outcome (refunding a failed call
// when configured). The MCP module owns this interface; the credits module implements it.
import type { ToolContext, ToolDefinition } from './tool-types.ts';

/** IETF RateLimit headers state (draft-ietf-httpapi-ratelimit-headers). */
export interface RateLimitState {
  policy: string;
  limit: number;
  remaining: number;
  resetSeconds: number;
}

export type MeteringDecision =
  | { kind: 'ok'; charge: Charge; rateLimit?: RateLimitState }
  | { kind: 'rate_limited'; retryAfterSeconds: number; rateLimit: RateLimitState }
  | { kind: 'insufficient_credits'; balance: number; cost: number; buyUrl: string };

/** An opaque handle from `begin` that `finish` receives back. */
export interface Charge {
  readonly id: string;
  readonly cost: number;
}

export interface Metering {
  begin(tool: ToolDefinition, ctx: ToolContext): Promise<MeteringDecision>;
  finish(charge: Charge, tool: ToolDefinition, ctx: ToolContext, outcome: { ok: boolean; durationMs: number }): Promise<void>;
}

/** Charges nothing and limits nothing: what the dispatcher uses when no credits module is wired in. */
export const freeMetering: Metering = {
  begin: async (tool) => ({ kind: 'ok', charge: { id: '', cost: tool.cost } }),
  finish: async () => {},
};
