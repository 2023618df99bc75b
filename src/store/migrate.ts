import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import type { DialectName, Store } from './store.ts';

export interface Migration {
  /** Sorted globally: `NNNN_module_what`. */
  readonly name: string;
  up(db: Kysely<any>, dialect: DialectName): Promise<void>;
}

/**
 * Applies every pending migration in one transaction. Running it again is a no-op; two processes starting at
 * once serialise on the migration lock (PostgreSQL row lock; SQLite's write lock via BEGIN IMMEDIATE).
 */
export async function migrateToLatest(store: Store, migrations: readonly Migration[]): Promise<string[]> {
  const byName = Object.fromEntries(
    migrations.map((m) => [m.name, { up: (db: Kysely<any>) => m.up(db, store.dialect) }]),
  );
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => byName },
    migrationTableName: 'tollgate_migrations',
    migrationLockTableName: 'tollgate_migrations_lock',
    // Each module numbers its own range (accounts 0001–, oauth 0100–, …), so a module's next migration can sort
    // before another module's applied one: apply it rather than refuse to start.
    allowUnorderedMigrations: true,
  });
  let attempt = 0;
  for (;;) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
    // Two processes creating the bookkeeping tables at once can collide before the lock exists; the loser retries.
    if (++attempt >= 5) throw error;
    await new Promise((r) => setTimeout(r, 50 * attempt));
  }
}
