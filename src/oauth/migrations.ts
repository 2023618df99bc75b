import type { Migration } from '../store/migrate.ts';

export const oauthMigrations: Migration[] = [
  {
    name: '0100_oauth_keys_grants',
    async up(db, dialect) {
      await db.schema
        .createTable('oauth_signing_keys')
        .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('alg', 'varchar(16)', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retired_at', 'bigint')
        .addColumn('remove_after', 'bigint')
        .execute();
      await db.schema
        .createTable('oauth_grants')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('client_id', 'varchar(2048)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('resource', 'varchar(2048)', (c) => c.notNull())
        .addColumn('scope', 'varchar(1024)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('revoked_reason', 'varchar(200)')
        .execute();
      await db.schema.createIndex('oauth_grants_workspace_idx').on('oauth_grants').columns(['workspace_id', 'created_at']).execute();
      await db.schema.createIndex('oauth_grants_user_idx').on('oauth_grants').column('user_id').execute();
      await db.schema.createIndex('oauth_grants_client_idx').on('oauth_grants').column('client_id').execute();
      await db.schema
        .createTable('oauth_client_events')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('client_id', 'varchar(2048)', (c) => c.notNull())
        .addColumn('workspace_id', 'varchar(64)')
        .addColumn('kind', 'varchar(32)', (c) => c.notNull())
        .addColumn('request_id', 'varchar(64)')
        .addColumn('detail', 'varchar(500)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oauth_client_events_client_idx').on('oauth_client_events').columns(['client_id', 'id']).execute();
    },
  },
];
