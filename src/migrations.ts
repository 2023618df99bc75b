// Every module's migrations, in one ordered list. Names sort globally: `NNNN_module_what`, with a number range per
// module (accounts 0001–0099, oauth 0100–0199, mcp 0200–0299, credits 0300–0399, instance 0500–0599, gateway 0600–0699, api 0700–0799, audit 0800–0899, webhooks 0900–0949; identity 0010–0019;
// 0400_web_workspace_clients, once the web module's, is now the OAuth module's and keeps its name).
import { accountsMigrations } from './accounts/migrations.ts';
import { oauthMigrations } from './oauth/migrations.ts';
import { creditsMigrations } from './credits/migrations.ts';
import { crmMigrations } from './crm/index.ts';
import { instanceMigrations } from './instance/migrations.ts';
import { identityMigrations } from './identity/migrations.ts';
import { apiMigrations } from './api/migrations.ts';
import { webhooksMigrations } from './webhooks/migrations.ts';
import { auditMigrations } from './audit/migrations.ts';
import { gatewayMigrations } from './gateway/migrations.ts';
import type { Migration } from './store/migrate.ts';

export const allMigrations: Migration[] = [...accountsMigrations, ...oauthMigrations, ...crmMigrations, ...creditsMigrations, ...instanceMigrations, ...identityMigrations, ...apiMigrations, ...webhooksMigrations, ...auditMigrations, ...gatewayMigrations].sort((a, b) => a.name.localeCompare(b.name));
