import type { Migration } from '../store/migrate.ts';

// The MCP module's migrations: 0200–0299.
export const crmMigrations: Migration[] = [
  {
    name: '0200_mcp_crm',
    async up(db) {
      await db.schema
        .createTable('crm_contacts')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('email', 'varchar(320)')
        .addColumn('company', 'varchar(200)')
        .addColumn('title', 'varchar(200)')
        .addColumn('phone', 'varchar(50)')
        .addColumn('notes', 'varchar(4000)')
        .addColumn('search_text', 'varchar(1200)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_contacts_ws_name_idx').on('crm_contacts').columns(['workspace_id', 'name']).execute();
      await db.schema.createIndex('crm_contacts_ws_email_idx').on('crm_contacts').columns(['workspace_id', 'email']).execute();
      await db.schema
        .createTable('crm_deals')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('workspace_id', 'varchar(64)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('contact_id', 'varchar(40)', (c) => c.references('crm_contacts.id').onDelete('set null'))
        .addColumn('title', 'varchar(200)', (c) => c.notNull())
        .addColumn('amount_cents', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('stage', 'varchar(20)', (c) => c.notNull())
        .addColumn('expected_close', 'varchar(10)')
        .addColumn('search_text', 'varchar(600)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('stage_changed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('crm_deals_ws_stage_idx').on('crm_deals').columns(['workspace_id', 'stage']).execute();
      await db.schema.createIndex('crm_deals_ws_contact_idx').on('crm_deals').columns(['workspace_id', 'contact_id']).execute();
    },
  },
  {
    // A contact's deals in the order get_contact lists them, straight from the index: no sort per call.
    name: '0201_mcp_crm_deals_by_contact',
    async up(db) {
      await db.schema.createIndex('crm_deals_ws_contact_updated_idx').on('crm_deals').columns(['workspace_id', 'contact_id', 'updated_at desc', 'id']).execute();
      await db.schema.dropIndex('crm_deals_ws_contact_idx').execute();
    },
  },
];
