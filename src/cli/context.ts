// Shared by the commands that act on the configured database. The server stack is imported only when a command
// runs, so `tollgate --help` and the client commands start quickly.
import { loadConfig, type Config } from '../config/config.ts';
import type { Services } from '../services.ts';
import type { CommandIO } from './command.ts';

export function configFrom(io: CommandIO): Config {
  return loadConfig({ env: io.env });
}

/** Opens the configured database (migrated), runs `fn`, and always closes it. */
export async function withServices<T>(io: CommandIO, fn: (services: Services) => Promise<T>): Promise<T> {
  const [{ openServices }, { createLogger }] = await Promise.all([import('../services.ts'), import('../util/logger.ts')]);
  const services = await openServices(configFrom(io), createLogger('silent'));
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}
