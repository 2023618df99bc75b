// The node:sqlite dialect's durable commits: in WAL mode a commit resolves only after the WAL is synced, the sync runs
// off the event loop and leaves the connection to others meanwhile, and commits that land during a sync share the next.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { DatabaseSync } from 'node:sqlite';
import { CompiledQuery, sql } from 'kysely';
import { createTestStore } from '../../test/helpers/databases.ts';
import type { Store } from './store.ts';

// fdatasync, held until the test lets each one finish.
const realFdatasync = fs.fdatasync;
const pending: (() => void)[] = [];
let syncs = 0;
let hold = false;

let store: Store & { drop(): Promise<void> };
before(async () => {
  (fs as { fdatasync: unknown }).fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    syncs++;
    const finish = () => realFdatasync(fd, cb);
    if (hold) pending.push(finish);
    else finish();
  };
  syncBuiltinESMExports();
  store = await createTestStore('sqlite');
  await sql`create table probe (x integer)`.execute(store.db);
});
after(async () => {
  hold = false;
  pending.splice(0).forEach((f) => f());
  await store.drop();
  (fs as { fdatasync: unknown }).fdatasync = realFdatasync;
  syncBuiltinESMExports();
});
beforeEach(() => {
  syncs = 0;
});

const tick = () => new Promise((r) => setImmediate(r));
const count = async () => Number((await sql<{ n: number }>`select count(*) as n from probe`.execute(store.db)).rows[0].n);

test('WAL mode with synchronous=NORMAL: the sync after each commit is the dialect\'s own', async () => {
  assert.equal((await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db)).rows[0].journal_mode, 'wal');
  assert.equal(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0].synchronous), 1);
});

test('a write resolves only after the WAL is synced, and the connection serves others meanwhile', async () => {
  hold = true;
  let done = false;
  const write = sql`insert into probe values (1)`.execute(store.db).then(() => (done = true));
  await tick();
  assert.equal(done, false, 'not acknowledged before the sync');
  assert.equal(syncs, 1);
  assert.equal(await count(), 1, 'a read runs while the sync is pending');
  const trx = store.db.transaction().execute(async (t) => {
    await sql`insert into probe values (2)`.execute(t);
  });
  await tick();
  assert.equal(pending.length, 1, 'the second commit waits for the next sync, which starts after the running one');
  hold = false;
  pending.splice(0).forEach((f) => f());
  await write;
  await trx;
  assert.equal(done, true);
  assert.equal(syncs, 2);
});

test('commits that land during a sync share the next one; reads and rollbacks sync nothing', async () => {
  hold = true;
  const first = sql`insert into probe values (10)`.execute(store.db);
  await tick();
  const many = Promise.all(Array.from({ length: 20 }, (_, i) => store.db.transaction().execute((t) => sql`insert into probe values (${100 + i})`.execute(t))));
  await tick();
  hold = false;
  pending.splice(0).forEach((f) => f());
  await first;
  await many;
  assert.equal(syncs, 2, 'one sync for the first write, one shared by the 20 transactions');
  syncs = 0;
  await count();
  await assert.rejects(
    store.db.transaction().execute(async (t) => {
      await sql`insert into probe values (999)`.execute(t);
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(syncs, 0);
  assert.equal(Number((await sql<{ n: number }>`select count(*) as n from probe where x = 999`.execute(store.db)).rows[0].n), 0);
});

test('a holder that keeps using the connection after a commit queues for it again (no statement lands in another\'s transaction)', async () => {
  hold = true;
  let scopedDone = false;
  const scoped = store.db
    .connection()
    .execute(async (conn) => {
      await sql`insert into probe values (500)`.execute(conn);
      // The connection was handed on at that commit; a transaction of its own must wait for it, not nest in another.
      await sql`begin immediate`.execute(conn);
      await sql`insert into probe values (503)`.execute(conn);
      await sql`commit`.execute(conn);
    })
    .then(() => (scopedDone = true));
  await tick();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const other = store.db.transaction().execute(async (t) => {
    await sql`insert into probe values (501)`.execute(t);
    await gate;
    await sql`insert into probe values (502)`.execute(t);
  });
  await tick();
  pending.shift()!(); // the sync of 500: `scoped` goes on while `other` is inside its transaction
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(scopedDone, false);
  open();
  hold = false;
  while (pending.length) {
    pending.splice(0).forEach((f) => f());
    await tick();
  }
  await other;
  await scoped;
  assert.equal(Number((await sql<{ n: number }>`select count(*) as n from probe where x between 500 and 503`.execute(store.db)).rows[0].n), 4);
});

test('the reads of one turn of the event loop share a snapshot; a write, a transaction and the next turn end it', async () => {
  const file = (await sql<{ file: string }>`pragma database_list`.execute(store.db)).rows[0].file;
  const other = new DatabaseSync(file, { timeout: 2000 });
  try {
    await count(); // opens this turn's snapshot
    other.exec('insert into probe values (700)');
    const inTurn = Number((await sql<{ n: number }>`select count(*) as n from probe where x = 700`.execute(store.db)).rows[0].n);
    assert.equal(inTurn, 0, 'another connection\'s commit is not seen within the turn');
    await tick();
    assert.equal(Number((await sql<{ n: number }>`select count(*) as n from probe where x = 700`.execute(store.db)).rows[0].n), 1, 'it is seen from the next turn on');

    // Within one turn: a read, then a write on this connection (which ends the snapshot first), then a read that sees it.
    await count();
    await sql`insert into probe values (701)`.execute(store.db);
    assert.equal(Number((await sql<{ n: number }>`select count(*) as n from probe where x = 701`.execute(store.db)).rows[0].n), 1);
    await store.db.transaction().execute((t) => sql`insert into probe values (702)`.execute(t));
    assert.equal(Number((await sql<{ n: number }>`select count(*) as n from probe where x = 702`.execute(store.db)).rows[0].n), 1);

    // No snapshot is left open to hold back another process's writes or checkpoints past the turn.
    await count();
    await tick();
    other.exec('pragma wal_checkpoint(truncate)');
    assert.equal((other.prepare('pragma wal_checkpoint(passive)').get() as { busy: number }).busy, 0);
    other.exec('begin immediate; insert into probe values (703); commit');
  } finally {
    other.close();
  }
});

test('a statement that cannot be prepared inside a transaction runs right after a read of the same turn', async () => {
  await count(); // opens this turn's snapshot
  // SQLite refuses to prepare `pragma synchronous = …` inside a transaction ("Safety level may not be changed").
  await sql`pragma synchronous = normal`.execute(store.db);
  assert.equal(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0].synchronous), 1);
});

test('a compiled read on the root handle runs at once when the connection is free, and waits its turn when it is not', async () => {
  const file = (await sql<{ file: string }>`pragma database_list`.execute(store.db)).rows[0].file;
  const other = new DatabaseSync(file, { timeout: 2000 });
  const countOf = (x: number) => store.db.selectFrom('probe').select((eb) => eb.fn.countAll<number>().as('n')).where('x', '=', x).compile();
  try {
    // Free: the statement runs within the call (before the other connection's insert that follows it in the same turn).
    await tick();
    const early = store.db.executeQuery(countOf(800));
    other.exec('insert into probe values (800)');
    assert.equal(Number((await early).rows[0].n), 0, 'ran when called');
    await tick();
    assert.equal(Number((await store.db.executeQuery(countOf(800))).rows[0].n), 1, 'the same rows Kysely gives');

    // Held by a transaction: the read waits for it rather than running inside it (and so never sees its rolled-back row).
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const rolledBack = store.db
      .transaction()
      .execute(async (t) => {
        await sql`select 1`.execute(t);
        await gate;
        await sql`insert into probe values (801)`.execute(t);
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    await tick();
    let readDone = false;
    const read = store.db.executeQuery(countOf(801)).then((r) => ((readDone = true), r));
    await tick();
    assert.equal(readDone, false, 'the read waits while the transaction holds the connection');
    open();
    assert.equal(await rolledBack, 'rolled back');
    assert.equal(Number((await read).rows[0].n), 0, 'the read ran after the rollback, not inside the transaction');

    // A failing read is a rejected promise, as on Kysely's path, never an exception thrown at the caller.
    const failing = store.db.executeQuery(CompiledQuery.raw('select * from no_such_table'));
    await assert.rejects(failing, /no such table/);
  } finally {
    other.close();
  }
});

test('rows have the keys, order and values node:sqlite itself gives, whether they are built as arrays or not', async () => {
  await sql`create table shapes (id integer primary key, name text, amount real, data blob, note text)`.execute(store.db);
  await sql`insert into shapes values (1, 'a', 1.5, x'0102', null), (2, 'b', -2, null, 'x')`.execute(store.db);
  const file = (await sql<{ file: string }>`pragma database_list`.execute(store.db)).rows[0].file;
  const other = new DatabaseSync(file, { timeout: 2000 });
  try {
    const statements = [
      'select * from shapes order by id',
      'select count(*) as n, max(amount) as top, min(name) as first from shapes',
      'select id as a, name as a from shapes order by id', // a duplicate name: the last value wins, as in node:sqlite
      'select id as __proto__, name from shapes order by id', // an own property, not the prototype
      // Names that are no identifiers (quotes, a backslash, a line separator, an index, a method's name) stay keys.
      `select id as "it's ""quoted"" \\ }", name as "0", amount as "constructor", note as "n\u2028}; x = 1; ({" from shapes order by id`,
    ];
    for (const text of statements) {
      const expected = other.prepare(text).all().map((r) => Object.entries(r));
      const rows = (await sql.raw<Record<string, unknown>>(text).execute(store.db)).rows;
      assert.deepStrictEqual(rows.map((r) => Object.entries(r)), expected, text);
    }
    const streamed: [string, unknown][][] = [];
    for await (const r of store.db.selectFrom('shapes').selectAll().orderBy('id').stream()) streamed.push(Object.entries(r));
    assert.deepStrictEqual(streamed, other.prepare('select * from shapes order by id').all().map((r) => Object.entries(r)));
  } finally {
    other.close();
  }
});
