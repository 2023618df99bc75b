import { sql } from 'kysely';
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
  {
    name: '0101_oauth_clients_codes_tokens',
    async up(db) {
      await db.schema.alterTable('oauth_grants').addColumn('resource_implicit', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema
        .createTable('oauth_clients')
        .addColumn('client_id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('client_name', 'varchar(200)', (c) => c.notNull())
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('token_endpoint_auth_method', 'varchar(32)', (c) => c.notNull())
        .addColumn('application_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('grant_types', 'varchar(200)', (c) => c.notNull())
        .addColumn('scope', 'varchar(1024)')
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'varchar(64)')
        .addColumn('previous_secret_hash', 'varchar(64)')
        .addColumn('previous_secret_expires_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('first_grant_at', 'bigint')
        .execute();
      await db.schema.createIndex('oauth_clients_unused_idx').on('oauth_clients').columns(['kind', 'first_grant_at', 'created_at']).execute();
      await db.schema
        .createTable('oauth_codes')
        .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('client_id', 'varchar(2048)', (c) => c.notNull())
        .addColumn('redirect_uri', 'varchar(2048)', (c) => c.notNull())
        .addColumn('redirect_uri_sent', 'integer', (c) => c.notNull())
        .addColumn('code_challenge', 'varchar(128)', (c) => c.notNull())
        .addColumn('resource', 'varchar(2048)', (c) => c.notNull())
        .addColumn('resource_implicit', 'integer', (c) => c.notNull())
        .addColumn('scope', 'varchar(1024)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('issuer', 'varchar(2048)', (c) => c.notNull())
        .addColumn('nonce', 'varchar(512)')
        .addColumn('auth_time', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('grant_id', 'varchar(64)')
        .execute();
      await db.schema.createIndex('oauth_codes_expires_idx').on('oauth_codes').column('expires_at').execute();
      await db.schema
        .createTable('oauth_refresh_tokens')
        .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('grant_id', 'varchar(64)', (c) => c.notNull().references('oauth_grants.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('rotated_at', 'bigint')
        .addColumn('successor_hash', 'varchar(64)')
        .execute();
      await db.schema.createIndex('oauth_refresh_tokens_grant_idx').on('oauth_refresh_tokens').column('grant_id').execute();
      await db.schema.createIndex('oauth_refresh_tokens_expires_idx').on('oauth_refresh_tokens').column('expires_at').execute();
      await db.schema
        .createTable('oauth_cimd_documents')
        .addColumn('url', 'varchar(2048)', (c) => c.primaryKey())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_throttle')
        .addColumn('key', 'varchar(300)', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('oauth_throttle_pk', ['key', 'window_start'])
        .execute();
    },
  },
  {
    // Reuse detection that survives a crash between a rotation's commit and its answer: each refresh token knows its
    // place in the grant's chain, and the grant the newest one its client has proven it received.
    name: '0102_oauth_refresh_generations',
    async up(db) {
      await db.schema.alterTable('oauth_refresh_tokens').addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('oauth_refresh_tokens').addColumn('reissues', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('oauth_grants').addColumn('confirmed_generation', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  // Created by the web module before the ownership table moved here; the name stays, since it is what databases
  // have recorded as applied (names sort globally, so it still runs after every 01xx–03xx migration).
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
  {
    name: '0103_oauth_client_registration_tokens',
    async up(db) {
      await db.schema.alterTable('oauth_clients').addColumn('registration_token_hash', 'varchar(64)').execute();
    },
  },
  {
    // RFC 7523 §3 / ID-JAG: each JWT (a client assertion or an identity assertion) is accepted once; its `jti` is kept
    // until the JWT expires. Trusted enterprise identity providers for ID-JAG, and the accounts their subjects map to.
    name: '0110_oauth_jwt_grants',
    async up(db) {
      await db.schema
        .createTable('oauth_used_jtis')
        .addColumn('key_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oauth_used_jtis_expires_idx').on('oauth_used_jtis').column('expires_at').execute();
      await db.schema
        .createTable('oauth_trusted_idps')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(100)', (c) => c.notNull().unique())
        .addColumn('issuer', 'varchar(2048)', (c) => c.notNull().unique())
        .addColumn('jwks_uri', 'varchar(2048)')
        .addColumn('jwks', 'text')
        .addColumn('allowed_client_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_idp_identities')
        .addColumn('issuer', 'varchar(2048)', (c) => c.notNull())
        .addColumn('subject', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('oauth_idp_identities_pk', ['issuer', 'subject'])
        .execute();
    },
  },
  {
    // RFC 8628: device authorization requests, from the device's request until the grant is issued (or denied, or
    // expired). The device code is stored as a SHA-256 hash; the user code, short-lived and typed by a person, plain.
    name: '0111_oauth_device_codes',
    async up(db) {
      await db.schema
        .createTable('oauth_device_codes')
        .addColumn('device_code_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_code', 'varchar(16)', (c) => c.notNull().unique())
        .addColumn('client_id', 'varchar(2048)', (c) => c.notNull())
        .addColumn('scope', 'varchar(1024)', (c) => c.notNull())
        .addColumn('resource', 'varchar(2048)')
        .addColumn('resource_implicit', 'integer', (c) => c.notNull())
        .addColumn('issuer', 'varchar(2048)', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('interval_s', 'integer', (c) => c.notNull())
        .addColumn('last_poll_at', 'bigint')
        .addColumn('user_id', 'varchar(64)')
        .addColumn('workspace_id', 'varchar(64)')
        .addColumn('granted_resource', 'varchar(2048)')
        .addColumn('auth_time', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('oauth_device_codes_expires_idx').on('oauth_device_codes').column('expires_at').execute();
    },
  },
  {
    // SQLite: a counter that every revocation and every removal of a live grant raises, in the same statement (a
    // trigger, so that any writer — this process, the CLI, another process, a cascade — raises it). A process reads it
    // once per read snapshot and trusts the grants it found active while it stays the same (grant-epoch.ts). PostgreSQL
    // hears revocations through NOTIFY instead.
    name: '0112_oauth_grant_epoch',
    async up(db, dialect) {
      if (dialect !== 'sqlite') return;
      await sql`create table oauth_grant_epoch (id integer primary key check (id = 1), epoch integer not null)`.execute(db);
      await sql`insert into oauth_grant_epoch (id, epoch) values (1, 0)`.execute(db);
      await sql`create trigger oauth_grants_revoked_epoch after update of revoked_at on oauth_grants
        when old.revoked_at is null and new.revoked_at is not null
        begin update oauth_grant_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
      await sql`create trigger oauth_grants_deleted_epoch after delete on oauth_grants
        when old.revoked_at is null
        begin update oauth_grant_epoch set epoch = epoch + 1 where id = 1; end`.execute(db);
    },
  },
];
