import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestStore } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { durableCommitter } from './durable-commit.ts';

let store: Store & { drop(): Promise<void> };
before(async () => {
  store = await createTestStore('sqlite');
  await sql`create table durable_probe (x integer)`.execute(store.db);
});
after(async () => store.drop());

const synchronous = async () => Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0].synchronous);

test('SQLite: the connection keeps synchronous=FULL outside the writer\'s own transactions, after commits and rollbacks', async () => {
  const committer = durableCommitter(store);
  assert.equal(await synchronous(), 2);
  await committer.transaction(async (trx) => {
    assert.equal(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0].synchronous), 1, 'NORMAL inside');
    await sql`insert into durable_probe values (1)`.execute(trx);
  });
  await committer.durable();
  assert.equal(await synchronous(), 2);
  await assert.rejects(
    committer.transaction(async (trx) => {
      await sql`insert into durable_probe values (2)`.execute(trx);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await synchronous(), 2);
  const rows = (await sql<{ x: number }>`select x from durable_probe`.execute(store.db)).rows.map((r) => r.x);
  assert.deepEqual(rows, [1], 'the failed transaction was rolled back');
  committer.close();
});

test('SQLite: concurrent durability waits share fsyncs and all resolve', async () => {
  const committer = durableCommitter(store);
  await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    await committer.transaction((trx) => sql`insert into durable_probe values (${100 + i})`.execute(trx));
    await committer.durable();
  }));
  const n = (await sql<{ n: number }>`select count(*) as n from durable_probe where x >= 100`.execute(store.db)).rows[0].n;
  assert.equal(Number(n), 20);
  committer.close();
});
