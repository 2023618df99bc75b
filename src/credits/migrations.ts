import { sql, type CreateTableBuilder } from 'kysely';
import type { Migration } from '../store/migrate.ts';
import type { DialectName } from '../store/store.ts';

// Roll-up tables are read by key range only: on SQLite they are WITHOUT ROWID, so the primary key is the table.
const clustered = <T extends string, C extends string>(b: CreateTableBuilder<T, C>, dialect: DialectName) =>
  dialect === 'sqlite' ? b.modifyEnd(sql`without rowid`) : b;

export const creditsMigrations: Migration[] = [
  {
    name: '0300_credits_init',
    async up(db, dialect) {
      await db.schema
        .createTable('credits_accounts')
        .addColumn('workspace_id', 'varchar(64)', (c) => c.primaryKey().references('workspaces.id').onDelete('cascade'))
        .addColumn('balance', 'bigint', (c) => c.notNull().check(sql`balance >= 0`))
        .addColumn('plan', 'varchar(64)', (c) => c.notNull().defaultTo('default'))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('credits_ledger')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('balance_after', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'varchar(32)', (c) => c.notNull())
        .addColumn('description', 'varchar(500)', (c) => c.notNull().defaultTo(''))
        .addColumn('tool', 'varchar(128)')
        .addColumn('user_id', 'varchar(64)')
        .addColumn('client_id', 'varchar(2048)')
        .addColumn('request_id', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Paging newest-first and the partial-hour edge of "spend in the last 24 h" both read this index.
      await db.schema.createIndex('credits_ledger_workspace_time_idx').on('credits_ledger').columns(['workspace_id', 'created_at', 'id']).execute();
      await clustered(
        db.schema
          .createTable('credits_usage_daily')
          .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('day', 'integer', (c) => c.notNull())
          .addColumn('tool', 'varchar(128)', (c) => c.notNull())
          .addColumn('client_id', 'varchar(2048)', (c) => c.notNull())
          .addColumn('calls', 'bigint', (c) => c.notNull())
          .addColumn('credits', 'bigint', (c) => c.notNull())
          .addColumn('errors', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('credits_usage_daily_pk', ['workspace_id', 'day', 'tool', 'client_id']),
        dialect,
      ).execute();
      for (const [table, column, size] of [['credits_usage_daily_tool', 'tool', 128], ['credits_usage_daily_client', 'client_id', 2048]] as const) {
        await clustered(
          db.schema
            .createTable(table)
            .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull())
            .addColumn('day', 'integer', (c) => c.notNull())
            .addColumn(column, `varchar(${size})`, (c) => c.notNull())
            .addColumn('calls', 'bigint', (c) => c.notNull())
            .addColumn('credits', 'bigint', (c) => c.notNull())
            .addColumn('errors', 'bigint', (c) => c.notNull())
            .addPrimaryKeyConstraint(`${table}_pk`, ['workspace_id', 'day', column]),
          dialect,
        ).execute();
      }
      await clustered(
        db.schema
          .createTable('credits_usage_hourly')
          .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull())
          .addColumn('hour', 'integer', (c) => c.notNull())
          .addColumn('calls', 'bigint', (c) => c.notNull())
          .addColumn('credits', 'bigint', (c) => c.notNull())
          .addColumn('errors', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('credits_usage_hourly_pk', ['workspace_id', 'hour']),
        dialect,
      ).execute();
      await db.schema
        .createTable('credits_webhook_events')
        .addColumn('idempotency_key', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('credits', 'bigint', (c) => c.notNull())
        .addColumn('body_sha256', 'varchar(64)', (c) => c.notNull())
        .addColumn('ledger_id', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .execute();
      // Counters are cheap to lose (a crash at worst resets a window), so PostgreSQL skips the WAL for them.
      let counters = db.schema
        .createTable('credits_rate_counters')
        .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull());
      if (dialect === 'postgres') counters = counters.modifyFront(sql`unlogged`);
      await counters.execute();
      await db.schema.createIndex('credits_rate_counters_window_idx').on('credits_rate_counters').column('window_start').execute();
    },
  },
  {
    // Refused calls are counted too, by outcome; existing rows get 0 (they hold only ok calls and tool errors).
    name: '0301_credits_usage_outcomes',
    async up(db) {
      for (const table of ['credits_usage_daily', 'credits_usage_daily_tool', 'credits_usage_daily_client', 'credits_usage_hourly']) {
        for (const column of ['bad_arguments', 'out_of_credits', 'rate_limited']) {
          await db.schema.alterTable(table).addColumn(column, 'bigint', (c) => c.notNull().defaultTo(0)).execute();
        }
      }
    },
  },
  {
    // Prices and plans as data: a price override per tool name, plans with their limits (configured plans are the
    // defaults these override), and a suspended workspace's tool calls refused.
    name: '0310_credits_prices_plans',
    async up(db) {
      await db.schema
        .createTable('credits_tool_prices')
        .addColumn('tool', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('cost', 'bigint', (c) => c.notNull().check(sql`cost >= 0`))
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('credits_plans')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('workspace_per_minute', 'integer', (c) => c.notNull())
        .addColumn('grant_per_minute', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('credits_accounts').addColumn('suspended_at', 'bigint').execute();
    },
  },
];
