import type { Migration } from '../store/migrate.ts';

// The web module's tables (migration range 0400–0499).
export const webMigrations: Migration[] = [
  {
    name: '0400_web_workspace_clients',
    async up(db) {
      // Which workspace created an OAuth client from its dashboard: only that workspace's owners and admins may
      // rotate its secret or delete it. Clients themselves stay in the OAuth module's registry.
      await db.schema
        .createTable('web_workspace_clients')
        .addColumn('client_id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('created_by', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('web_workspace_clients_ws_idx').on('web_workspace_clients').columns(['workspace_id', 'created_at']).execute();
    },
  },
];
