// Shared by the commands that act on the configured database. The server stack is imported only when a command
// runs, so `tollgate --help` and the client commands start quickly.
import { existsSync } from 'node:fs';
import { loadConfig, type Config } from '../config/config.ts';
import type { Services } from '../services.ts';
import type { Workspace } from '../accounts/index.ts';
import { CommandError, type CommandIO } from './command.ts';

export function configFrom(io: CommandIO): Config {
  return loadConfig({ env: io.env });
}

export interface WithServicesOptions {
  /**
   * Create the database (data directory, secret, SQLite file) and apply migrations: `migrate` does. Admin commands
   * never do (the default): they open the server's database as it is, or say which one they looked for.
   */
  create?: boolean;
}

const HOW_TO_POINT = "point at the server's database with TOLLGATE_DATA_DIR (the directory holding tollgate.db and secret) or TOLLGATE_DATABASE_URL";

/**
 * Checks that the configured database exists and is fully migrated, without creating or changing anything, and
 * returns the configuration to act with: the shell's, with the settings the server recorded at its last start on
 * top (its public URL, …), so that output such as MCP URLs matches what clients really reach.
 */
async function openExistingDatabase(config: Config, shown: string): Promise<Config> {
  const [{ openStore }, { allMigrations }, { readServerSettings }, { appliedMigrations, refuseNewerDatabase }] = await Promise.all([
    import('../store/store.ts'),
    import('../migrations.ts'),
    import('../instance/index.ts'),
    import('../store/migrate.ts'),
  ]);
  if (config.databaseUrl.startsWith('sqlite:')) {
    const file = config.databaseUrl.slice('sqlite:'.length);
    // Opening a missing SQLite file would create an empty database and answer every question with "nothing".
    if (file === ':memory:' || !existsSync(file)) throw new CommandError(`No Tollgate database at ${shown}: ${HOW_TO_POINT} (\`tollgate serve\` or \`tollgate migrate\` creates one)`);
  }
  const store = await openStore(config.databaseUrl, { poolSize: 1, preparedStatements: false });
  try {
    const list = await appliedMigrations(store);
    const applied = new Set(list);
    await refuseNewerDatabase(store, allMigrations, list);
    if (!applied.size) throw new CommandError(`The database ${shown} has no Tollgate tables (it was never migrated): ${HOW_TO_POINT}, or run \`tollgate migrate\` to set this one up`);
    const pending = allMigrations.filter((m) => !applied.has(m.name)).length;
    if (pending) throw new CommandError(`The database ${shown} lacks ${pending} migration(s) of this version of Tollgate: run \`tollgate migrate\` (or restart the server) first`);
    return { ...config, ...(await readServerSettings(store)) };
  } finally {
    await store.close();
  }
}

/**
 * Opens the configured database, runs `fn`, and always closes it. It says on stderr which database it opened
 * (stdout stays parseable; a PostgreSQL password is never shown).
 */
export async function withServices<T>(io: CommandIO, fn: (services: Services) => Promise<T>, options: WithServicesOptions = {}): Promise<T> {
  const [{ openServices }, { createLogger }, { redactUrl }] = await Promise.all([import('../services.ts'), import('../util/logger.ts'), import('../store/store.ts')]);
  let config = configFrom(io);
  const shown = config.databaseUrl.startsWith('sqlite:') ? config.databaseUrl : redactUrl(config.databaseUrl);
  if (!options.create) config = await openExistingDatabase(config, shown);
  const services = await openServices(config, createLogger('silent'), options.create ? {} : { migrate: false, create: false });
  try {
    if (!options.create) io.err(`tollgate: using ${shown}`);
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** The workspace with this slug, or the command fails with "Workspace "<slug>" not found". */
export async function requireWorkspace(s: Services, slug: string): Promise<Workspace> {
  const ws = await s.accounts.workspaces.getWorkspaceBySlug(slug);
  if (!ws) throw new CommandError(`Workspace "${slug}" not found`);
  return ws;
}
