// Named prepared statements on PostgreSQL: repeated data statements are prepared once per connection, a table
// changed under them by another process is survived, and the whole thing can be turned off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, PG_URL, type TestDatabase } from '../../test/helpers/databases.ts';
import { openStore, type Store } from './store.ts';

interface Tables {
  items: { id: number; label: string };
}

describe('PostgreSQL named prepared statements', { skip: PG_URL ? false : 'TOLLGATE_TEST_PG_URL not set' }, () => {
  let tdb: TestDatabase;
  let store: Store;
  let db: Kysely<Tables>;
  let admin: pg.Client;

  before(async () => {
    tdb = await createTestDatabase('postgres');
    // One connection, so every statement below runs on the connection whose prepared statements are inspected.
    store = await openStore(tdb.url, { poolSize: 1 });
    db = store.typed<Tables>();
    admin = new pg.Client({ connectionString: tdb.url });
    await admin.connect();
    await admin.query('create table items (id integer primary key, label text not null)');
    await admin.query("insert into items values (1, 'one'), (2, 'two')");
  });
  after(async () => {
    await admin.end();
    await store.close();
    await tdb.drop();
  });

  const prepared = async () => (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db)).rows.map((r) => r.statement);
  const byId = (id: number) => db.selectFrom('items').selectAll().where('id', '=', id).execute();

  test('a data statement with parameters is prepared from its second use on, and answers as before', async () => {
    assert.deepEqual(await byId(1), [{ id: 1, label: 'one' }]);
    assert.ok(!(await prepared()).some((s) => s.includes('from "items"')), 'not after one use');
    assert.deepEqual(await byId(2), [{ id: 2, label: 'two' }]);
    assert.deepEqual(await byId(1), [{ id: 1, label: 'one' }]);
    assert.deepEqual(
      (await prepared()).filter((s) => s.includes('from "items"')),
      ['select * from "items" where "id" = $1'],
    );
  });

  test('statements without parameters, and transaction control, are never prepared', async () => {
    for (let i = 0; i < 3; i++) {
      await sql`select count(*) from items`.execute(db);
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom('items').select('id').where('id', '=', 1).execute();
      });
    }
    const statements = await prepared();
    assert.ok(!statements.some((s) => /count\(\*\)|^\s*(begin|commit)/i.test(s)), statements.join(' | '));
  });

  test('a column added by another process: the prepared select * is prepared afresh and answers with it', async () => {
    await byId(1);
    await admin.query("alter table items add column note text not null default 'n'");
    // PostgreSQL refuses the old plan (its result type changed); the statement is renamed and retried.
    assert.deepEqual(await byId(1), [{ id: 1, label: 'one', note: 'n' } as never]);
    assert.deepEqual(await byId(2), [{ id: 2, label: 'two', note: 'n' } as never]);
  });

  test('inside a transaction the refusal ends the transaction; the next one works', async () => {
    await byId(1);
    await byId(1);
    await admin.query('alter table items add column extra integer');
    await assert.rejects(
      db.transaction().execute(async (trx) => trx.selectFrom('items').selectAll().where('id', '=', 1).execute()),
      (err: { code?: string }) => err.code === '0A000',
    );
    const rows = await db.transaction().execute(async (trx) => trx.selectFrom('items').selectAll().where('id', '=', 1).execute());
    assert.deepEqual(rows, [{ id: 1, label: 'one', note: 'n', extra: null } as never]);
  });

  test('preparedStatements: false sends every statement unnamed', async () => {
    const plain = await openStore(tdb.url, { poolSize: 1, preparedStatements: false });
    try {
      const pdb = plain.typed<Tables>();
      for (let i = 0; i < 3; i++) await pdb.selectFrom('items').select('label').where('id', '=', 2).execute();
      assert.deepEqual((await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(pdb)).rows, [{ n: 0 }]);
    } finally {
      await plain.close();
    }
  });
});
