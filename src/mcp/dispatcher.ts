// The JSON-RPC dispatcher behind POST /<workspace>/mcp. Stateless: every request carries what it needs (a token,
// and for 2026-07-28 its `_meta` envelope), so any process can answer any request and no session is kept.
import { isObject } from '../util/json.ts';
import type { ToolRegistry } from './registry.ts';
import {
  classifyMessage, errorMessage, invalidParams, invalidRequest, methodNotFound, parseError, resultMessage,
  type Message, type Params,
} from './jsonrpc.ts';
import { headerValue, routeEra, unsupportedVersion, type EraRoute } from './era.ts';
import {
  ALL_VERSIONS, DEFAULT_LEGACY_VERSION, H_PROTOCOL_VERSION, LATEST_LEGACY_VERSION, META_PROTOCOL_VERSION, META_SERVER_INFO,
  MODERN_VERSIONS, SERVER_INFO, allowsBatch, isLegacyVersion, isModernVersion,
} from './protocol.ts';
import { callTool, type ToolCallDeps } from './tool-call.ts';
import type { CallContext, Outcome } from './outcome.ts';
import { MethodError, type PassThroughMethods } from '../tools/tool-source.ts';
import { rpcError } from './jsonrpc.ts';

/** An HTTP answer: status, JSON body (if any) and extra headers. */
export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface DispatcherOptions {
  /** How long a 2026-07-28 client may cache `server/discover` (`ttlMs`). */
  discoverTtlMs?: number;
  /** Methods besides tools that this endpoint passes through (an upstream's resources and prompts). */
  methods?: PassThroughMethods;
  /** Replaces the workspace instructions of `initialize` / `server/discover`. */
  instructions?: string;
}

type Incoming = Extract<Message, { kind: 'request' | 'notification' }>;

const LEGACY_CAPABILITIES = { tools: { listChanged: false } };

function instructionsFor(ws: CallContext['workspace']): string {
  return `Tools for the workspace "${ws.name}" (${ws.slug}). Tool calls may cost credits; a tool's description says what it does.`;
}

export function createDispatcher(deps: ToolCallDeps & { registry: ToolRegistry }, options: DispatcherOptions = {}) {
  const discoverTtlMs = options.discoverTtlMs ?? 60_000;
  const serverInfoMeta = { [META_SERVER_INFO]: SERVER_INFO };
  const passThrough = options.methods;
  // Advertise only what this endpoint really serves: tools, plus what its pass-through methods have.
  const legacyCapabilities = passThrough ? { ...passThrough.capabilities, ...LEGACY_CAPABILITIES } : LEGACY_CAPABILITIES;
  const modernCapabilities = passThrough ? { ...passThrough.capabilities, tools: {} } : { tools: {} };
  const instructions = (ws: CallContext['workspace']) => options.instructions ?? instructionsFor(ws);

  // --- 2025 era

  function initialize(params: Params | undefined, ctx: CallContext): Outcome {
    const requested = params?.protocolVersion;
    if (typeof requested !== 'string') return { kind: 'error', status: 200, error: invalidParams('params.protocolVersion must be a string') };
    // MCP lifecycle: answer the requested version when supported, otherwise the latest one we support.
    const protocolVersion = isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION;
    const result = { protocolVersion, capabilities: legacyCapabilities, serverInfo: SERVER_INFO, instructions: instructions(ctx.workspace) };
    return { kind: 'result', json: JSON.stringify(result) };
  }

  // --- 2026 era

  function discover(ctx: CallContext): Outcome {
    const result = {
      resultType: 'complete',
      supportedVersions: MODERN_VERSIONS,
      capabilities: modernCapabilities,
      serverInfo: SERVER_INFO,
      instructions: instructions(ctx.workspace),
      ttlMs: discoverTtlMs,
      cacheScope: 'private',
      _meta: serverInfoMeta,
    };
    return { kind: 'result', json: JSON.stringify(result) };
  }

  // --- both eras

  function listTools(params: Params | undefined, ctx: CallContext, modern: boolean): Outcome {
    const cursor = params?.cursor;
    if (cursor !== undefined && typeof cursor !== 'string') return { kind: 'error', status: 200, error: invalidParams('params.cursor must be a string') };
    const page = deps.registry.listPage(ctx.token.scopes, cursor, modern);
    return page.ok ? { kind: 'result', json: page.json } : { kind: 'error', status: 200, error: invalidParams(page.reason) };
  }

  /** An upstream's resources/prompts method, passed through with the caller's identity. */
  async function passThroughCall(method: string, params: Params | undefined, ctx: CallContext, modern: boolean): Promise<Outcome> {
    const toolCtx = {
      userId: ctx.token.userId, workspaceId: ctx.workspace.id, workspaceSlug: ctx.workspace.slug, clientId: ctx.token.clientId,
      grantId: ctx.token.grantId, scopes: ctx.token.scopes, requestId: ctx.requestId,
    };
    try {
      const result = await passThrough!.call(method, params, toolCtx);
      return { kind: 'result', json: JSON.stringify(modern ? { resultType: 'complete', ...result, _meta: { ...(result._meta as object | undefined), ...serverInfoMeta } } : result) };
    } catch (err) {
      if (err instanceof MethodError) return { kind: 'error', status: 200, error: rpcError(err.code, err.message, err.data) };
      ctx.logger.error({ requestId: ctx.requestId, method: method.slice(0, 60), err: { message: (err as Error)?.message } }, 'pass-through method failed');
      return { kind: 'error', status: 200, error: rpcError(-32603, `Internal error in ${method.slice(0, 60)}; quote request id ${ctx.requestId}`) };
    }
  }

  async function handleMessage(msg: Incoming, route: Exclude<EraRoute, { era: 'reject' }>, ctx: CallContext): Promise<Outcome> {
    deps.connectionLog.firstCall(ctx.token, ctx.requestId, `${msg.method.slice(0, 60)} (protocol ${route.version})`);
    // Notifications (notifications/initialized, cancelled, …) need no answer: 202.
    if (msg.kind === 'notification') {
      // MCP cancellation: a call of the same grant still running in this process is aborted.
      const cancelled = msg.method === 'notifications/cancelled' ? msg.params?.requestId : undefined;
      if (cancelled !== undefined && deps.inFlight) deps.inFlight.get(`${ctx.token.grantId}\n${JSON.stringify(cancelled)}`)?.abort();
      return { kind: 'accepted' };
    }
    const modern = route.era === 'modern';
    switch (msg.method) {
      case 'tools/call':
        return callTool(deps, msg.id, msg.params, ctx, modern, route.version);
      case 'tools/list':
        return listTools(msg.params, ctx, modern);
    }
    if (passThrough?.handles(msg.method)) return passThroughCall(msg.method, msg.params, ctx, modern);
    if (modern) {
      if (msg.method === 'server/discover') return discover(ctx);
      // MCP 2026-07-28: a method the server does not implement (initialize and ping included) → 404 with -32601.
      return { kind: 'error', status: 404, error: methodNotFound(msg.method) };
    }
    if (msg.method === 'initialize') return initialize(msg.params, ctx);
    if (msg.method === 'ping') return { kind: 'result', json: '{}' };
    return { kind: 'error', status: 200, error: methodNotFound(msg.method) };
  }

  function toAnswer(outcome: Outcome, id: string | number | null): Answer {
    switch (outcome.kind) {
      case 'result':
        return { status: 200, body: resultMessage(id as string | number, outcome.json), headers: outcome.headers };
      case 'error':
        return { status: outcome.status, body: errorMessage(id, outcome.error) };
      case 'accepted':
        return { status: 202 };
      case 'refuse':
        return { status: outcome.status, body: outcome.body, headers: outcome.headers };
    }
  }

  /** JSON-RPC batches: 2025-03-26 only (2025-06-18 removed them; 2026-07-28 never had them). */
  async function handleBatch(elements: unknown[], ctx: CallContext): Promise<Answer> {
    if (elements.length === 0) return { status: 400, body: errorMessage(null, invalidRequest('an empty batch')) };
    const versionHeader = headerValue(ctx.header, H_PROTOCOL_VERSION);
    const claimsModern = elements.some((e) => isObject(e) && isObject(e.params) && isObject(e.params._meta) && META_PROTOCOL_VERSION in e.params._meta);
    if (claimsModern || (versionHeader !== undefined && isModernVersion(versionHeader))) {
      return { status: 400, body: errorMessage(null, invalidRequest(`JSON-RPC batches are not part of protocol revision ${MODERN_VERSIONS[0]}`)) };
    }
    const version = versionHeader ?? DEFAULT_LEGACY_VERSION;
    if (!isLegacyVersion(version)) return { status: 400, body: errorMessage(null, unsupportedVersion(version, ALL_VERSIONS)) };
    if (!allowsBatch(version)) return { status: 400, body: errorMessage(null, invalidRequest(`JSON-RPC batches are not supported in protocol revision ${version}`)) };

    const replies: string[] = [];
    const extraHeaders: Record<string, string> = {};
    for (const element of elements) {
      const msg = classifyMessage(element);
      if (msg.kind === 'response') continue;
      if (msg.kind === 'invalid') {
        replies.push(errorMessage(msg.id, invalidRequest(msg.reason)));
        continue;
      }
      // MCP 2025-03-26 lifecycle: "The initialization request MUST NOT be part of a JSON-RPC batch".
      if (msg.method === 'initialize') {
        if (msg.kind === 'request') replies.push(errorMessage(msg.id, invalidRequest('initialize must not be part of a batch')));
        continue;
      }
      const outcome = await handleMessage(msg, { era: 'legacy', version }, ctx);
      // A refusal (403, 429) is an HTTP answer for the whole request: the remaining elements are not run.
      if (outcome.kind === 'refuse') return toAnswer(outcome, null);
      if (outcome.kind === 'result' && outcome.headers) Object.assign(extraHeaders, outcome.headers);
      if (msg.kind === 'request' && outcome.kind !== 'accepted') replies.push(toAnswer(outcome, msg.id).body!);
    }
    if (replies.length === 0) return { status: 202 };
    return { status: 200, body: `[${replies.join(',')}]`, headers: extraHeaders };
  }

  /** Handles one POST body (already size-limited) from an authenticated caller. */
  return async function handlePost(body: string, ctx: CallContext): Promise<Answer> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { status: 400, body: errorMessage(null, parseError()) };
    }
    if (Array.isArray(parsed)) return handleBatch(parsed, ctx);
    const msg = classifyMessage(parsed);
    if (msg.kind === 'invalid') return { status: 400, body: errorMessage(msg.id, invalidRequest(msg.reason)) };
    // A posted JSON-RPC response: this server sends no requests, so there is nothing to match it to; accept it.
    if (msg.kind === 'response') return { status: 202 };
    const route = routeEra(msg, ctx.header);
    const id = msg.kind === 'request' ? msg.id : null;
    if (route.era === 'reject') {
      deps.connectionLog.error(ctx.token, ctx.requestId, `${msg.method.slice(0, 60)}: ${route.error.message.slice(0, 200)}`);
      return { status: route.status, body: errorMessage(id, route.error) };
    }
    return toAnswer(await handleMessage(msg, route, ctx), id);
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
