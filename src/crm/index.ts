// The demo CRM: its tools for `services.tools`, and its sample data for the `demo` workspace.
import type { Store } from '../store/store.ts';
import type { ToolDefinition } from '../tools/tool-types.ts';
import { crmStore, type CrmStore } from './store.ts';
import { crmTools } from './tools.ts';
import { seedCrm } from './seed.ts';

export { crmMigrations } from './migrations.ts';
export type { CrmStore } from './store.ts';

export interface CrmModule {
  readonly store: CrmStore;
  readonly tools: ToolDefinition[];
  /** A `services.demoSeeders` hook. */
  seedDemo(workspace: { id: string }): Promise<void>;
}

export function crmModule(store: Store): CrmModule {
  const crm = crmStore(store);
  return {
    store: crm,
    tools: crmTools(crm),
    seedDemo: async (workspace) => {
      await seedCrm(crm, workspace.id);
    },
  };
}
