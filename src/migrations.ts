// Every module's migrations, in one ordered list. Names sort globally: `NNNN_module_what`, with a number range per
// module (accounts 0001–0099, oauth 0100–0199, mcp 0200–0299, credits 0300–0399, web 0400–0499, instance 0500–0599).
import { accountsMigrations } from './accounts/migrations.ts';
import { oauthMigrations } from './oauth/migrations.ts';
import { creditsMigrations } from './credits/migrations.ts';
import { crmMigrations } from './mcp/crm/index.ts';
import { webMigrations } from './web/migrations.ts';
import { instanceMigrations } from './instance/migrations.ts';
import type { Migration } from './store/migrate.ts';

export const allMigrations: Migration[] = [...accountsMigrations, ...oauthMigrations, ...crmMigrations, ...creditsMigrations, ...webMigrations, ...instanceMigrations].sort((a, b) => a.name.localeCompare(b.name));
