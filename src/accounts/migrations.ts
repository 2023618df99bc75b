import type { Migration } from '../store/migrate.ts';

export const accountsMigrations: Migration[] = [
  {
    name: '0001_accounts_init',
    async up(db) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('email', 'varchar(320)', (c) => c.notNull())
        .addColumn('email_normalized', 'varchar(320)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(200)', (c) => c.notNull().defaultTo(''))
        .addColumn('password_hash', 'varchar(256)')
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('workspaces')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('slug', 'varchar(40)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('memberships')
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['workspace_id', 'user_id'])
        .execute();
      await db.schema.createIndex('memberships_user_idx').on('memberships').column('user_id').execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
    },
  },
  {
    name: '0002_accounts_email_verified',
    async up(db) {
      await db.schema.alterTable('users').addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // Every account so far was created by an operator (bootstrap, the admin page or `tollgate admin users add`),
      // who asserted its address.
      await db.updateTable('users').set({ email_verified: 1 }).execute();
    },
  },
  {
    name: '0040_accounts_workspace_external_id',
    async up(db) {
      // The id a company's own systems know the workspace by (a customer id); optional, unique when set.
      await db.schema.alterTable('workspaces').addColumn('external_id', 'text').execute();
      await db.schema.createIndex('workspaces_external_id_unique').on('workspaces').column('external_id').unique().execute();
    },
  },
];
