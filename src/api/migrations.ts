import type { Migration } from '../store/migrate.ts';

export const apiMigrations: Migration[] = [
  {
    // Management API keys: stored as SHA-256 hashes of the whole key (shown once); scoped to read or write, to all
    // workspaces or one; optional expiry; revocation keeps the row (its last use stays visible).
    name: '0700_api_keys',
    async up(db) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('access', 'varchar(8)', (c) => c.notNull())
        .addColumn('workspace_id', 'varchar(64)', (c) => c.references('workspaces.id').onDelete('cascade'))
        .addColumn('created_by', 'varchar(64)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
    },
  },
  {
    // Idempotency-Key records (draft-ietf-httpapi-idempotency-key-header): per API key, the request's fingerprint
    // and the stored answer, written in the same transaction as the change they describe.
    name: '0701_api_idempotency_keys',
    async up(db) {
      await db.schema
        .createTable('api_idempotency_keys')
        .addColumn('api_key_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('idempotency_key', 'varchar(255)', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('response', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('api_idempotency_keys_pk', ['api_key_id', 'idempotency_key'])
        .execute();
      await db.schema.createIndex('api_idempotency_keys_created_idx').on('api_idempotency_keys').column('created_at').execute();
    },
  },
];
