import type { Migration } from '../store/migrate.ts';

// The gateway module's migrations: 0600–0699.
export const gatewayMigrations: Migration[] = [
  {
    name: '0600_gateway_upstreams',
    async up(db) {
      await db.schema
        .createTable('gateway_upstreams')
        .addColumn('name', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('transport', 'varchar(10)', (c) => c.notNull())
        .addColumn('url', 'varchar(2048)')
        .addColumn('command', 'varchar(8000)')
        .addColumn('headers_sealed', 'text')
        .addColumn('env_sealed', 'text')
        .addColumn('default_price', 'bigint', (c) => c.notNull())
        .addColumn('timeout_ms', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('gateway_tools')
        .addColumn('upstream', 'varchar(40)', (c) => c.notNull().references('gateway_upstreams.name').onDelete('cascade'))
        .addColumn('name', 'varchar(128)', (c) => c.notNull())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('price', 'bigint')
        .addColumn('scope', 'varchar(20)')
        .addColumn('discovered_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('gateway_tools_pk', ['upstream', 'name'])
        .execute();
      await db.schema
        .createTable('gateway_state')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('gateway_state').values({ id: 1, version: 0 }).execute();
    },
  },
];
