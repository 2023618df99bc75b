// Starts a real Tollgate server in this process on a fresh database (SQLite file or a new PostgreSQL database),
// on a free loopback port, with its JSON log captured so tests can read it.
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.ts';
import { createLogger } from '../../src/util/logger.ts';
import type { DialectName } from '../../src/store/store.ts';
import { createTestDatabase } from './databases.ts';

export const ADMIN_EMAIL = 'owner@example.com';
export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestServer extends RunningServer {
  readonly config: Config;
  /** Every log line written so far (raw JSON text). */
  readonly logs: string[];
  /** Stops the server and drops its database. */
  stop(): Promise<void>;
}

export interface TestServerOptions {
  dialect?: DialectName;
  /** Extra TOLLGATE_* variables. */
  env?: Record<string, string>;
  configureApp?: StartOptions['configureApp'];
  /** Test-only MCP tools (fixtures), registered next to the built-in ones. */
  extraTools?: StartOptions['extraTools'];
  wrapMetering?: StartOptions['wrapMetering'];
  /** The HTTP adapter for the endpoint table; default: TOLLGATE_TEST_HTTP_ADAPTER, else `node` (as `tollgate serve`). */
  adapter?: StartOptions['adapter'];
}

/** The adapter the black-box suite runs on: `npm test` runs the suites that reach the endpoint table on both. */
export const TEST_ADAPTER: 'node' | 'hono' = process.env.TOLLGATE_TEST_HTTP_ADAPTER === 'hono' ? 'hono' : 'node';

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-srv-'));
  const db = await createTestDatabase(options.dialect ?? 'sqlite');
  const config = loadConfig({
    env: {
      TOLLGATE_PORT: '0',
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_DATABASE_URL: db.url,
      TOLLGATE_ADMIN_EMAIL: ADMIN_EMAIL,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TOLLGATE_LOG_LEVEL: 'debug',
      ...options.env,
    },
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  let running: RunningServer;
  try {
    running = await startServer(config, createLogger(config.logLevel, sink), {
      configureApp: options.configureApp,
      extraTools: options.extraTools,
      wrapMetering: options.wrapMetering,
      adapter: options.adapter ?? TEST_ADAPTER,
    });
  } catch (err) {
    // A start that fails (as some tests want) leaves no database or directory behind either.
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return Object.assign(running, {
    config: running.services.config,
    logs,
    async stop() {
      await running.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
