// Shared by the commands that act on the configured database.
import { loadConfig, type Config } from '../config/config.ts';
import { openServices, type Services } from '../services.ts';
import { createLogger } from '../util/logger.ts';
import type { CommandIO } from './command.ts';

export function configFrom(io: CommandIO): Config {
  return loadConfig({ env: io.env });
}

/** Opens the configured database (migrated), runs `fn`, and always closes it. */
export async function withServices<T>(io: CommandIO, fn: (services: Services) => Promise<T>): Promise<T> {
  const services = await openServices(configFrom(io), createLogger('silent'));
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
