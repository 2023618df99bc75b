// Every module's migrations, in one ordered list. Names are globally sorted (`NNNN_module_what`).
import { accountsMigrations } from './accounts/migrations.ts';
import type { Migration } from './store/migrate.ts';

export const allMigrations: Migration[] = [...accountsMigrations].sort((a, b) => a.name.localeCompare(b.name));
