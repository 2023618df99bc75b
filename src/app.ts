// Builds the HTTP app from the modules. Order matters: request context first, so every response (errors
// included) carries a request id; the body limit before any handler reads a body.
import { Hono } from 'hono';
import type { AppEnv } from './http/env.ts';
import { errorHandler, limitBody, notFound, requestContext, securityHeaders } from './http/middleware.ts';
import type { Services } from './services.ts';
import { mountOAuth } from './oauth/routes.ts';
import { mountWeb } from './web/routes.ts';
import { mountCredits } from './credits/routes.ts';
import { mountMcp } from './mcp/routes.ts';
import { tokenFastPath } from './oauth/token-fast-path.ts';
import { firstOf, type NodeHandler } from './http/fast-path.ts';

const nodeFastPaths = new WeakMap<Hono<AppEnv>, NodeHandler>();

/**
 * The node:http fast paths of an app built here (src/http/fast-path.ts: the MCP endpoints, the token endpoint): a
 * node:http server offers each request to them first, and passes the request to `app.fetch` when they return false.
 */
export function nodeFastPathOf(app: Hono<AppEnv>): NodeHandler | undefined {
  return nodeFastPaths.get(app);
}

export function buildApp(services: Services, configure?: (app: Hono<AppEnv>, services: Services) => void): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // The MCP routes come first: they are the hot path and bring their own lean request context (src/mcp/http-context.ts).
  nodeFastPaths.set(app, firstOf(mountMcp(app, services).handleNodeRequest, tokenFastPath(services)));
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
