import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, forEachDialect, type TestDatabase } from '../../test/helpers/databases.ts';
import { openStore, StoreError, redactUrl } from './store.ts';
import { migrateToLatest } from './migrate.ts';
import { allMigrations } from '../migrations.ts';

forEachDialect('store', (dialect) => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase(dialect);
  });
  after(async () => tdb.drop());

  test('migrations apply, and running them twice is a no-op', async () => {
    const store = await openStore(tdb.url);
    const first = await migrateToLatest(store, allMigrations);
    assert.deepEqual(first, allMigrations.map((m) => m.name));
    assert.deepEqual(await migrateToLatest(store, allMigrations), []);
    await store.close();
  });

  test('a module\'s new migration that sorts before another module\'s applied one still applies', async () => {
    const fresh = await createTestDatabase(dialect);
    const store = await openStore(fresh.url);
    const mk = (name: string) => ({ name, up: async (db: import('kysely').Kysely<any>) => void (await db.schema.createTable(`t_${name}`).addColumn('x', 'integer').execute()) });
    await migrateToLatest(store, [mk('9001_a'), mk('9300_c')]);
    assert.deepEqual(await migrateToLatest(store, [mk('9001_a'), mk('9101_b'), mk('9300_c')]), ['9101_b']);
    await store.close();
    await fresh.drop();
  });

  test('a transaction that throws leaves nothing behind', async () => {
    const store = await openStore(tdb.url);
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await trx.insertInto('workspaces').values({ id: 'w1', slug: 'rollback-me', name: 'x', created_at: 1 }).execute();
        throw new Error('boom');
      }),
      /boom/,
    );
    const row = await store.db.selectFrom('workspaces').select('id').where('slug', '=', 'rollback-me').executeTakeFirst();
    assert.equal(row, undefined);
    await store.close();
  });

  test('big integers round-trip as numbers', async () => {
    const store = await openStore(tdb.url);
    const t = 1_900_000_000_000;
    await store.db.insertInto('workspaces').values({ id: 'w2', slug: 'bigint-ws', name: 'x', created_at: t }).execute();
    const row = await store.db.selectFrom('workspaces').select('created_at').where('id', '=', 'w2').executeTakeFirstOrThrow();
    assert.equal(row.created_at, t);
    assert.equal(typeof row.created_at, 'number');
    await store.close();
  });
});

forEachDialect('migrations racing', (dialect) => {
  let tdb: TestDatabase;
  before(async () => {
    tdb = await createTestDatabase(dialect);
  });
  after(async () => tdb.drop());

  test('three processes migrating one fresh database at once all succeed', async () => {
    const script = `
      import { openStore } from './src/store/store.ts';
      import { migrateToLatest } from './src/store/migrate.ts';
      import { allMigrations } from './src/migrations.ts';
      const s = await openStore(process.env.URL);
      await migrateToLatest(s, allMigrations);
      await s.close();`;
    const runs = [0, 1, 2].map(
      () =>
        new Promise<number>((resolve) => {
          const p = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, URL: tdb.url }, stdio: ['ignore', 'ignore', 'inherit'] });
          p.on('exit', (code) => resolve(code ?? 1));
        }),
    );
    assert.deepEqual(await Promise.all(runs), [0, 0, 0]);
    const store = await openStore(tdb.url);
    const applied = await store.db.selectFrom('tollgate_migrations').select('name').execute();
    assert.equal(applied.length, allMigrations.length);
    await store.close();
  });

  test('two processes applying one slow migration at once: it runs once, the other process waits and finds it applied', async () => {
    const fresh = await createTestDatabase(dialect);
    try {
      // A migration that takes its time between two statements (longer than migrateToLatest's retries last): without
      // a lock held across it, the second process runs it too, fails on the first table, and gives up.
      const script = `
        import { openStore } from './src/store/store.ts';
        import { migrateToLatest } from './src/store/migrate.ts';
        const slow = { name: '9000_test_slow', async up(db) {
          process.stdout.write('UP ');
          await db.schema.createTable('slow_a').addColumn('id', 'integer').execute();
          await new Promise((r) => setTimeout(r, 1500));
          await db.schema.createTable('slow_b').addColumn('id', 'integer').execute();
        } };
        const s = await openStore(process.env.URL);
        const ran = await migrateToLatest(s, [slow]);
        await s.close();
        process.stdout.write(JSON.stringify(ran));`;
      const runs = [0, 1].map(
        () =>
          new Promise<{ code: number; out: string }>((resolve) => {
            let out = '';
            const p = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, URL: fresh.url }, stdio: ['ignore', 'pipe', 'inherit'] });
            p.stdout.on('data', (d) => (out += d));
            p.on('exit', (code) => resolve({ code: code ?? 1, out }));
          }),
      );
      const results = await Promise.all(runs);
      assert.deepEqual(results.map((r) => r.code), [0, 0], JSON.stringify(results));
      // The migration ran once, in one of them; the other found it applied.
      assert.equal(results.map((r) => r.out).join('').split('UP ').length - 1, 1, JSON.stringify(results));
      assert.deepEqual(results.map((r) => JSON.parse(r.out.replace('UP ', '')) as string[]).flat(), ['9000_test_slow']);
    } finally {
      await fresh.drop();
    }
  });
});

test('unsupported, malformed and unreachable database URLs give clear errors', async () => {
  await assert.rejects(openStore('mysql://x'), (e: unknown) => e instanceof StoreError && /Unsupported database URL/.test(e.message));
  await assert.rejects(openStore('sqlite:'), /needs a path/);
  await assert.rejects(openStore('postgres://u:pw@127.0.0.1:1/db'), (e: unknown) => e instanceof StoreError && /Cannot reach.*connection refused/.test(e.message) && !/pw/.test(e.message));
  // A path below a regular file can never be created (not under /proc: Node's recursive mkdir spins there).
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-store-'));
  writeFileSync(path.join(dir, 'file'), '');
  await assert.rejects(openStore(`sqlite:${path.join(dir, 'file', 'x.db')}`), (e: unknown) => e instanceof StoreError && /Cannot create the directory/.test(e.message));
  rmSync(dir, { recursive: true, force: true });
});

test('redactUrl hides passwords', () => {
  assert.equal(redactUrl('postgres://u:secret@h:5432/d'), 'postgres://u:***@h:5432/d');
});
