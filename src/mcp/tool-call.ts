// `tools/call`, as a checklist: find the tool, check the token's scope, check the arguments, meter, run, record.
import type { Metering } from '../tools/metering.ts';
import type { ToolRegistry, RegisteredTool } from './registry.ts';
import type { ConnectionLog } from './connection-log.ts';
import { structuredJsonOf, ToolError, type ToolContext, type ToolResult } from '../tools/tool-types.ts';
import { isObject } from '../util/json.ts';
import { isTemporarilyUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../util/unavailable.ts';
import { errorMessage, invalidParams, rpcError, type Params } from './jsonrpc.ts';
import { describeArgumentErrors } from './argument-errors.ts';
import { bearerChallenge } from './bearer.ts';
import { decodeHeaderValue, headerValue } from './era.ts';
import { ErrorCode, META_SERVER_INFO, SERVER_INFO } from './protocol.ts';
import { rateLimitHeaders, type CallContext, type Outcome } from './outcome.ts';
import { countCall, timeHandler, UNKNOWN_TOOL, type CallOutcome } from './metrics.ts';
import { outgoingTraceHeaders, tracing, withSpan } from '../observability/tracing.ts';

export interface ToolCallDeps {
  /** Calls in flight by `<grant>\n<JSON-RPC id>`, so that the client's notifications/cancelled can abort them. */
  readonly inFlight?: Map<string, AbortController>;
  readonly registry: ToolRegistry;
  /** Rate limits and credits around each call (the credits module's implementation, or freeMetering). */
  readonly metering: Metering;
  readonly connectionLog: ConnectionLog;
}


const inBand = (error: ReturnType<typeof rpcError>): Outcome => ({ kind: 'error', error, status: 200 });

/** Serialises a tool result; 2026-07-28 results also carry resultType and the server's identity. */
export function toolResultJson(result: ToolResult, modern: boolean): string {
  const structured = structuredJsonOf(result);
  if (structured !== undefined) {
    // Byte for byte what JSON.stringify gives below, with the structured content serialised once (tool-types.ts).
    const body = `"content":[{"type":"text","text":${JSON.stringify(structured)}}],"structuredContent":${structured}`;
    return modern ? `{"resultType":"complete",${body},"_meta":${SERVER_INFO_META}}` : `{${body}}`;
  }
  if (!modern) return JSON.stringify(result);
  const meta = (result as { _meta?: Record<string, unknown> })._meta;
  return JSON.stringify({ resultType: 'complete', ...result, _meta: { ...meta, [META_SERVER_INFO]: SERVER_INFO } });
}

const SERVER_INFO_META = JSON.stringify({ [META_SERVER_INFO]: SERVER_INFO });

const errorResult = (text: string, structuredContent?: Record<string, unknown>): ToolResult =>
  structuredContent ? { content: [{ type: 'text', text }], structuredContent, isError: true } : { content: [{ type: 'text', text }], isError: true };

function refuseScope(ctx: CallContext, id: string | number, tool: RegisteredTool): Outcome {
  const needed = tool.def.scope;
  // Ask for what the token has plus what this tool needs, so a step-up does not lose the scopes already granted.
  const scope = [...new Set([...ctx.token.scopes.filter((s) => s.startsWith('mcp:')), needed])].join(' ');
  const description = `The tool ${tool.def.name} needs the ${needed} scope`;
  return {
    kind: 'refuse',
    status: 403,
    // RFC 6750 §3.1: insufficient_scope → 403, with the scope needed.
    headers: { 'WWW-Authenticate': bearerChallenge(ctx.metadataUrl, { code: 'insufficient_scope', scope, description }) },
    body: JSON.stringify({ error: 'insufficient_scope', error_description: description, scope, request_id: ctx.requestId, id }),
  };
}

/** SEP-2243: each argument a tool mirrors in an `Mcp-Param-*` header must match it (2026-07-28 requests only). */
function checkParamHeaders(tool: RegisteredTool, args: Record<string, unknown>, ctx: CallContext): Outcome | undefined {
  for (const { property, header } of tool.headerParams) {
    const value = args[property];
    if (value === undefined || value === null) continue;
    const expected = typeof value === 'string' ? value : JSON.stringify(value);
    const raw = headerValue(ctx.header, header);
    const decoded = raw === undefined ? undefined : decodeHeaderValue(raw);
    // Numbers compare as numbers (`1.50` mirrors 1.5).
    const matches = decoded !== undefined && (typeof value === 'number' ? decoded.trim() !== '' && Number(decoded) === value : decoded === expected);
    if (raw === undefined || !matches) {
      const why = raw === undefined ? `the ${header} header is required when arguments.${property} is given` : decoded === undefined ? `the ${header} header carries invalid base64` : `the ${header} header does not match arguments.${property}`;
      return { kind: 'error', status: 400, error: rpcError(ErrorCode.HeaderMismatch, `Header mismatch: ${why}`, { mismatch: { header: raw ?? '(missing)', body: expected.slice(0, 200) } }) };
    }
  }
  return undefined;
}

/** Counts a call refused for its arguments in usage, then answers it; a failure to count never loses the answer. */
async function countBadArguments(metering: Metering, tool: RegisteredTool, toolCtx: ToolContext, ctx: CallContext, answer: Outcome): Promise<Outcome> {
  try {
    await metering.refuse(tool.def, toolCtx, 'bad_arguments');
  } catch (err) {
    ctx.logger.error({ requestId: ctx.requestId, tool: tool.def.name, err: { message: (err as Error).message } }, 'counting a refused call failed');
  }
  return answer;
}

/** Counts the call in the metrics, then hands its outcome on. */
function counted(tool: string, ctx: CallContext, revision: string, label: CallOutcome, outcome: Outcome): Outcome {
  countCall(tool, ctx.workspace.slug, label, revision);
  return outcome;
}

/**
 * A dependency (the database, in practice) that cannot answer for the moment: the whole request is answered 503 with
 * Retry-After, as every other request during a database outage is (src/http/frame.ts), so the client retries it
 * instead of showing the model an error.
 */
function unavailable(ctx: CallContext, id: string | number, name: string, err: unknown, what: string): Outcome {
  ctx.logger.warn({ requestId: ctx.requestId, tool: name, reason: { sqlstate: (err as { code?: string }).code, message: (err as Error).message } }, `${what} unavailable; answered 503`);
  return {
    kind: 'refuse',
    status: 503,
    headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
    body: errorMessage(id, rpcError(-32000, `Temporarily unavailable: retry after ${UNAVAILABLE_RETRY_AFTER_SECONDS} s (request id ${ctx.requestId})`, { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS })),
  };
}

/** Books a call's outcome again after 0.5, 1, 2 … 32 s while the database is unavailable; logs the outcome. */
function retryBooking(booking: () => Promise<void>, ctx: CallContext, name: string, attempt: number): void {
  const delay = 500 * 2 ** attempt;
  setTimeout(() => {
    booking().then(
      () => ctx.logger.info({ requestId: ctx.requestId, tool: name, attempts: attempt + 2 }, 'failed call booked once the database answered'),
      (err: unknown) => {
        if (isTemporarilyUnavailable(err) && attempt < 6) return retryBooking(booking, ctx, name, attempt + 1);
        ctx.logger.error({ requestId: ctx.requestId, tool: name, err: { message: (err as Error)?.message } }, 'metering finish failed');
      },
    );
  }, delay).unref();
}

/** OpenTelemetry attributes of a tool call's span (made only while tracing is on). */
function toolSpanAttributes(name: string, ctx: CallContext): () => Record<string, string> {
  return () => ({ 'mcp.tool.name': name, 'tollgate.workspace': ctx.workspace.slug, 'oauth.client_id': ctx.token.clientId, 'tollgate.request_id': ctx.requestId });
}

export async function callTool(deps: ToolCallDeps, id: string | number, params: Params | undefined, ctx: CallContext, modern: boolean, revision = ''): Promise<Outcome> {
  // 1. Which tool. MCP: an unknown tool is -32602.
  const name = params?.name;
  if (typeof name !== 'string') return counted(UNKNOWN_TOOL, ctx, revision, 'unknown_tool', inBand(invalidParams('params.name must be the name of a tool')));
  const tool = deps.registry.get(name);
  if (!tool) {
    deps.connectionLog.error(ctx.token, ctx.requestId, `tools/call: unknown tool ${name.slice(0, 100)}`);
    return counted(UNKNOWN_TOOL, ctx, revision, 'unknown_tool', inBand(invalidParams(`unknown tool: ${name.slice(0, 128)}`)));
  }
  if (ctx.tags) ctx.tags.tool = name;

  // 2. Scope: the token must carry the tool's scope.
  if (!ctx.token.scopes.includes(tool.def.scope)) {
    deps.connectionLog.error(ctx.token, ctx.requestId, `insufficient_scope: ${name} needs ${tool.def.scope}`);
    return counted(name, ctx, revision, 'insufficient_scope', refuseScope(ctx, id, tool));
  }

  // 3. Arguments: an object, matching the tool's schema. MCP 2025-11-25: validation failures are tool execution
  //    errors (isError), so the model can correct itself; nothing is charged, but the call is counted.
  const toolCtx: ToolContext = {
    userId: ctx.token.userId,
    workspaceId: ctx.workspace.id,
    workspaceSlug: ctx.workspace.slug,
    clientId: ctx.token.clientId,
    grantId: ctx.token.grantId,
    scopes: ctx.token.scopes,
    requestId: ctx.requestId,
    // W3C Trace Context: the caller's trace (or this process's span, when tracing is on) goes on to upstreams.
    traceHeaders: () => outgoingTraceHeaders(ctx.header),
  };
  // MCP progress: a request's `_meta.progressToken` asks for notifications/progress, relayed on the SSE answer.
  const progressToken = isObject(params?._meta) ? params._meta.progressToken : undefined;
  if (ctx.progress && (typeof progressToken === 'string' || typeof progressToken === 'number')) {
    const relay = ctx.progress;
    toolCtx.progress = (update) => relay({ progressToken, ...update });
  }
  const metering = deps.metering;
  const args = params?.arguments === undefined ? {} : params.arguments;
  if (!isObject(args)) return counted(name, ctx, revision, 'bad_arguments', await countBadArguments(metering, tool, toolCtx, ctx, inBand(invalidParams('params.arguments must be an object'))));
  if (modern && tool.headerParams.length) {
    const refused = checkParamHeaders(tool, args, ctx);
    if (refused) return counted(name, ctx, revision, 'bad_arguments', await countBadArguments(metering, tool, toolCtx, ctx, refused));
  }
  if (!tool.validate(args)) {
    const text = `Invalid arguments for ${name}: ${describeArgumentErrors(tool.validate.errors)}`;
    return counted(name, ctx, revision, 'bad_arguments', await countBadArguments(metering, tool, toolCtx, ctx, { kind: 'result', json: toolResultJson(errorResult(text), modern) }));
  }

  // 4. Metering: rate limits and credits, before the handler runs.
  let decision;
  try {
    decision = await metering.begin(tool.def, toolCtx);
  } catch (err) {
    // Nothing was charged and the handler has not run: a database that is restarting is a 503 to retry, not a bug.
    if (isTemporarilyUnavailable(err)) return counted(name, ctx, revision, 'unavailable', unavailable(ctx, id, name, err, 'metering'));
    ctx.logger.error({ requestId: ctx.requestId, tool: name, err: { message: (err as Error).message, stack: (err as Error).stack } }, 'metering failed');
    return counted(name, ctx, revision, 'metering_error', inBand(rpcError(ErrorCode.InternalError, `Internal error: metering is unavailable; quote request id ${ctx.requestId}`)));
  }
  if (decision.kind === 'rate_limited') {
    deps.connectionLog.error(ctx.token, ctx.requestId, `rate limited: ${name}, retry after ${decision.retryAfterSeconds} s`);
    const retryAfter = String(Math.max(1, Math.ceil(decision.retryAfterSeconds)));
    return counted(name, ctx, revision, 'rate_limited', {
      kind: 'refuse',
      status: 429,
      headers: { 'Retry-After': retryAfter, ...rateLimitHeaders(decision.rateLimit) },
      body: errorMessage(id, rpcError(-32000, `Rate limit exceeded: retry after ${retryAfter} s`, { retryAfterSeconds: Number(retryAfter), limit: decision.rateLimit.limit, policy: decision.rateLimit.policy })),
    });
  }
  if (decision.kind === 'insufficient_credits') {
    // DESIGN: out of credits is answered inside MCP (never 401/403, which make clients re-authorize).
    deps.connectionLog.error(ctx.token, ctx.requestId, `insufficient credits: ${name} costs ${decision.cost}, balance ${decision.balance}`);
    const text = `Not enough credits: ${name} costs ${decision.cost} credit${decision.cost === 1 ? '' : 's'} and the workspace "${ctx.workspace.slug}" has ${decision.balance}. Buy more credits at ${decision.buyUrl}`;
    return counted(name, ctx, revision, 'insufficient_credits', { kind: 'result', json: toolResultJson(errorResult(text, { error: 'insufficient_credits', balance: decision.balance, cost: decision.cost }), modern) });
  }
  if (decision.kind === 'suspended') {
    // Answered inside MCP like running out of credits: 401/403 would make clients re-authorize (DESIGN).
    deps.connectionLog.error(ctx.token, ctx.requestId, `workspace suspended: ${name} refused`);
    const text = `The workspace "${ctx.workspace.slug}" is suspended: its tools cannot be called. Contact the workspace's operator.`;
    return { kind: 'result', json: toolResultJson(errorResult(text, { error: 'workspace_suspended' }), modern) };
  }

  // 5. Run the handler.
  const started = performance.now();
  let result: ToolResult;
  let ok: boolean;
  /** The handler lost a dependency (the database) it needs: answered 503, not as the tool's own error. */
  let lostDependency: unknown;
  const flightKey = deps.inFlight && tool.def.cancellable ? `${ctx.token.grantId}\n${JSON.stringify(id)}` : undefined;
  if (flightKey) {
    const controller = new AbortController();
    deps.inFlight!.set(flightKey, controller);
    toolCtx.signal = controller.signal;
  }
  try {
    // Tracing off: the handler is called as it is, with no closure or span name made.
    result = tracing.active ? await withSpan(`tools/call ${name}`, toolSpanAttributes(name, ctx), () => tool.def.handler(args, toolCtx)) : await tool.def.handler(args, toolCtx);
    ok = result.isError !== true;
  } catch (err) {
    ok = false;
    if (err instanceof ToolError) {
      result = errorResult(err.message, err.structuredContent);
    } else if (isTemporarilyUnavailable(err)) {
      // A connection failure (refused, reset, terminated; PostgreSQL classes 08 and 57P0x) is the database going
      // away under the tool, not the tool failing: a tool's own errors (ToolError, or anything else) stay in-band.
      lostDependency = err;
      result = errorResult('unavailable');
    } else {
      ctx.logger.error({ requestId: ctx.requestId, tool: name, err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'tool handler failed');
      deps.connectionLog.error(ctx.token, ctx.requestId, `tool ${name} failed unexpectedly`);
      result = errorResult(`The tool ${name} failed unexpectedly; quote request id ${ctx.requestId} when reporting it.`);
    }
  }

  if (flightKey) deps.inFlight!.delete(flightKey);
  // 6. Record the outcome (refunds a failed call when configured). A failure here never loses the answer.
  const durationMs = performance.now() - started;
  timeHandler(name, durationMs);
  countCall(name, ctx.workspace.slug, lostDependency !== undefined ? 'unavailable' : ok ? 'ok' : 'tool_error', revision);
  // A call answered 503 is booked as failed and refunded, whatever TOLLGATE_REFUND_ON_ERROR says, so that the
  // client's retry is not charged twice. The database that failed the tool may fail this too: then it is tried again
  // in the background until the database answers (about a minute at most), and the answer does not wait for it.
  const booking = () => metering.finish(decision.charge, tool.def, toolCtx, { ok, durationMs, unavailable: lostDependency !== undefined });
  try {
    await booking();
  } catch (err) {
    if (isTemporarilyUnavailable(err)) retryBooking(booking, ctx, name, 0);
    else ctx.logger.error({ requestId: ctx.requestId, tool: name, err: { message: (err as Error).message } }, 'metering finish failed');
  }
  if (lostDependency !== undefined) return unavailable(ctx, id, name, lostDependency, 'a dependency of the tool');
  return { kind: 'result', json: toolResultJson(result, modern), headers: decision.rateLimit ? rateLimitHeaders(decision.rateLimit) : undefined };
}
