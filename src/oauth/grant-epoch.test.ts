// SQLite's grant check without a read per call: what it trusts, and every way a grant stops being active reaching it
// by the next request — a revocation here, one by another process on the same file, a cascade, a rolled-back one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type CompiledQuery } from 'kysely';
import { countingStore, createTestStore } from '../../test/helpers/databases.ts';
import { loadConfig } from '../config/config.ts';
import { accountsModule } from '../accounts/index.ts';
import { openStore, type SnapshotReads, type Store } from '../store/store.ts';
import { grantsService, type GrantsService } from './grants.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

let store: Store & { drop(): Promise<void> };
/** Another process's connection to the same file (as the CLI would open it). */
let other: Store;
let grants: GrantsService;
let newGrant: () => Promise<{ id: string; userId: string }>;
/** The grant reads the service ran (through Kysely) and the epoch reads (through the snapshot). */
const grantReads: string[] = [];
let epochReads = 0;

before(async () => {
  store = await createTestStore('sqlite');
  other = await openStore(store.url);
  const snapshot: SnapshotReads = {
    get stamp() {
      return store.snapshot!.stamp;
    },
    read<R>(compiled: CompiledQuery) {
      epochReads++;
      return store.snapshot!.read<R>(compiled);
    },
  };
  const counting: Store = {
    ...countingStore(store, (q) => {
      if (/^select/i.test(q.sql) && q.sql.includes('oauth_grants')) grantReads.push(q.sql);
    }),
    snapshot,
  };
  grants = grantsService(counting);
  const accounts = accountsModule(store, loadConfig({ env: {} }));
  const ws = await accounts.workspaces.createWorkspace({ slug: 'acme', ownerUserId: (await accounts.users.createUser({ email: 'owner@example.com', password: 'long enough pw' })).id });
  let n = 0;
  newGrant = async () => {
    const user = await accounts.users.createUser({ email: `u${++n}@example.com`, password: 'long enough pw' });
    const g = await grants.createGrant({ clientId: 'c1', userId: user.id, workspaceId: ws.id, resource: 'http://x/acme/mcp', scopes: [] });
    return { id: g.id, userId: user.id };
  };
});
after(async () => {
  await other.close();
  await store.drop();
});

test('a grant found active is checked again without a read; the epoch is read once per read snapshot', async () => {
  const { id } = await newGrant();
  await nextTurn();
  grantReads.length = 0;
  epochReads = 0;
  assert.equal(await grants.isGrantActive(id), true);
  assert.equal(grantReads.length, 1, 'the first check reads the grant');
  // The rest of this turn: no read at all.
  for (let i = 0; i < 50; i++) assert.equal(await grants.isGrantActive(id), true);
  assert.equal(grantReads.length, 1);
  assert.equal(epochReads, 1);
  // Later turns: one epoch read each, still no grant read.
  for (let turn = 0; turn < 5; turn++) {
    await nextTurn();
    for (let i = 0; i < 10; i++) assert.equal(await grants.isGrantActive(id), true);
  }
  assert.equal(grantReads.length, 1);
  assert.equal(epochReads, 6);
});

test('revoked here: the next check says so', async () => {
  const { id } = await newGrant();
  assert.equal(await grants.isGrantActive(id), true);
  assert.equal(await grants.revokeGrant(id, 'test'), true);
  assert.equal(await grants.isGrantActive(id), false);
});

test('revoked by another process on the same file: the next request (the next read snapshot) says so', async () => {
  const { id } = await newGrant();
  assert.equal(await grants.isGrantActive(id), true);
  await nextTurn();
  assert.equal(await grants.isGrantActive(id), true, 'trusted from the cache');
  await sql`update oauth_grants set revoked_at = ${Date.now()}, revoked_reason = 'cli' where id = ${id}`.execute(other.db);
  await nextTurn();
  assert.equal(await grants.isGrantActive(id), false);
});

test('a grant removed with its user (a cascade, from another process) is no longer active', async () => {
  const { id, userId } = await newGrant();
  assert.equal(await grants.isGrantActive(id), true);
  await sql`delete from users where id = ${userId}`.execute(other.db);
  assert.equal((await sql`select count(*) as n from oauth_grants where id = ${id}`.execute(other.db)).rows[0]?.['n' as never], 0);
  await nextTurn();
  assert.equal(await grants.isGrantActive(id), false);
});

test('a revocation that rolled back leaves the grant active; other grants stay trusted across unrelated writes', async () => {
  const a = await newGrant();
  const b = await newGrant();
  assert.equal(await grants.isGrantActive(a.id), true);
  assert.equal(await grants.isGrantActive(b.id), true);
  await assert.rejects(
    store.db.transaction().execute(async (trx) => {
      await sql`update oauth_grants set revoked_at = 1 where id = ${a.id}`.execute(trx);
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  await nextTurn();
  assert.equal(await grants.isGrantActive(a.id), true);
  // A write elsewhere (here: a grant's last use) costs an epoch read, not a grant read.
  await sql`update oauth_grants set last_used_at = ${Date.now()} where id = ${b.id}`.execute(store.db);
  grantReads.length = 0;
  assert.equal(await grants.isGrantActive(b.id), true);
  assert.equal(grantReads.length, 0);
});

test('without the epoch row nothing is trusted: every check reads the grant', async () => {
  const { id } = await newGrant();
  assert.equal(await grants.isGrantActive(id), true);
  await sql`delete from oauth_grant_epoch`.execute(other.db);
  await nextTurn();
  grantReads.length = 0;
  for (let i = 0; i < 3; i++) assert.equal(await grants.isGrantActive(id), true);
  assert.equal(grantReads.length, 3);
  await sql`update oauth_grants set revoked_at = 1 where id = ${id}`.execute(other.db);
  await nextTurn();
  assert.equal(await grants.isGrantActive(id), false);
  await sql`insert into oauth_grant_epoch (id, epoch) values (1, 0)`.execute(other.db);
});

test('a check while the connection is held (a transaction in progress) reads the grant instead', async () => {
  const { id } = await newGrant();
  assert.equal(await grants.isGrantActive(id), true);
  await nextTurn();
  grantReads.length = 0;
  let release!: () => void;
  const held = store.db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx);
    await new Promise<void>((resolve) => (release = resolve));
  });
  await nextTurn();
  const check = grants.isGrantActive(id);
  release();
  assert.equal(await check, true);
  await held;
  assert.equal(grantReads.length, 1);
});
