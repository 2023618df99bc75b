// The MCP resource server's HTTP routes: the Streamable HTTP endpoints (`/<workspace>/mcp`, optional `/mcp`) and their
// RFC 9728 protected-resource metadata. They are mounted before the app-wide middleware, with a lean request context
// of their own (see http-context.ts), because they are the hot path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../http/env.ts';
import type { Services } from '../services.ts';
import type { Workspace } from '../accounts/index.ts';
import { buildToolRegistry, type ToolRegistry } from './registry.ts';
import { bearerChallenge, bearerVerifier } from './bearer.ts';
import { workspaceCache } from './workspace-cache.ts';
import { connectionLog } from './connection-log.ts';
import { createDispatcher, type Answer } from './dispatcher.ts';
import { allowedRequestHeaders, corsHeaders, originPolicy } from './origins.ts';
import { endpointUrlBuilder, PRM_PREFIX, protectedResourceMetadata, type EndpointUrls } from './protected-resource.ts';
import { logUnhandled, SERVER_ERROR_DESCRIPTION } from '../http/errors.ts';
import type { EndpointResponse } from '../http/fast-path.ts';
import { mcpRequestContext, nodeFastPath, type EndpointMatch, type EndpointRequest } from './http-context.ts';
import { readBodyWithin, TOO_LARGE } from './body.ts';
import { errorMessage, invalidRequest } from './jsonrpc.ts';
import type { CallContext } from './outcome.ts';

export interface McpOptions {
  /** Tools per `tools/list` page (default 100). */
  toolsPageSize?: number;
}

export interface McpRuntime {
  readonly registry: ToolRegistry;
  readonly bearer: ReturnType<typeof bearerVerifier>;
  /**
   * For a node:http server in front of the app: answers a POST to an MCP endpoint without going through Hono and
   * returns true, or returns false and leaves the request to the app. Same checks, same answers, same log line.
   */
  readonly handleNodeRequest: (req: IncomingMessage, res: ServerResponse) => boolean;
}

type Ctx = Context<AppEnv>;
type Headers = Record<string, string>;

const JSON_TYPE = 'application/json';
const ENDPOINT_METHODS = 'GET, POST, DELETE, OPTIONS';

/** What the client accepts: JSON (also for a missing or wildcard Accept), else an SSE stream, else nothing we offer. */
function responseFormat(accept: string | undefined): 'json' | 'sse' | undefined {
  if (!accept) return 'json';
  const a = accept.toLowerCase();
  if (a.includes('application/json') || a.includes('*/*') || a.includes('application/*')) return 'json';
  return a.includes('text/event-stream') ? 'sse' : undefined;
}

function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const essence = value.split(';')[0].trim().toLowerCase();
  return essence === JSON_TYPE || essence.endsWith('+json');
}

/** OAuth 2.1 §5.2: access tokens are not accepted in the query string (they would land in logs and histories). */
function queryCarriesToken(url: string): boolean {
  const q = url.indexOf('?');
  return q !== -1 && new URLSearchParams(url.slice(q + 1)).has('access_token');
}

export function mountMcp(app: Hono<AppEnv>, services: Services, options: McpOptions = {}): McpRuntime {
  const { config, logger } = services;
  const registry = buildToolRegistry(services.tools, { pageSize: options.toolsPageSize });
  const bearer = bearerVerifier(services.oauth);
  const workspaces = workspaceCache((slug) => services.accounts.workspaces.getWorkspaceBySlug(slug));
  services.workspaceHooks.push(async (ws) => workspaces.forget(ws.slug));
  const log = connectionLog(services.oauth.clientEvents);
  const dispatch = createDispatcher({ registry, metering: () => services.metering, connectionLog: log });
  const origins = originPolicy(config);
  const urlsFor = endpointUrlBuilder(config.publicUrl);
  const context = mcpRequestContext(logger);

  // --- responses (plain values: the Hono routes and the node:http fast path both send them)

  function json(status: number, body: unknown, headers?: Headers): EndpointResponse {
    return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  }

  function oauthError(req: { requestId: string }, status: number, error: string, description: string, headers?: Headers): EndpointResponse {
    return json(status, { error, error_description: description, request_id: req.requestId }, headers);
  }

  const workspaceNotFound = (req: EndpointRequest, slug: string, headers?: Headers) => oauthError(req, 404, 'not_found', `workspace not found: ${slug.slice(0, 60)}`, headers);

  /** RFC 6750 §3 + RFC 9728 §5.1: every refusal names where the protected-resource metadata is. */
  function unauthorized(req: EndpointRequest, urls: EndpointUrls, cors: Headers | undefined, description?: string): EndpointResponse {
    if (description === undefined) {
      // RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
      return oauthError(req, 401, 'authorization_required', 'This MCP endpoint needs an OAuth access token: see resource_metadata in WWW-Authenticate', {
        ...cors,
        'WWW-Authenticate': bearerChallenge(urls.metadataUrl),
      });
    }
    logger.info({ requestId: req.requestId, path: req.path, reason: description }, 'mcp bearer token refused');
    return oauthError(req, 401, 'invalid_token', `The access token is not valid here (${description})`, {
      ...cors,
      'WWW-Authenticate': bearerChallenge(urls.metadataUrl, { code: 'invalid_token', description }),
    });
  }

  function respond(answer: Answer, format: 'json' | 'sse', cors: Headers | undefined): EndpointResponse {
    const headers = cors || answer.headers ? { ...cors, ...answer.headers } : undefined;
    if (answer.body === undefined) return { status: answer.status, headers: headers ?? {}, body: null };
    if (format === 'sse' && answer.status === 200) {
      // Streamable HTTP: a client that accepts only text/event-stream gets the answer as one SSE message.
      return { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...headers }, body: `event: message\ndata: ${answer.body}\n\n` };
    }
    return json(answer.status, answer.body, headers);
  }

  // --- the MCP endpoint, as a checklist

  async function serveEndpoint(req: EndpointRequest, slug: string | undefined, trailingSlash: boolean): Promise<EndpointResponse> {
    const method = req.method;
    const origin = req.header('origin');

    // 1. DNS-rebinding protection. MCP transports: "Servers MUST validate the Origin header"; invalid → 403.
    if (!origins.allows(origin)) return oauthError(req, 403, 'forbidden_origin', `Requests from the origin ${origin!.slice(0, 100)} are not allowed`);
    const cors = origin === undefined ? undefined : corsHeaders(origin);

    // 2. CORS preflight (carries no credentials, so it is answered before authentication).
    if (method === 'OPTIONS') return preflight(req, origin, ENDPOINT_METHODS);

    // 3. The endpoint: a workspace's must exist; the shared one takes its workspace from the token.
    let workspace: Workspace | undefined;
    if (slug !== undefined) {
      workspace = await workspaces.get(slug);
      if (!workspace) return workspaceNotFound(req, slug, cors);
    }
    const urls = urlsFor(slug, trailingSlash);

    // 4. Tokens travel in the Authorization header only.
    if (queryCarriesToken(req.url)) {
      return oauthError(req, 400, 'invalid_request', 'Send the access token in the Authorization header, not in the URL', {
        ...cors,
        'WWW-Authenticate': bearerChallenge(urls.metadataUrl, { code: 'invalid_request', description: 'access tokens are accepted in the Authorization header only' }),
      });
    }

    // 5. Authenticate, before looking at the method: GET and DELETE are challenged exactly like POST.
    const auth = await bearer.verify(req.header('authorization'), urls.resource);
    if (!auth.ok) return unauthorized(req, urls, cors, auth.anonymous ? undefined : auth.description);
    const token = auth.token;

    // 6. The token's workspace. RFC 8707: the audience already binds it to this URL; the workspace claim must agree.
    if (workspace === undefined) {
      workspace = await workspaces.get(token.workspaceSlug);
      if (!workspace || workspace.id !== token.workspaceId) return unauthorized(req, urls, cors, 'the workspace of this token no longer exists');
    } else if (token.workspaceId !== workspace.id) {
      return unauthorized(req, urls, cors, 'issued for another workspace');
    }

    // 7. A token without any MCP scope can do nothing here: ask for one (RFC 6750 §3.1 insufficient_scope).
    if (!token.scopes.includes('mcp:read') && !token.scopes.includes('mcp:write')) {
      return oauthError(req, 403, 'insufficient_scope', 'This endpoint needs the mcp:read or mcp:write scope', {
        ...cors,
        'WWW-Authenticate': bearerChallenge(urls.metadataUrl, { code: 'insufficient_scope', scope: 'mcp:read mcp:write', description: 'mcp:read or mcp:write needed' }),
      });
    }

    // 8. Only POST carries JSON-RPC: no server-initiated stream (GET) and no session to end (DELETE).
    if (method !== 'POST') {
      return json(405, errorMessage(null, invalidRequest(`${method} is not supported: this stateless endpoint takes JSON-RPC over POST`)), { ...cors, Allow: 'POST, OPTIONS' });
    }

    // 9. Content negotiation.
    if (!isJsonContentType(req.header('content-type'))) {
      return json(415, errorMessage(null, invalidRequest('Content-Type must be application/json')), cors);
    }
    const format = responseFormat(req.header('accept'));
    if (!format) return json(406, errorMessage(null, invalidRequest('Accept must include application/json or text/event-stream')), cors);

    // 10. Read the body, within the size limit.
    const body = await req.readBody(config.bodyLimitBytes);
    if (body === TOO_LARGE) return oauthError(req, 413, 'request_too_large', `The request body exceeds ${config.bodyLimitBytes} bytes`, cors);

    // 11. Dispatch the JSON-RPC message(s).
    const callCtx: CallContext = {
      token,
      workspace,
      requestId: req.requestId,
      metadataUrl: urls.metadataUrl,
      header: req.header,
      logger,
    };
    const answer = await dispatch(body, callCtx);
    return respond(answer, format, cors);
  }

  function preflight(req: Pick<EndpointRequest, 'header'>, origin: string | undefined, methods: string, anyOrigin = false): EndpointResponse {
    if (origin === undefined) return { status: 204, headers: { Allow: methods }, body: null };
    return {
      status: 204,
      headers: {
        'Access-Control-Allow-Origin': anyOrigin ? '*' : origin,
        'Access-Control-Allow-Methods': methods,
        'Access-Control-Allow-Headers': allowedRequestHeaders(req.header('access-control-request-headers')),
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      },
      body: null,
    };
  }

  // --- RFC 9728 protected-resource metadata (public; any origin may read it)

  async function serveMetadata(req: EndpointRequest, slug: string | undefined, trailingSlash: boolean): Promise<EndpointResponse> {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (req.method === 'OPTIONS') return preflight(req, req.header('origin'), 'GET, OPTIONS', true);
    let workspace: Workspace | undefined;
    if (slug !== undefined) {
      workspace = await workspaces.get(slug);
      if (!workspace) return workspaceNotFound(req, slug, cors);
    }
    const urls = urlsFor(slug, trailingSlash);
    return json(200, protectedResourceMetadata(config, urls.resourceUsed, workspace), { ...cors, 'Cache-Control': 'public, max-age=300' });
  }

  // --- the two HTTP layers

  /** The Hono side: the request as the endpoint sees it, and its answer as a Response. */
  const fromHono = (c: Ctx): EndpointRequest => ({
    method: c.req.method,
    url: c.req.url,
    path: c.req.path,
    requestId: c.get('requestId'),
    header: (name) => c.req.header(name),
    readBody: (max) => readBodyWithin(c, max),
  });
  const toHono = (c: Ctx, r: EndpointResponse): Response => c.newResponse(r.body, r.status as 200, r.headers);

  /** Which endpoint a path is, exactly as the routes below match it (a percent-free path). */
  const ENDPOINT_PATH = /^\/([^/]+)\/mcp(\/?)$/;
  function matchEndpoint(path: string): EndpointMatch | undefined {
    if (config.sharedEndpoint && (path === '/mcp' || path === '/mcp/')) return { slug: undefined, trailingSlash: path.length === 5 };
    const m = ENDPOINT_PATH.exec(path);
    return m ? { slug: m[1], trailingSlash: m[2] === '/' } : undefined;
  }
  const handleNodeRequest = nodeFastPath(
    logger,
    config,
    matchEndpoint,
    (req, m) => serveEndpoint(req, m.slug, m.trailingSlash),
    // As the app's error handler answers (src/http/middleware.ts), for an error no step above turned into an answer.
    (requestId, err) => {
      logUnhandled(logger, requestId, err);
      return oauthError({ requestId }, 500, 'server_error', SERVER_ERROR_DESCRIPTION);
    },
  );

  // --- routes (no redirects anywhere: `/mcp` and `/mcp/` are both served as they are)

  for (const slash of [false, true]) {
    const s = slash ? '/' : '';
    app.all(`/:ws/mcp${s}`, context, async (c) => toHono(c, await serveEndpoint(fromHono(c), c.req.param('ws'), slash)));
    app.on(['GET', 'OPTIONS'], `${PRM_PREFIX}/:ws/mcp${s}`, context, async (c) => toHono(c, await serveMetadata(fromHono(c), c.req.param('ws'), slash)));
    if (config.sharedEndpoint) {
      app.all(`/mcp${s}`, context, async (c) => toHono(c, await serveEndpoint(fromHono(c), undefined, slash)));
      app.on(['GET', 'OPTIONS'], `${PRM_PREFIX}/mcp${s}`, context, async (c) => toHono(c, await serveMetadata(fromHono(c), undefined, slash)));
    }
  }
  app.on(['GET', 'OPTIONS'], `/:ws${PRM_PREFIX}`, context, async (c) => toHono(c, await serveMetadata(fromHono(c), c.req.param('ws'), false)));

  return { registry, bearer, handleNodeRequest };
}
