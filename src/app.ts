// The composition root's HTTP half: builds the app from the opened modules. The endpoint table (the MCP endpoints
// and their metadata, the token endpoint) is served by both HTTP adapters: the node:http one that `startServer`
// puts in front, and the Hono one mounted first here, so an app embedded elsewhere answers exactly the same. Then
// the app-wide middleware — request context first, so every response (errors included) carries a request id; the
// body limit before any handler reads a body — and the Hono routes.
import { Hono } from 'hono';
import type { AppEnv } from './http/env.ts';
import type { EndpointRoute } from './http/endpoint.ts';
import { createFrame } from './http/frame.ts';
import { honoAdapter } from './http/hono-adapter.ts';
import { nodeAdapter, type NodeHandler } from './http/node-adapter.ts';
import { errorHandler, limitBody, notFound, requestContext, securityHeaders } from './http/middleware.ts';
import type { Services } from './services.ts';
import { mountOAuth, oauthRoutes } from './oauth/routes.ts';
import { mountWeb } from './web/routes.ts';
import { mountCredits } from './credits/routes.ts';
import { collectProcessMetrics, guardedMetrics, tokenChecker } from './observability/metrics-endpoint.ts';
import { mountApi } from './api/index.ts';
import { invitationLink, invitationMail } from './web/invitation-mail.ts';

/** What the process says about itself to a load balancer: `draining` once SIGTERM arrived (`/readyz` → 503). */
export interface Readiness {
  draining: boolean;
}

export interface BuiltApp {
  /** Serves everything (embedding: `app.fetch`). */
  readonly app: Hono<AppEnv>;
  /** For a node:http server: answers a request of the endpoint table itself (true), or leaves it to `app` (false). */
  readonly handleNodeRequest: NodeHandler;
  /** The endpoint table both adapters serve. */
  readonly routes: readonly EndpointRoute<unknown>[];
}

export function buildApp(services: Services, configure?: (app: Hono<AppEnv>, services: Services) => void, readiness: Readiness = { draining: false }): BuiltApp {
  const { config, logger } = services;
  const app = new Hono<AppEnv>();
  const hsts = config.publicUrl.startsWith('https:');
  const frame = createFrame(logger, { hsts });
  const routes = [...services.mcp.routes, ...oauthRoutes(services)];

  app.use('*', honoAdapter(routes, frame));
  app.use('*', requestContext(logger));
  app.use('*', securityHeaders({ hsts }));
  app.use('*', limitBody(config.bodyLimitBytes));
  app.onError(errorHandler(logger));
  app.notFound(notFound);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    // Shutting down: not ready, so a load balancer stops sending while in-flight requests finish.
    if (readiness.draining) return c.json({ status: 'draining', request_id: c.get('requestId') }, 503, { 'Retry-After': '1' });
    try {
      await services.store.ping();
      return c.json({ status: 'ready', database: services.store.dialect });
    } catch {
      return c.json({ status: 'unavailable', error: 'database unreachable', request_id: c.get('requestId') }, 503);
    }
  });
  if (config.metricsToken) {
    // /metrics on the main port only with the scrape token (RFC 6750 bearer); without the token there is no route.
    collectProcessMetrics();
    const check = tokenChecker(config.metricsToken);
    app.get('/metrics', async (c) => {
      const a = await guardedMetrics(check, c.req.header('authorization'), c.get('requestId'));
      return c.body(a.body, a.status as 200, a.headers);
    });
  }
  mountOAuth(app, services);
  mountCredits(app, services);
  mountApi(app, {
    config, store: services.store, keys: services.api.keys, accounts: services.accounts, oauth: services.oauth, credits: services.credits, audit: services.audit, tools: services.tools,
    createWorkspace: services.createWorkspace,
    invitations: services.invitations,
    // The same link and message as the members page and `tollgate admin invite`.
    async mailInvitation(invitation, token) {
      const url = invitationLink(config.publicUrl, token);
      if (!services.mail.configured) return { url, mailed: false };
      const mailed = await services.mail.send({ to: invitation.email, ...invitationMail({ invitation, link: url, publicUrl: config.publicUrl }) });
      if (mailed) await services.invitations.markMailed(invitation.id);
      return { url, mailed };
    },
  });
  mountWeb(app, services);
  configure?.(app, services);
  return { app, handleNodeRequest: nodeAdapter(routes, frame), routes };
}
