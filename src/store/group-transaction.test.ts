// Group commit of small units of work: one transaction for the units that arrive together, a savepoint each, and
// every caller answered only after the commit — on both dialects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Kysely } from 'kysely';
import { createTestDatabase, forEachDialect, type TestDatabase } from '../../test/helpers/databases.ts';
import { groupTransactions } from './group-transaction.ts';
import { openStore, type Store } from './store.ts';

interface Tables {
  units: { name: string };
}

forEachDialect('group transactions', (dialect) => {
  let tdb: TestDatabase;
  let store: Store;
  let other: Store;
  let db: Kysely<Tables>;

  before(async () => {
    tdb = await createTestDatabase(dialect);
    store = await openStore(tdb.url);
    other = await openStore(tdb.url);
    db = store.typed<Tables>();
    await db.schema.createTable('units').addColumn('name', 'varchar(40)', (c) => c.primaryKey()).execute();
  });
  after(async () => {
    await other.close();
    await store.close();
    await tdb.drop();
  });

  const insert = (name: string) => (trx: Kysely<Tables>) => trx.insertInto('units').values({ name }).execute().then(() => name);
  const names = async (prefix: string) =>
    (await other.typed<Tables>().selectFrom('units').select('name').where('name', 'like', `${prefix}%`).orderBy('name').execute()).map((r) => r.name);

  test('units that arrive together share one transaction, and each caller gets its own result', async () => {
    const group = groupTransactions(db);
    const results = await Promise.all(['a1', 'a2', 'a3', 'a4'].map((n) => group.run(insert(n))));
    assert.deepEqual(results, ['a1', 'a2', 'a3', 'a4']);
    assert.equal(group.groups, 1);
    assert.deepEqual(await names('a'), ['a1', 'a2', 'a3', 'a4']);
  });

  test('a unit that throws is undone alone: its caller gets the error, the rest of its group commits', async () => {
    const group = groupTransactions(db);
    const units = [
      group.run(insert('b1')),
      group.run(async (trx) => {
        await insert('b2')(trx);
        throw new Error('unit b2 failed');
      }),
      // A statement the database refuses (a duplicate key) is undone alone too: on PostgreSQL that takes the
      // savepoint, or the whole transaction would be aborted.
      group.run(insert('b1')),
      group.run(insert('b3')),
    ];
    const outcomes = await Promise.allSettled(units);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'rejected', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /unit b2 failed/);
    assert.equal(group.groups, 1);
    assert.deepEqual(await names('b'), ['b1', 'b3']);
  });

  test('a caller hears of its unit only once the group is committed: another connection already sees it', async () => {
    const group = groupTransactions(db);
    const seen = await Promise.all(['c1', 'c2'].map((n) => group.run(insert(n)).then(async () => (await names(n)).length)));
    assert.deepEqual(seen, [1, 1]);
  });

  test('units that arrive while a group commits form the next group', async () => {
    const group = groupTransactions(db);
    const first = group.run(insert('d1'));
    // Queued after the first group has started (it starts on the next turn), before it has committed.
    const later = new Promise<string>((resolve, reject) => setImmediate(() => setImmediate(() => group.run(insert('d2')).then(resolve, reject))));
    assert.deepEqual(await Promise.all([first, later]), ['d1', 'd2']);
    assert.equal(group.groups, 2);
  });

  test('maxGroup bounds a group; the rest follow in the next', async () => {
    const group = groupTransactions(db, { maxGroup: 2 });
    await Promise.all(['e1', 'e2', 'e3'].map((n) => group.run(insert(n))));
    assert.equal(group.groups, 2);
    assert.deepEqual(await names('e'), ['e1', 'e2', 'e3']);
  });

  test('when the transaction itself fails, every unit of the group gets the error and nothing is kept', async () => {
    const group = groupTransactions(db);
    const bystander = group.run(insert('f1'));
    // A unit that ends the transaction under the group's feet: f1 goes with it, and the group's next statement fails.
    const breaker = group.run(async (trx) => {
      await sql`rollback`.execute(trx);
    });
    const outcomes = await Promise.allSettled([bystander, breaker]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
    assert.deepEqual(await names('f'), []);
    // And the group goes on serving.
    assert.equal(await group.run(insert('f2')), 'f2');
    assert.deepEqual(await names('f'), ['f2']);
  });
});
