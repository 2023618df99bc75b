// The seam between the MCP dispatcher and the credits module: before a tool's handler runs, `begin` checks the
// rate limits and deducts the tool's cost atomically; after, `finish` records the outcome (refunding a failed call
// when configured). The MCP module owns this interface; the credits module implements it.
import type { ToolContext, ToolDefinition } from './tool-types.ts';

/**
 * IETF RateLimit headers state (draft-ietf-httpapi-ratelimit-headers). The dispatcher renders it as
 * `RateLimit-Policy: "<policy>";q=<limit>[;w=<windowSeconds>]` and `RateLimit: "<policy>";r=<remaining>;t=<resetSeconds>`
 * (on 429 answers and on successful calls), plus `Retry-After` on 429.
 */
export interface RateLimitState {
  /** A short policy name (a token, e.g. `workspace`); rendered as a quoted string. */
  policy: string;
  limit: number;
  remaining: number;
  resetSeconds: number;
  /** The policy's window, when it has one. */
  windowSeconds?: number;
}

export type MeteringDecision =
  | { kind: 'ok'; charge: Charge; rateLimit?: RateLimitState }
  | { kind: 'rate_limited'; retryAfterSeconds: number; rateLimit: RateLimitState }
  | { kind: 'insufficient_credits'; balance: number; cost: number; buyUrl: string }
  /** The workspace is suspended by its operator: no tool call runs. */
  | { kind: 'suspended' };

/** An opaque handle from `begin` that `finish` receives back. */
export interface Charge {
  readonly id: string;
  readonly cost: number;
}

/** Why a call to a known tool was refused before `begin` (the only such refusal that is counted). */
export type RefusalReason = 'bad_arguments';

/**
 * How the dispatcher (src/mcp/tool-call.ts) uses it: `begin` runs once per `tools/call`, after the token's scope and
 * the arguments have been checked (a refused or invalid call is never charged), and is read from `services.metering`
 * on every call. `rate_limited` becomes HTTP 429; `insufficient_credits` an in-band tool error; `ok` runs the handler
 * and then awaits `finish` exactly once (`ok: false` when the handler threw or returned `isError`). A `begin` that
 * throws is answered with HTTP 503 and Retry-After when the database is unavailable, otherwise with JSON-RPC -32603,
 * and nothing runs; a `finish` that throws is logged (retried in the background while the database is unavailable),
 * the answer still sent.
 * A call whose arguments are refused is not begun; `refuse` is awaited once instead, so that usage counts it (a throw
 * is logged, the refusal still sent). Unknown tools and scope refusals reach neither.
 */
export interface Metering {
  begin(tool: ToolDefinition, ctx: ToolContext): Promise<MeteringDecision>;
  /**
   * `unavailable`: the call was answered 503 (a dependency of the tool went away), so the client will send it again:
   * it is refunded whatever the refund setting, or the retry would pay twice.
   */
  finish(charge: Charge, tool: ToolDefinition, ctx: ToolContext, outcome: { ok: boolean; durationMs: number; unavailable?: boolean }): Promise<void>;
  refuse(tool: ToolDefinition, ctx: ToolContext, reason: RefusalReason): Promise<void>;
}

/** Charges nothing and limits nothing: what the dispatcher uses when no credits module is wired in. */
export const freeMetering: Metering = {
  begin: async (tool) => ({ kind: 'ok', charge: { id: '', cost: tool.cost } }),
  finish: async () => {},
  refuse: async () => {},
};
