// One test suite, both dialects: `forEachDialect` runs a suite on a fresh SQLite file and, when
// TOLLGATE_TEST_PG_URL is set, on a fresh PostgreSQL database created for the run and dropped afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CompiledQuery, Kysely } from 'kysely';
import { openStore, type DialectName, type Store } from '../../src/store/store.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { allMigrations } from '../../src/migrations.ts';
import { scratchPostgres } from '../../bench/lib/scratch.ts';
import { describeUnless } from './skip.ts';

export const PG_URL = process.env.TOLLGATE_TEST_PG_URL;
export const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

let warned = false;
function warnSkip(): void {
  if (warned) return;
  warned = true;
  process.stderr.write('\n!!! TOLLGATE_TEST_PG_URL is not set: the PostgreSQL half of the store suite is SKIPPED !!!\n\n');
}

export interface TestDatabase {
  readonly dialect: DialectName;
  readonly url: string;
  drop(): Promise<void>;
}

/** A brand-new empty database of the given dialect. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-test-'));
    return { dialect, url: `sqlite:${path.join(dir, 'test.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!PG_URL) throw new Error('TOLLGATE_TEST_PG_URL is not set');
  const db = await scratchPostgres(PG_URL, 'tollgate_t');
  return { dialect, url: db.url, drop: db.drop };
}

/** A migrated store on a fresh database; `close()` also drops the database. */
export async function createTestStore(dialect: DialectName): Promise<Store & { drop(): Promise<void> }> {
  const tdb = await createTestDatabase(dialect);
  const store = await openStore(tdb.url);
  await migrateToLatest(store, allMigrations);
  return Object.assign(store, {
    drop: async () => {
      await store.close();
      await tdb.drop();
    },
  });
}

/** Runs `suite` once per dialect; the PostgreSQL run is skipped, loudly (and counted as skipped), without TOLLGATE_TEST_PG_URL. */
export function forEachDialect(name: string, suite: (dialect: DialectName) => void): void {
  for (const dialect of DIALECTS) {
    const skip = dialect === 'postgres' && !PG_URL;
    if (skip) warnSkip();
    describeUnless(`${name} [${dialect}]`, skip ? 'TOLLGATE_TEST_PG_URL not set' : undefined, () => suite(dialect));
  }
}

/** `store`, with every statement run through its typed handles' `executeQuery` shown to `seen` first. */
export function countingStore(store: Store, seen: (query: CompiledQuery) => void): Store {
  return {
    ...store,
    typed: <T,>() =>
      new Proxy(store.typed<T>(), {
        get(target, prop) {
          if (prop === 'executeQuery') {
            return (q: CompiledQuery) => {
              seen(q);
              return target.executeQuery(q);
            };
          }
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      }) as Kysely<T>,
  };
}
