// Process start and graceful shutdown.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './http/env.ts';
import type { Config } from './config/config.ts';
import { bootstrap, type BootstrapResult } from './accounts/bootstrap.ts';
import { buildApp, type BuiltApp, type Readiness } from './app.ts';
import { startMetricsListener, type MetricsListener } from './observability/metrics-endpoint.ts';
import { limitWorkspaceLabels } from './observability/labels.ts';
import { openServices, type OpenServicesOptions, type Services } from './services.ts';
import type { Logger } from './util/logger.ts';
import { UserFacingError } from './util/errors.ts';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly services: Services;
  readonly bootstrap: BootstrapResult;
  /** The separate metrics listener's `/metrics` URL, when TOLLGATE_METRICS_PORT is set. */
  readonly metricsUrl?: string;
  /**
   * Graceful stop: `/readyz` answers 503 at once (for the readiness delay, requests are still served), then the
   * listener stops accepting, in-flight requests finish (up to the shutdown timeout), the ledger batch is written and
   * the database closed.
   */
  close(): Promise<void>;
}

export class StartError extends UserFacingError {}

function listen(config: Config): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    // Until the app is ready, a request gets 503 rather than hanging.
    const s = createServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":"starting"}');
    });
    s.once('listening', () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StartError(
          err.code === 'EADDRINUSE'
            ? `Port ${config.port} on ${config.host} is already in use (set TOLLGATE_PORT)`
            : `Cannot listen on ${config.host}:${config.port} (${err.code ?? err.message})`,
        ),
      ),
    );
    s.listen(config.port, config.host);
  });
}

export interface StartOptions extends Pick<OpenServicesOptions, 'extraTools' | 'selectTools' | 'wrapMetering'> {
  /** Adds routes to the app before it starts answering (embedding; tests). */
  configureApp?: (app: Hono<AppEnv>, services: Services) => void;
  /**
   * Which HTTP adapter serves the endpoint table: `node` (default: the node:http adapter in front of Hono) or `hono`
   * (everything through Hono, as an app embedded elsewhere is served; the test suite runs both).
   */
  adapter?: 'node' | 'hono';
}

/**
 * Listens first (so that port 0 resolves to a real port before the issuer URL is fixed), then opens the
 * database, migrates, bootstraps and starts answering. A failure at any step closes what was opened.
 */
export async function startServer(initial: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const server = await listen(initial);
  const port = (server.address() as AddressInfo).port;
  const config: Config = initial.port === 0 && /:0$/.test(initial.publicUrl) ? { ...initial, port, publicUrl: initial.publicUrl.replace(/:0$/, `:${port}`) } : initial;

  let services: Services | undefined;
  let boot: BootstrapResult;
  let built: BuiltApp;
  let metrics: MetricsListener | undefined;
  const readiness: Readiness = { draining: false };
  try {
    services = await openServices(config, logger, options);
    const opened = services;
    boot = await bootstrap(opened.accounts, {
      adminEmail: config.adminEmail,
      adminPassword: config.adminPassword,
      seedDemo: config.seedDemo,
      createWorkspace: opened.createWorkspace,
      seedWorkspace: opened.seedDemo,
    });
    built = buildApp(opened, options.configureApp, readiness);
    if (config.metricsPort !== undefined) {
      metrics = await startMetricsListener(config.metricsHost, config.metricsPort).catch((err: Error) => {
        throw new StartError(err.message);
      });
    }
    // The outbox's delivery worker runs in every serving process (claims are leased, so several never collide).
    opened.webhooks.worker.start();
    await opened.gateway.start();
    void opened.startHousekeeping();
  } catch (err) {
    await services?.close().catch(() => {});
    server.close();
    throw err;
  }
  const running = services;
  // The metrics registry is the process's: the server that started last sets its workspace-label limit.
  limitWorkspaceLabels(config.metricsTopWorkspaces);

  const listener = getRequestListener(built.app.fetch, { autoCleanupIncoming: true });
  // The endpoint table (the hot path) is answered straight from node:http; everything else goes to Hono.
  const fastPath = options.adapter === 'hono' ? undefined : built.handleNodeRequest;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (fastPath?.(req, res)) return;
    void listener(req, res);
  });
  server.keepAliveTimeout = 5000;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      readiness.draining = true;
      if (config.shutdownReadinessDelayMs > 0) await new Promise((r) => setTimeout(r, config.shutdownReadinessDelayMs));
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections become idle as their last response finishes: close each one then.
      server.closeIdleConnections();
      const sweeper = setInterval(() => server.closeIdleConnections(), 50);
      const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
      await drained;
      clearInterval(sweeper);
      clearTimeout(timer);
      // The ledger writer's last batch is written here (credits.close flushes it) before the database closes.
      await running.close();
      await metrics?.close();
    })());

  return { url: config.publicUrl, port, services: running, bootstrap: boot, metricsUrl: metrics?.url, close };
}
