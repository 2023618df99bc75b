// Opens everything a process needs (database, migrations, module services) once, for the server and the CLI alike.
import type { Config } from './config/config.ts';
import { ensureDataDir, loadOrCreateSecret } from './config/secret.ts';
import { openStore, type Store } from './store/store.ts';
import { migrateToLatest } from './store/migrate.ts';
import { allMigrations } from './migrations.ts';
import { accountsModule, type Accounts, type Workspace } from './accounts/index.ts';
import type { Logger } from './util/logger.ts';
import { UserFacingError } from './util/errors.ts';
import { oauthModule, type OAuth } from './oauth/index.ts';
import type { Metering } from './mcp/metering.ts';
import type { ToolDefinition } from './mcp/tool-types.ts';
import { creditsModule, type Credits } from './credits/index.ts';
import { crmModule } from './mcp/crm/index.ts';

export type WorkspaceHook = (workspace: Workspace) => Promise<void>;

export interface Services {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  /** Key material for encryption at rest (TOLLGATE_SECRET or the generated secret file). */
  readonly secret: string;
  readonly accounts: Accounts;
  readonly oauth: OAuth;
  /** Balances, ledger, rate limits and usage analytics. */
  readonly credits: Credits;
  /** Every MCP tool, registered by the modules at start (the MCP module indexes them once). */
  readonly tools: ToolDefinition[];
  /** Rate limits and credits around each tool call; the credits module installs its implementation. */
  metering: Metering;
  /** Creates a workspace and runs every module's set-up for it (initial credits, …). */
  createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }): Promise<Workspace>;
  /** Module hooks run for each new workspace, and for the demo workspace its sample data. */
  readonly workspaceHooks: WorkspaceHook[];
  readonly demoSeeders: WorkspaceHook[];
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Create the data directory and the secret file when missing (default true); false fails instead. */
  create?: boolean;
}

export async function openServices(config: Config, logger: Logger, options: OpenServicesOptions = {}): Promise<Services> {
  const usesDataDir = config.databaseUrl.startsWith('sqlite:') || !config.secret;
  if (usesDataDir && options.create !== false) ensureDataDir(config.dataDir);
  const secret = loadOrCreateSecret(config, { create: options.create });
  const store = await openStore(config.databaseUrl, { poolSize: config.databasePoolSize, preparedStatements: config.databasePreparedStatements });
  try {
    if (options.migrate !== false) await migrateToLatest(store, allMigrations);
  } catch (err) {
    await store.close();
    throw err;
  }
  const accounts = accountsModule(store, config);
  const oauth = oauthModule(store, config, secret, logger);
  try {
    await oauth.keys.ensureKey();
  } catch (err) {
    await store.close();
    throw new UserFacingError((err as Error).message);
  }
  let credits: Credits;
  try {
    credits = creditsModule(store, config, logger);
  } catch (err) {
    await store.close();
    throw err;
  }
  const workspaceHooks: WorkspaceHook[] = [credits.onWorkspaceCreated];
  const crm = crmModule(store);
  const demoSeeders: WorkspaceHook[] = [crm.seedDemo];
  return {
    config,
    store,
    logger,
    secret,
    accounts,
    oauth,
    credits,
    tools: [...credits.tools, ...crm.tools],
    metering: credits.metering,
    workspaceHooks,
    demoSeeders,
    async createWorkspace(input) {
      const ws = await accounts.workspaces.createWorkspace(input);
      for (const hook of workspaceHooks) await hook(ws);
      return ws;
    },
    async close() {
      await credits.close();
      await store.close();
    },
  };
}
