import type { Migration } from '../store/migrate.ts';

// The instance module's table (migration range 0500–0599).
export const instanceMigrations: Migration[] = [
  {
    name: '0500_instance_settings',
    async up(db) {
      // What the running server recorded about itself (its public URL, …), one JSON value per setting, so that the
      // admin CLI acts with the server's settings rather than the ones of whatever shell it runs in.
      await db.schema
        .createTable('instance_settings')
        .addColumn('key', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
];
