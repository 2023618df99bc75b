import type { Migration } from '../store/migrate.ts';

export const auditMigrations: Migration[] = [
  {
    name: '0800_audit_log',
    async up(db, dialect) {
      await db.schema
        .createTable('audit_log')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('actor_id', 'varchar(64)')
        .addColumn('actor_label', 'varchar(320)')
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('target_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('target_id', 'varchar(2048)', (c) => c.notNull())
        // No foreign key: the trail outlives what it describes (a deleted workspace's history stays readable).
        .addColumn('workspace_id', 'varchar(64)')
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .addColumn('ip', 'varchar(64)')
        .addColumn('user_agent', 'varchar(500)')
        .addColumn('request_id', 'varchar(64)')
        .execute();
      await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
      await db.schema.createIndex('audit_log_workspace_idx').on('audit_log').columns(['workspace_id', 'at', 'id']).execute();
    },
  },
];
