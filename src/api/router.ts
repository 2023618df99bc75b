// /api/v1/*: every request is answered here, by a checklist — route → authenticate the key → rate limit → scope →
// validate path, query and body against the operation's schemas → idempotency key → handle → answer. Anything that
// goes wrong is an RFC 9457 problem; a route the table does not document is 404 (405 for another method).
import type { Context, Hono } from 'hono';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { AppEnv } from '../http/env.ts';
import { logUnavailable, logUnhandled, SERVER_ERROR_DESCRIPTION, UNAVAILABLE_DESCRIPTION } from '../http/errors.ts';
import { isTemporarilyUnavailable, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../util/unavailable.ts';
import { isJsonMediaType } from '../util/media-type.ts';
import type { Workspace } from '../accounts/index.ts';
import type { AuditContext } from '../audit/index.ts';
import { clientIp } from '../oauth/index.ts';
import type { ApiDeps } from './deps.ts';
import { parseIdempotencyKey } from './idempotency.ts';
import type { ApiKey } from './keys.ts';
import type { Operation, OperationResult } from './operation.ts';
import { ApiProblem, PROBLEM_TYPE, problemBody, type ProblemCode } from './problem.ts';
import { compile, createApiAjv, describeErrors } from './validator.ts';
import { apiRateLimiter } from './rate-limit.ts';
import { countRateLimited } from '../observability/shared-metrics.ts';

export const API_PREFIX = '/api/v1';
const CHALLENGE = 'Bearer realm="tollgate-api"';

interface CompiledOperation {
  op: Operation;
  pattern: RegExp;
  names: string[];
  params?: ValidateFunction;
  query?: ValidateFunction;
  body?: ValidateFunction;
}

function compilePath(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const re = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { pattern: new RegExp(`^${re}$`), names };
}

export interface ApiRouterOptions {
  /** The public pages (the OpenAPI document, the reference page), answered without a key. */
  publicRoutes: Record<string, (c: Context<AppEnv>) => Response | Promise<Response>>;
}

export function mountApiRouter(app: Hono<AppEnv>, deps: ApiDeps, operations: readonly Operation[], options: ApiRouterOptions): void {
  const paramsAjv = createApiAjv({ coerce: true });
  const bodyAjv = createApiAjv({ coerce: false });
  const table: CompiledOperation[] = operations.map((op) => ({
    op,
    ...compilePath(op.path),
    params: op.params ? compile(paramsAjv, { type: 'object', additionalProperties: false, required: Object.keys(op.params), properties: op.params }) : undefined,
    query: compile(paramsAjv, op.query ?? { type: 'object', additionalProperties: false, properties: {} }),
    body: op.body ? compile(bodyAjv, op.body) : undefined,
  }));
  const limiter = apiRateLimiter(deps.credits.limiter.backend, deps.config.apiRateLimitPerMinute);
  const docsUrl = `${deps.config.publicUrl}${API_PREFIX}/docs`;

  const problem = (c: Context<AppEnv>, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response => {
    const body = problemBody(docsUrl, code, detail, c.get('requestId'), c.req.path, extra);
    return new Response(JSON.stringify(body), { status: body.status, headers: { 'Content-Type': PROBLEM_TYPE, 'Cache-Control': 'no-store', ...headers } });
  };

  /** RFC 6750 §2.1: the key in the Authorization header only (never a query parameter or a form field). */
  async function authenticate(c: Context<AppEnv>): Promise<ApiKey | Response> {
    const header = c.req.header('authorization');
    if (!header) return problem(c, 'unauthorized', 'Send an API key: Authorization: Bearer tgk_…', {}, { 'WWW-Authenticate': CHALLENGE });
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
    const invalid = (detail: string) => problem(c, 'invalid_token', detail, {}, { 'WWW-Authenticate': `${CHALLENGE}, error="invalid_token"` });
    if (!m) return invalid('The Authorization header must be "Bearer <API key>"');
    // OAuth access tokens (JWTs) are for MCP endpoints; the management API takes API keys only.
    if (!m[1].startsWith('tgk_')) return invalid('Not an API key: OAuth access tokens are not accepted by the management API');
    const verified = await deps.keys.verifyKey(m[1]);
    if (!verified.ok) return invalid(verified.reason === 'expired' ? 'This API key has expired' : verified.reason === 'revoked' ? 'This API key was revoked' : 'Unknown API key');
    return verified.key;
  }

  function validate(where: 'path' | 'query' | 'body', check: ValidateFunction | undefined, value: unknown): void {
    if (check && !check(value)) throw new ApiProblem('invalid_request', `The ${where === 'path' ? 'path' : where === 'query' ? 'query string' : 'body'} is not valid`, { extra: { errors: describeErrors(where, check.errors) } });
  }

  async function readBody(c: Context<AppEnv>): Promise<unknown> {
    if (!isJsonMediaType(c.req.header('content-type'))) throw new ApiProblem('unsupported_media_type', 'Send the body as application/json');
    const text = await c.req.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiProblem('invalid_request', 'The body is not valid JSON');
    }
  }

  function queryObject(c: Context<AppEnv>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, values] of Object.entries(c.req.queries())) {
      if (values.length > 1) throw new ApiProblem('invalid_request', `The query parameter "${name.slice(0, 40)}" is repeated`, { extra: { errors: [{ pointer: `/query/${name.slice(0, 40)}`, detail: 'is repeated' }] } });
      out[name] = values[0];
    }
    return out;
  }

  async function scopedWorkspace(key: ApiKey, slug: string | undefined): Promise<Workspace | undefined> {
    if (slug === undefined) return undefined;
    const ws = await deps.accounts.workspaces.getWorkspaceBySlug(slug);
    // A key for one workspace learns nothing about others: the same answer whether or not the workspace exists.
    if (key.workspaceId && ws?.id !== key.workspaceId) throw new ApiProblem('forbidden_workspace', 'This API key is for another workspace');
    if (!ws) throw new ApiProblem('not_found', `Workspace "${slug}" not found`);
    return ws;
  }

  function answer(c: Context<AppEnv>, result: OperationResult): Response {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...result.headers };
    if ('text' in result) return new Response(result.text, { status: result.status, headers: { 'Content-Type': result.contentType, ...headers } });
    return new Response(JSON.stringify(result.body), { status: result.status, headers: { 'Content-Type': 'application/json', ...headers } });
  }

  async function serve(c: Context<AppEnv>): Promise<Response> {
    const sub = c.req.path.slice(API_PREFIX.length) || '/';
    const publicRoute = options.publicRoutes[sub];
    if (publicRoute) return c.req.method === 'GET' || c.req.method === 'HEAD' ? publicRoute(c) : problem(c, 'method_not_allowed', `${c.req.method} is not allowed here`, {}, { Allow: 'GET, HEAD' });

    // 1. Route: only what the document describes.
    const matches = table.filter((t) => t.pattern.test(sub));
    if (!matches.length) return problem(c, 'not_found', `No operation at ${API_PREFIX}${sub.slice(0, 200)}; see ${API_PREFIX}/openapi.json`);
    const method = c.req.method.toLowerCase();
    const route = matches.find((t) => t.op.method === method);
    if (!route) return problem(c, 'method_not_allowed', `${c.req.method.slice(0, 10)} is not allowed here`, {}, { Allow: matches.map((t) => t.op.method.toUpperCase()).join(', ') });
    const { op } = route;

    // 2. Authenticate the key, then count the request against its rate limit.
    const key = await authenticate(c);
    if (key instanceof Response) return key;
    const limit = await limiter.take(key.id);
    if (!limit.allowed) {
      countRateLimited('api');
      return problem(c, 'rate_limited', `More than ${deps.config.apiRateLimitPerMinute} requests a minute with this key`, {}, { 'Retry-After': String(limit.retryAfterSeconds) });
    }
    deps.keys.touchKey(key.id);

    // 3. Scope: read keys read; deployment-wide operations need a key for every workspace.
    if (op.access === 'write' && key.access !== 'write') return problem(c, 'insufficient_scope', 'This API key is read-only');
    if (op.deploymentKeyOnly && key.workspaceId) return problem(c, 'insufficient_scope', 'This operation needs an API key for every workspace');

    // 4. Validate the inputs against the operation's schemas.
    const raw = route.pattern.exec(sub)!;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      try {
        params[name] = decodeURIComponent(raw[i + 1]);
      } catch {
        throw new ApiProblem('invalid_request', `The path parameter "${name}" is not valid percent-encoding`);
      }
    });
    validate('path', route.params, params);
    const query = queryObject(c);
    validate('query', route.query, query);
    const body = op.body ? await readBody(c) : undefined;
    validate('body', route.body, body);
    const idempotencyKey = parseIdempotencyKey(c.req.header('idempotency-key'));
    // Draft §2.7: an operation that requires the header answers 400 without it.
    if (op.idempotency === 'required' && idempotencyKey === undefined) throw new ApiProblem('idempotency_key_missing', 'This write needs an Idempotency-Key header (a new unique value per intended change)');
    const workspace = await scopedWorkspace(key, params.workspace);

    // 5. Handle: changes are recorded in the audit trail as the key's.
    const audit: AuditContext = {
      actor: { type: 'api_key', id: key.id, label: key.name },
      ip: clientIp(c, deps.config.trustedProxyHops),
      userAgent: c.req.header('user-agent')?.slice(0, 500) ?? null,
      requestId: c.get('requestId'),
    };
    const result = await op.handle({ params, query, body, key, workspace: workspace as Workspace, requestId: c.get('requestId'), audit, idempotencyKey });
    return answer(c, result);
  }

  app.all(`${API_PREFIX}/*`, async (c) => {
    try {
      return await serve(c);
    } catch (err) {
      if (err instanceof ApiProblem) return problem(c, err.code, err.message, err.extra, err.headers);
      // The database (or Redis) cannot answer for the moment: 503 with Retry-After, not a 500 (RFC 9110 §15.6.4).
      if (isTemporarilyUnavailable(err)) {
        logUnavailable(c.get('log'), c.get('requestId'), c.req.path, err);
        return problem(c, 'temporarily_unavailable', UNAVAILABLE_DESCRIPTION, {}, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_SECONDS) });
      }
      logUnhandled(c.get('log'), c.get('requestId'), err);
      return problem(c, 'server_error', SERVER_ERROR_DESCRIPTION);
    }
  });
  app.all(API_PREFIX, (c) => problem(c, 'not_found', `See ${API_PREFIX}/openapi.json`));
}
