import { existsSync } from 'node:fs';
import { loadConfig } from '../config/config.ts';
import { withServices } from './context.ts';
import type { Command, CommandIO } from './command.ts';
import type { BootstrapResult } from '../accounts/bootstrap.ts';

/** The server stack, loaded when a command needs it rather than when the CLI starts. */
const serverStack = async () => {
  const [{ startServer }, { createLogger }, { redactUrl }, { recordServerSettings }] = await Promise.all([
    import('../server.ts'),
    import('../util/logger.ts'),
    import('../store/store.ts'),
    import('../instance/index.ts'),
  ]);
  return { startServer, createLogger, redactUrl, recordServerSettings };
};

export function signInBanner(url: string, boot: BootstrapResult, database: string): string {
  const lines = [
    '',
    `  Tollgate is running at ${url}`,
    `  database: ${database}`,
    '',
    `  Sign in at ${url}/login as ${boot.ownerEmail}`,
  ];
  if (boot.generatedPassword) {
    lines.push(`  password: ${boot.generatedPassword}`, '  (generated now and shown only this once; set TOLLGATE_ADMIN_PASSWORD to choose your own)');
  } else if (boot.created) {
    lines.push('  with the password from TOLLGATE_ADMIN_PASSWORD');
  } else {
    lines.push('  with the password printed at first start (reset it with `tollgate admin user set-password <email>`)');
  }
  if (boot.demoWorkspace) lines.push('', `  Demo workspace MCP endpoint: ${url}/${boot.demoWorkspace.slug}/mcp`);
  lines.push('');
  return lines.join('\n');
}

export const serveCommand: Command = {
  path: ['serve'],
  summary: 'Run the Tollgate server (migrates and bootstraps on first start).',
  async run(_input, io: CommandIO) {
    const config = loadConfig({ env: io.env });
    const { startServer, createLogger, redactUrl, recordServerSettings } = await serverStack();
    const logger = createLogger(config.logLevel);
    // OpenTelemetry is loaded only when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) asks for it.
    const { startTracing, stopTracing } = await import('../observability/tracing.ts');
    if (await startTracing(io.env)) logger.info({ endpoint: io.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? io.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces over OTLP');
    let running;
    try {
      running = await startServer(config, logger);
    } catch (err) {
      await stopTracing();
      throw err;
    }
    try {
      // The admin CLI, run from another shell, prints MCP URLs from this (with the port a port-0 start really got).
      await recordServerSettings(running.services.store, running.services.config);
    } catch (err) {
      await running.close().catch(() => {});
      throw err;
    }
    io.err(signInBanner(running.url, running.bootstrap, redactUrl(config.databaseUrl)));
    logger.info({ url: running.url, ...(running.metricsUrl ? { metrics: running.metricsUrl } : {}) }, 'listening');
    const server = running;
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        // A second signal while draining: stop waiting.
        if (stopping) {
          logger.warn({ signal }, 'second signal while shutting down: exiting now');
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down: not ready, draining in-flight requests and the ledger');
        server.close().then(resolve, resolve);
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // Started by npm (`npm start`, `npx tollgate serve`): npm hands a SIGTERM to the shell it ran us in, and a shell
      // need not pass it on. When that parent is gone, stop as for SIGTERM rather than live on holding the port.
      if (io.env.npm_lifecycle_event || io.env.npm_command) {
        const parent = process.ppid;
        setInterval(() => {
          if (process.ppid !== parent) stop('parent exited');
        }, 250).unref();
      }
    });
    await stopTracing();
    logger.info('stopped');
    return 0;
  },
};

export const migrateCommand: Command = {
  path: ['migrate'],
  summary: 'Apply pending database migrations and exit (--dry-run: list them, change nothing).',
  args: '[--dry-run]',
  options: { 'dry-run': { type: 'boolean' } },
  async run({ values }, io) {
    const { redactUrl } = await serverStack();
    if (values['dry-run']) return dryRun(io, redactUrl);
    await withServices(
      io,
      async (s) => {
        io.out(`Database ${redactUrl(s.config.databaseUrl)} is up to date.`);
      },
      { create: true },
    );
  },
};

/** Lists what `migrate` would apply, creating nothing: a missing SQLite file stays missing. */
async function dryRun(io: CommandIO, redactUrl: (url: string) => string): Promise<number> {
  const config = loadConfig({ env: io.env });
  const [{ openStore }, { allMigrations }, { appliedMigrations, pendingMigrations, refuseNewerDatabase }] = await Promise.all([
    import('../store/store.ts'),
    import('../migrations.ts'),
    import('../store/migrate.ts'),
  ]);
  const shown = redactUrl(config.databaseUrl);
  let applied: string[] = [];
  const file = config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl.slice('sqlite:'.length) : undefined;
  if (file === undefined || (file !== ':memory:' && existsSync(file))) {
    const store = await openStore(config.databaseUrl, { poolSize: 1, preparedStatements: false });
    try {
      applied = await appliedMigrations(store);
      await refuseNewerDatabase(store, allMigrations, applied);
    } finally {
      await store.close();
    }
  }
  const pending = pendingMigrations(allMigrations, applied);
  if (!pending.length) {
    io.out(`Database ${shown} is up to date: nothing to apply.`);
    return 0;
  }
  io.out(`Database ${shown}: ${pending.length} migration(s) would be applied${applied.length ? '' : ' (a new database)'}:`);
  for (const name of pending) io.out(`  ${name}`);
  return 0;
}
