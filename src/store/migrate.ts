import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import { redactUrl, type DialectName, type Store } from './store.ts';
import { UserFacingError } from '../util/errors.ts';

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
  await refuseNewerDatabase(store, migrations, await appliedMigrations(store));
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

/** Names of the migrations applied to this database; empty when it was never migrated (no bookkeeping table). */
export async function appliedMigrations(store: Store): Promise<string[]> {
  try {
    const rows = await store.db.selectFrom('tollgate_migrations').select('name').orderBy('name').execute();
    return rows.map((r) => String(r.name));
  } catch {
    return [];
  }
}

/** This code's migrations not yet applied to the database, in the order they would run. */
export function pendingMigrations(migrations: readonly Migration[], applied: readonly string[]): string[] {
  const done = new Set(applied);
  return migrations.map((m) => m.name).filter((n) => !done.has(n));
}

/** A database that has migrations applied which this code does not know: a newer Tollgate migrated it. */
export class NewerDatabaseError extends UserFacingError {
  readonly unknown: readonly string[];
  constructor(unknown: readonly string[], shown: string) {
    super(
      `The database ${shown} has ${unknown.length} migration(s) this version of Tollgate does not know (${unknown.join(', ')}): ` +
        'it was most likely migrated by a newer Tollgate. Run that version (or newer) against it, or restore a backup taken before the upgrade; ' +
        'this version refuses to use it rather than misread its tables',
    );
    this.unknown = unknown;
  }
}

/** Refuses a database migrated by newer code (applied migrations absent from `migrations`). */
export async function refuseNewerDatabase(store: Store, migrations: readonly Migration[], applied: readonly string[]): Promise<void> {
  const known = new Set(migrations.map((m) => m.name));
  const unknown = applied.filter((n) => !known.has(n));
  if (unknown.length) throw new NewerDatabaseError(unknown, store.url.startsWith('sqlite:') ? store.url : redactUrl(store.url));
}
