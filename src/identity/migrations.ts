import type { Migration } from '../store/migrate.ts';

export const identityMigrations: Migration[] = [
  {
    name: '0010_identity_init',
    async up(db) {
      await db.schema
        .createTable('identity_connections')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(40)', (c) => c.notNull().unique())
        .addColumn('label', 'varchar(100)', (c) => c.notNull())
        .addColumn('issuer', 'varchar(2048)', (c) => c.notNull())
        .addColumn('client_id', 'varchar(512)', (c) => c.notNull())
        .addColumn('client_secret_sealed', 'text', (c) => c.notNull())
        .addColumn('scopes', 'varchar(512)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('identity_links')
        .addColumn('issuer', 'varchar(2048)', (c) => c.notNull())
        .addColumn('subject', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('connection_id', 'varchar(64)', (c) => c.notNull().references('identity_connections.id').onDelete('cascade'))
        .addColumn('email', 'varchar(320)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_links_pk', ['issuer', 'subject'])
        .execute();
      await db.schema.createIndex('identity_links_user_idx').on('identity_links').column('user_id').execute();
      await db.schema
        .createTable('identity_auth_requests')
        .addColumn('state_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('connection_id', 'varchar(64)', (c) => c.notNull().references('identity_connections.id').onDelete('cascade'))
        .addColumn('nonce', 'varchar(128)', (c) => c.notNull())
        .addColumn('code_verifier_sealed', 'text', (c) => c.notNull())
        .addColumn('next_path', 'text', (c) => c.notNull())
        .addColumn('link_user_id', 'varchar(64)')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('identity_sessions')
        .addColumn('session_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('connection_id', 'varchar(64)', (c) => c.notNull().references('identity_connections.id').onDelete('cascade'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('identity_join_rules')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('connection_id', 'varchar(64)', (c) => c.references('identity_connections.id').onDelete('cascade'))
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('claim', 'varchar(100)')
        .addColumn('value', 'varchar(320)', (c) => c.notNull())
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('identity_workspace_requirements')
        .addColumn('workspace_id', 'varchar(64)', (c) => c.primaryKey().references('workspaces.id').onDelete('cascade'))
        .addColumn('connection_id', 'varchar(64)', (c) => c.notNull().references('identity_connections.id').onDelete('cascade'))
        .execute();
    },
  },
];
