// Builds the HTTP app from the modules. Order matters: request context first, so every response (errors
// included) carries a request id; the body limit before any handler reads a body.
import { Hono } from 'hono';
import type { AppEnv } from './http/env.ts';
import { errorHandler, limitBody, notFound, requestContext, securityHeaders } from './http/middleware.ts';
import type { Services } from './services.ts';
import { mountOAuth } from './oauth/routes.ts';
import { mountWeb } from './web/routes.ts';
import { mountCredits } from './credits/routes.ts';
import { mountMcp, type McpRuntime } from './mcp/routes.ts';

const nodeFastPaths = new WeakMap<Hono<AppEnv>, McpRuntime['handleNodeRequest']>();

/**
 * The MCP endpoints' node:http fast path for an app built here (see src/mcp/http-context.ts): a node:http server
 * offers each request to it first, and passes the request to `app.fetch` when it returns false.
 */
export function nodeFastPathOf(app: Hono<AppEnv>): McpRuntime['handleNodeRequest'] | undefined {
  return nodeFastPaths.get(app);
}

export function buildApp(services: Services, configure?: (app: Hono<AppEnv>, services: Services) => void): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // The MCP routes come first: they are the hot path and bring their own lean request context (src/mcp/http-context.ts).
  nodeFastPaths.set(app, mountMcp(app, services).handleNodeRequest);
  app.use('*', requestContext(services.logger));
  app.use('*', securityHeaders());
  app.use('*', limitBody(services.config.bodyLimitBytes));
  app.onError(errorHandler(services.logger));
  app.notFound(notFound);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    try {
      await services.store.ping();
      return c.json({ status: 'ready', database: services.store.dialect });
    } catch {
      return c.json({ status: 'unavailable', error: 'database unreachable', request_id: c.get('requestId') }, 503);
    }
  });
  mountOAuth(app, services);
  mountCredits(app, services);
  mountWeb(app, services);
  configure?.(app, services);
  return app;
}
