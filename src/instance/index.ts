// What a running server records about itself in its database, for the other processes that share it (the admin
// CLI): its public URL and the few settings admin commands act on. `tollgate serve` records them at every start;
// admin commands read them back rather than trusting the environment of the shell they happen to run in.
import type { Config } from '../config/config.ts';
import { now, type Store } from '../store/store.ts';

export { instanceMigrations } from './migrations.ts';

/** The settings a server records, and the type each must have when read back. */
const RECORDED = { publicUrl: 'string', initialCredits: 'integer', ratePlans: 'string', accessTokenTtlSeconds: 'integer' } as const;
type RecordedKey = keyof typeof RECORDED;
export type RecordedSettings = Partial<Pick<Config, RecordedKey>>;

interface InstanceTables {
  instance_settings: { key: string; value: string; updated_at: number };
}

/** Stores the server's current values of the recorded settings (replacing what an earlier start stored). */
export async function recordServerSettings(store: Store, config: Pick<Config, RecordedKey>): Promise<void> {
  const at = now();
  const rows = (Object.keys(RECORDED) as RecordedKey[]).map((key) => ({ key, value: JSON.stringify(config[key]), updated_at: at }));
  await store
    .typed<InstanceTables>()
    .insertInto('instance_settings')
    .values(rows)
    .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: eb.ref('excluded.updated_at') })))
    .execute();
}

/** What a server recorded; a setting never recorded, or stored in a form this version does not read, is absent. */
export async function readServerSettings(store: Store): Promise<RecordedSettings> {
  const rows = await store.typed<InstanceTables>().selectFrom('instance_settings').select(['key', 'value']).execute();
  const out: Record<string, string | number> = {};
  for (const { key, value } of rows) {
    if (!Object.hasOwn(RECORDED, key)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      continue;
    }
    const want = RECORDED[key as RecordedKey];
    if (want === 'string' ? typeof parsed === 'string' : Number.isSafeInteger(parsed)) out[key] = parsed as string | number;
  }
  return out as RecordedSettings;
}
