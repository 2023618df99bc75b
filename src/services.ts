// The composition root's first half: opens everything a process needs (database, migrations, every module) once,
// for the server and the CLI alike, and wires each module with the narrow dependencies it declares. Nothing is
// changed after construction. The HTTP half is app.ts.
import type { Config } from './config/config.ts';
import { ensureDataDir, loadOrCreateSecret } from './config/secret.ts';
import { openStore, type Store } from './store/store.ts';
import { migrateToLatest } from './store/migrate.ts';
import { allMigrations } from './migrations.ts';
import { accountsModule, type Accounts, type Workspace } from './accounts/index.ts';
import type { Logger } from './util/logger.ts';
import { UserFacingError } from './util/errors.ts';
import { oauthModule, type OAuth } from './oauth/index.ts';
import type { Metering } from './tools/metering.ts';
import type { ToolDefinition } from './tools/tool-types.ts';
import { creditsModule, type Credits } from './credits/index.ts';
import { crmModule } from './crm/index.ts';
import { mcpModule, type McpModule } from './mcp/index.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';
import { invitationsService, passwordResetsService, twoFactorService, type InvitationsService, type PasswordResetsService, type TwoFactorService } from './accounts/index.ts';
import { identityModule, type Identity } from './identity/index.ts';
import { apiModule, type ApiModule } from './api/index.ts';
import { webhooksModule, type Webhooks } from './webhooks/index.ts';
import { auditModule, type Audit, type AuditContext } from './audit/index.ts';
import { postGuarded } from './oauth/safe-fetch.ts';
import { gatewayModule, type Gateway } from './gateway/index.ts';

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
  /** The MCP resource server over every tool source's tools. */
  readonly mcp: McpModule;
  /** Outgoing mail (invitations, password resets); `configured` false without TOLLGATE_SMTP_URL. */
  readonly mail: Mailer;
  /** Workspace invitations (single-use links). */
  readonly invitations: InvitationsService;
  /** Self-service password-reset links. */
  readonly passwordResets: PasswordResetsService;
  /** TOTP two-factor (keys sealed with the secret) and recovery codes. */
  readonly twoFactor: TwoFactorService;
  /** Sign-in connections (OpenID Connect providers), linked identities, auto-join and required connections. */
  readonly identity: Identity;
  /** The management API's keys. */
  readonly api: ApiModule;
  /** The MCP tools every endpoint serves (their names and own costs: the management API's price list). */
  readonly tools: readonly ToolDefinition[];
  /** Outbound webhook endpoints and the outbox's delivery worker (`serve` runs it). */
  readonly webhooks: Webhooks;
  /** The audit trail (every module records into it inside its own transactions). */
  readonly audit: Audit;
  /** Upstream MCP servers behind Tollgate (`start()` only in a serving process). */
  readonly gateway: Gateway;
  /** Creates a workspace and runs every module's set-up for it (initial credits, …). */
  createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }, audit?: AuditContext): Promise<Workspace>;
  /** Fills the demo workspace with each tool source's sample data. */
  seedDemo(workspace: Workspace): Promise<void>;
  /**
   * Deletes what outlived its retention (finished webhook deliveries after TOLLGATE_OUTBOUND_WEBHOOK_RETENTION_DAYS,
   * audit entries after TOLLGATE_AUDIT_RETENTION_DAYS when set), now and hourly; `serve` starts it.
   */
  startHousekeeping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Create the data directory and the secret file when missing (default true); false fails instead. */
  create?: boolean;
  /** MCP tools registered besides the modules' own (embedding; test fixtures). */
  extraTools?: readonly ToolDefinition[];
  /** Replaces the final tool list (benchmarks that need an exact number of tools). */
  selectTools?: (tools: readonly ToolDefinition[]) => ToolDefinition[];
  /** Wraps the credits module's metering (tests that script its decisions; benchmarks that leave it out). */
  wrapMetering?: (metering: Metering) => Metering;
}

async function closingOnError<T>(store: Store, step: () => T | Promise<T>, asUserFacing = false): Promise<T> {
  try {
    return await step();
  } catch (err) {
    await store.close();
    throw asUserFacing ? new UserFacingError((err as Error).message) : err;
  }
}

export async function openServices(config: Config, logger: Logger, options: OpenServicesOptions = {}): Promise<Services> {
  const usesDataDir = config.databaseUrl.startsWith('sqlite:') || !config.secret;
  if (usesDataDir && options.create !== false) ensureDataDir(config.dataDir);
  const secret = loadOrCreateSecret(config, { create: options.create });
  const mail = createMailer(config, logger);
  const store = await openStore(config.databaseUrl, { poolSize: config.databasePoolSize, preparedStatements: config.databasePreparedStatements });
  if (options.migrate !== false) await closingOnError(store, () => migrateToLatest(store, allMigrations));

  const accounts = accountsModule(store, config);
  const oauth = oauthModule(store, config, secret, logger);
  await closingOnError(store, () => oauth.keys.ensureKey(), true);
  const credits = await closingOnError(store, () => creditsModule(store, config, logger, { workspaces: accounts.workspaces }));
  const crm = crmModule(store);
  const invitations = invitationsService(store, config);
  const passwordResets = passwordResetsService(store, config);
  const twoFactor = twoFactorService(store, secret);
  const identity = identityModule(store, config, secret, accounts, logger);
  // Deliveries go through the same SSRF guard as client metadata fetches (public addresses only unless allowed).
  const webhooks = webhooksModule(store, config, secret, (url, body, headers) =>
    postGuarded(url, body, headers, { allowHttp: config.outboundWebhookAllowHttp, allowPrivateAddresses: config.outboundWebhookAllowPrivateAddresses, timeoutMs: config.outboundWebhookTimeoutMs }), logger);
  const gateway = gatewayModule({ store, secret, config, logger, signer: oauth.keys, issuer: config.publicUrl });
  oauth.resourceServers.serve({ has: (name) => gateway.liveTools.servers().has(name) });

  // The tool sources, in the order tools/list shows them (the demo CRM only with TOLLGATE_DEMO; the gateway's last).
  const allTools = [...credits.tools, ...(config.demo ? crm.tools : []), ...(options.extraTools ?? [])];
  const tools = options.selectTools ? options.selectTools(allTools) : allTools;
  const mcp = await closingOnError(store, async () => {
    try {
      return mcpModule({
        config,
        tools,
        metering: options.wrapMetering ? options.wrapMetering(credits.metering) : credits.metering,
        tokens: oauth,
        clientEvents: oauth.clientEvents,
        workspaces: accounts.workspaces,
        liveTools: gateway.liveTools,
        logger,
      });
    } catch (err) {
      await credits.close();
      throw err;
    }
  });

  const audit = auditModule(store);
  // Serving processes delete what has outlived its retention, at start and hourly (several processes doing it at
  // once is harmless: each deletes what the others left).
  let housekeeping: NodeJS.Timeout | undefined;
  const keepHouse = async () => {
    try {
      const webhookRows = await webhooks.prune();
      const auditRows = config.auditRetentionDays > 0 ? await audit.prune(Date.now() - config.auditRetentionDays * 86_400_000) : 0;
      if (webhookRows.deliveries || webhookRows.events || auditRows) logger.info({ ...webhookRows, auditEntries: auditRows }, 'deleted webhook history and audit entries past their retention');
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message } }, 'retention housekeeping failed');
    }
  };

  // Each module's set-up for a new workspace.
  const workspaceHooks: readonly ((ws: Workspace) => Promise<void>)[] = [credits.onWorkspaceCreated, mcp.onWorkspaceCreated];
  const demoSeeders: readonly ((ws: Workspace) => Promise<void>)[] = config.demo ? [crm.seedDemo] : [];

  return Object.freeze({
    config,
    store,
    logger,
    secret,
    accounts,
    oauth,
    credits,
    mcp,
    mail,
    invitations,
    passwordResets,
    twoFactor,
    identity,
    api: apiModule(store),
    tools,
    webhooks,
    audit,
    gateway,
    async createWorkspace(input: { slug: string; name?: string; ownerUserId?: string }, audit?: AuditContext) {
      const ws = await accounts.workspaces.createWorkspace(input, audit);
      for (const hook of workspaceHooks) await hook(ws);
      return ws;
    },
    async seedDemo(ws: Workspace) {
      for (const seed of demoSeeders) await seed(ws);
    },
    /** Starts the hourly retention pass (serving processes); the first runs at once. Resolves after that one. */
    async startHousekeeping(): Promise<void> {
      if (housekeeping) return;
      housekeeping = setInterval(() => void keepHouse(), 3_600_000);
      housekeeping.unref();
      await keepHouse();
    },
    async close() {
      clearInterval(housekeeping);
      await webhooks.worker.stop();
      await gateway.close();
      await credits.close();
      await oauth.close();
      await store.close();
      mail.close();
    },
  });
}
