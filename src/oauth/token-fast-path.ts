// The token endpoint on `startServer`'s node:http fast path (see src/http/fast-path.ts): every client refreshes its
// tokens hourly, so POST /token (and, in per-workspace issuer mode, POST /<ws>/token) is answered without Hono's
// web-standard objects, router and middleware — with the same answers, headers and log line as the Hono route
// (src/oauth/routes.ts; test/oauth-token-fast-path.test.ts compares them).
import type { Services } from '../services.ts';
import { HttpError, logUnhandled, SERVER_ERROR_DESCRIPTION } from '../http/errors.ts';
import { nodePostHandler, readNodeBody, type EndpointResponse, type NodeHandler } from '../http/fast-path.ts';
import { CORS_HEADERS } from './cors.ts';
import { issuerForPath, parseOAuthForm } from './endpoint-helpers.ts';
import { NO_STORE } from './errors.ts';
import { exchangeToken } from './token.ts';

const WORKSPACE_TOKEN_PATH = /^\/([^/]+)\/token$/;

// What the Hono route's answers carry: c.json's content type, then (oauthCors) the CORS headers.
const OK_HEADERS = { 'content-type': 'application/json', ...NO_STORE, ...CORS_HEADERS };

/** The app's error handler's answer (src/http/middleware.ts errorHandler, src/http/errors.ts jsonError), with CORS. */
function errorAnswer(requestId: string, status: number, error: string, description: string, headers: Record<string, string> = {}): EndpointResponse {
  return {
    status,
    headers: { ...headers, 'content-type': 'application/json', ...CORS_HEADERS },
    body: JSON.stringify({ error, error_description: description, request_id: requestId }),
  };
}

export function tokenFastPath(services: Services): NodeHandler {
  const { config, logger } = services;
  return nodePostHandler<{ slug: string | undefined }>(
    logger,
    config.bodyLimitBytes,
    (path) => {
      if (path === '/token') return { slug: undefined };
      const m = config.issuerMode === 'workspace' ? WORKSPACE_TOKEN_PATH.exec(path) : null;
      return m ? { slug: m[1] } : undefined;
    },
    async (post, { slug }) => {
      const ctx = await issuerForPath(services, slug);
      if (!ctx) throw new HttpError(404, 'not_found', `No route for POST ${post.path}`);
      const form = parseOAuthForm(post.header('content-type'), await readNodeBody(post.req, { stripBom: true }));
      const body = await exchangeToken(services, ctx, { form, header: post.header, requestId: post.requestId });
      return { status: 200, headers: OK_HEADERS, body: JSON.stringify(body) };
    },
    (requestId, err) => {
      if (err instanceof HttpError) return errorAnswer(requestId, err.status, err.error, err.message, err.headers);
      logUnhandled(logger, requestId, err);
      return errorAnswer(requestId, 500, 'server_error', SERVER_ERROR_DESCRIPTION);
    },
  );
}
