// The MCP resource server's endpoints: the Streamable HTTP endpoints (`/<workspace>/mcp`, optional `/mcp`) and their
// RFC 9728 protected-resource metadata, written once against the HTTP-neutral endpoint shape (src/http/endpoint.ts)
// and served by both HTTP adapters.
import type { Workspace } from '../accounts/index.ts';
import { errorAnswer, jsonAnswer, TOO_LARGE, type EndpointRoute, type HttpAnswer, type HttpRequest } from '../http/endpoint.ts';
import { isJsonMediaType } from '../util/media-type.ts';
import { bearerChallenge, type BearerVerifier } from './bearer.ts';
import type { WorkspaceCache } from './workspace-cache.ts';
import type { Answer, Dispatcher } from './dispatcher.ts';
import { allowedRequestHeaders, corsHeaders, type OriginPolicy } from './origins.ts';
import { PRM_PREFIX, protectedResourceMetadata, type EndpointUrls } from './protected-resource.ts';
import { errorMessage, invalidRequest } from './jsonrpc.ts';
import type { CallContext } from './outcome.ts';
import type { McpConfig } from './index.ts';

type Headers = Record<string, string>;

const ENDPOINT_METHODS = 'GET, POST, DELETE, OPTIONS';

/** What the client accepts: JSON (also for a missing or wildcard Accept), else an SSE stream, else nothing we offer. */
function responseFormat(accept: string | undefined): 'json' | 'sse' | undefined {
  if (!accept) return 'json';
  const a = accept.toLowerCase();
  if (a.includes('application/json') || a.includes('*/*') || a.includes('application/*')) return 'json';
  return a.includes('text/event-stream') ? 'sse' : undefined;
}

/** Whether the client takes an SSE answer (Streamable HTTP clients send `application/json, text/event-stream`). */
function acceptsSse(accept: string | undefined): boolean {
  return accept !== undefined && accept.toLowerCase().includes('text/event-stream');
}

/** Chunks pushed as they come, read once as an async iterable; `end` pushes a last one and closes. */
function eventQueue() {
  const chunks: string[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  return {
    push(chunk: string) {
      if (ended) return;
      chunks.push(chunk);
      notify();
    },
    end(last: string) {
      if (ended) return;
      if (last) chunks.push(last);
      ended = true;
      notify();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (chunks.length) yield chunks.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/** OAuth 2.1 §5.2: access tokens are not accepted in the query string (they would land in logs and histories). */
function queryCarriesToken(url: string): boolean {
  const q = url.indexOf('?');
  return q !== -1 && new URLSearchParams(url.slice(q + 1)).has('access_token');
}

export interface McpEndpointParts {
  readonly config: McpConfig;
  readonly bearer: BearerVerifier;
  readonly workspaces: WorkspaceCache;
  readonly dispatch: Dispatcher;
  readonly origins: OriginPolicy;
  readonly urlsFor: (slug: string | undefined, trailingSlash: boolean, server?: string) => EndpointUrls;
  /** The dispatcher of an upstream server's own endpoint (`/<ws>/mcp/<server>`), when one by that name is served. */
  readonly serverDispatch?: (server: string) => Dispatcher | undefined;
}

type EndpointMatch = { slug: string | undefined; trailingSlash: boolean; server?: string };

/** The MCP endpoints and their metadata, as routes of the endpoint table. */
export function mcpRoutes(parts: McpEndpointParts): EndpointRoute<EndpointMatch>[] {
  const { config, bearer, workspaces, dispatch, origins, urlsFor } = parts;
  const serverDispatch = parts.serverDispatch ?? (() => undefined);
  const serverNotFound = (req: HttpRequest, server: string, headers?: Headers) => oauthError(req, 404, 'not_found', `no MCP server named ${server.slice(0, 40)} here`, headers);
  // --- answers (plain values: both HTTP adapters send them)

  const json = jsonAnswer;
  const oauthError = (req: { requestId: string }, status: number, error: string, description: string, headers?: Headers): HttpAnswer => errorAnswer(req.requestId, status, error, description, headers);

  const workspaceNotFound = (req: HttpRequest, slug: string, headers?: Headers) => oauthError(req, 404, 'not_found', `workspace not found: ${slug.slice(0, 60)}`, headers);

  /** RFC 6750 §3 + RFC 9728 §5.1: every refusal names where the protected-resource metadata is. */
  function unauthorized(req: HttpRequest, urls: EndpointUrls, cors: Headers | undefined, description?: string): HttpAnswer {
    if (description === undefined) {
      // RFC 6750 §3.1: a request without credentials gets a challenge with no error code.
      return oauthError(req, 401, 'authorization_required', 'This MCP endpoint needs an OAuth access token: see resource_metadata in WWW-Authenticate', {
        ...cors,
        'WWW-Authenticate': bearerChallenge(urls.metadataUrl),
      });
    }
    req.logger.info({ requestId: req.requestId, path: req.path, reason: description }, 'mcp bearer token refused');
    return oauthError(req, 401, 'invalid_token', `The access token is not valid here (${description})`, {
      ...cors,
      'WWW-Authenticate': bearerChallenge(urls.metadataUrl, { code: 'invalid_token', description }),
    });
  }

  function respond(answer: Answer, format: 'json' | 'sse', cors: Headers | undefined): HttpAnswer {
    const headers = cors || answer.headers ? { ...cors, ...answer.headers } : undefined;
    if (answer.body === undefined) return { status: answer.status, headers: headers ?? {}, body: null };
    if (format === 'sse' && answer.status === 200) {
      // Streamable HTTP: a client that accepts only text/event-stream gets the answer as one SSE message.
      return { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...headers }, body: `event: message\ndata: ${answer.body}\n\n` };
    }
    return json(answer.status, answer.body, headers);
  }

  // --- the MCP endpoint, as a checklist

  async function serveEndpoint(req: HttpRequest, slug: string | undefined, trailingSlash: boolean, server?: string): Promise<HttpAnswer> {
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
    // An upstream server's own endpoint must be one the gateway serves now.
    const endpointDispatch = server === undefined ? dispatch : serverDispatch(server);
    if (!endpointDispatch) return serverNotFound(req, server!, cors);
    const urls = urlsFor(slug, trailingSlash, server);

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

    req.workspace = workspace.slug;
    req.clientId = token.clientId;

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
    if (!isJsonMediaType(req.header('content-type'))) {
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
      logger: req.logger,
      tags: req,
    };
    // A call that asks for progress, from a client that takes SSE, may get its notifications/progress relayed:
    // the answer becomes an SSE stream at the first notification (until then a refusal is still a plain answer).
    if (body.includes('"progressToken"') && acceptsSse(req.header('accept'))) return streamWithProgress(endpointDispatch, body, callCtx, format, cors);
    const answer = await endpointDispatch(body, callCtx);
    return respond(answer, format, cors);
  }

  async function streamWithProgress(run: Dispatcher, body: string, callCtx: CallContext, format: 'json' | 'sse', cors: Headers | undefined): Promise<HttpAnswer> {
    const queue = eventQueue();
    let first!: () => void;
    const firstProgress = new Promise<undefined>((resolve) => (first = () => resolve(undefined)));
    const ctx: CallContext = { ...callCtx, progress: (params) => {
      queue.push(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params })}\n\n`);
      first();
    } };
    const answered = run(body, ctx);
    const done = await Promise.race([answered, firstProgress]);
    if (done) return respond(done, format, cors);
    answered.then(
      (answer) => queue.end(answer.body ? `event: message\ndata: ${answer.body}\n\n` : ''),
      (err) => {
        callCtx.logger.error({ requestId: callCtx.requestId, err: { message: (err as Error)?.message } }, 'streamed mcp request failed');
        queue.end(`event: message\ndata: ${errorMessage(null, { code: -32603, message: `Internal error; quote request id ${callCtx.requestId}` })}\n\n`);
      },
    );
    return { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', ...cors }, body: null, stream: queue };
  }

  function preflight(req: Pick<HttpRequest, 'header'>, origin: string | undefined, methods: string, anyOrigin = false): HttpAnswer {
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

  async function serveMetadata(req: HttpRequest, slug: string | undefined, trailingSlash: boolean, server?: string): Promise<HttpAnswer> {
    const cors = { 'Access-Control-Allow-Origin': '*' };
    if (req.method === 'OPTIONS') return preflight(req, req.header('origin'), 'GET, OPTIONS', true);
    let workspace: Workspace | undefined;
    if (slug !== undefined) {
      workspace = await workspaces.get(slug);
      if (!workspace) return workspaceNotFound(req, slug, cors);
    }
    if (server !== undefined && !serverDispatch(server)) return serverNotFound(req, server, cors);
    const urls = urlsFor(slug, trailingSlash, server);
    return json(200, protectedResourceMetadata(config, urls.resourceUsed, workspace, server), { ...cors, 'Cache-Control': 'public, max-age=300' });
  }

  // --- the routes (no redirects anywhere: `/mcp` and `/mcp/` are both served as they are)

  const ENDPOINT_PATH = /^\/([^/]+)\/mcp(\/?)$/;
  const METADATA_PATH = /^\/\.well-known\/oauth-protected-resource\/([^/]+)\/mcp(\/?)$/;
  // An upstream server's own endpoint (the gateway): `/<ws>/mcp/<server>`.
  const SERVER_PATH = /^\/([^/]+)\/mcp\/([a-z][a-z0-9-]{0,31})(\/?)$/;
  const SERVER_METADATA_PATH = /^\/\.well-known\/oauth-protected-resource\/([^/]+)\/mcp\/([a-z][a-z0-9-]{0,31})(\/?)$/;
  const serverSegment = (m: RegExpExecArray | null): EndpointMatch | undefined => (m ? { slug: m[1], server: m[2], trailingSlash: m[3] === '/' } : undefined);
  const INSERTED_METADATA_PATH = /^\/([^/]+)\/\.well-known\/oauth-protected-resource$/;
  const shared = (path: string, at: string): EndpointMatch | undefined =>
    config.sharedEndpoint && (path === at || path === `${at}/`) ? { slug: undefined, trailingSlash: path.length === at.length + 1 } : undefined;
  const segment = (m: RegExpExecArray | null): EndpointMatch | undefined => (m ? { slug: m[1], trailingSlash: m[2] === '/' } : undefined);

  return [
    {
      name: 'mcp endpoint',
      template: '/:workspace/mcp',
      // Every method: authentication comes before method dispatch (DESIGN: GET and DELETE are challenged like POST).
      methods: 'any',
      match: (path) => shared(path, '/mcp') ?? segment(ENDPOINT_PATH.exec(path)) ?? serverSegment(SERVER_PATH.exec(path)),
      serve: (req, m) => serveEndpoint(req, m.slug, m.trailingSlash, m.server),
    },
    {
      name: 'protected-resource metadata',
      template: '/.well-known/oauth-protected-resource/:workspace/mcp',
      methods: ['GET', 'OPTIONS'],
      match: (path) =>
        shared(path, `${PRM_PREFIX}/mcp`) ??
        segment(METADATA_PATH.exec(path)) ??
        serverSegment(SERVER_METADATA_PATH.exec(path)) ??
        // RFC 8414-style insertion after the workspace segment, which some clients try.
        (INSERTED_METADATA_PATH.exec(path) ? { slug: INSERTED_METADATA_PATH.exec(path)![1], trailingSlash: false } : undefined),
      serve: (req, m) => serveMetadata(req, m.slug, m.trailingSlash, m.server),
    },
  ];
}
