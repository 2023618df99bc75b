import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { accountsModule, type Accounts } from './index.ts';
import type { Store } from '../store/store.ts';

forEachDialect('accounts', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let accounts: Accounts;
  before(async () => {
    store = await createTestStore(dialect);
    accounts = accountsModule(store, { sessionTtlSeconds: 60 });
  });
  after(async () => store.drop());

  test('emails are unique case-insensitively', async () => {
    await accounts.users.createUser({ email: 'Ada@Example.com', password: 'long enough pw' });
    await assert.rejects(accounts.users.createUser({ email: 'ada@example.COM ', password: 'long enough pw' }), { code: 'email_taken' });
    const found = await accounts.users.findUserByEmail('ADA@example.com');
    assert.equal(found?.email, 'Ada@Example.com');
  });

  test('bad emails and short passwords are refused', async () => {
    await assert.rejects(accounts.users.createUser({ email: 'not-an-email', password: 'long enough pw' }), { code: 'invalid_email' });
    await assert.rejects(accounts.users.createUser({ email: 'b@example.com', password: 'short' }), { code: 'weak_password' });
  });

  test('authenticate: the right password signs in; a wrong password and an unknown email look the same', async () => {
    const ok = await accounts.users.authenticate('ada@example.com', 'long enough pw');
    assert.equal(ok?.email, 'Ada@Example.com');
    assert.equal(await accounts.users.authenticate('ada@example.com', 'wrong password'), undefined);
    assert.equal(await accounts.users.authenticate('nobody@example.com', 'long enough pw'), undefined);
  });

  test('workspace slugs: valid, invalid, reserved, duplicate', async () => {
    const owner = await accounts.users.createUser({ email: 'owner@example.com', password: 'long enough pw' });
    const ws = await accounts.workspaces.createWorkspace({ slug: 'acme-crm', name: 'Acme', ownerUserId: owner.id });
    assert.equal(ws.slug, 'acme-crm');
    for (const bad of ['ab', 'Acme', 'acme_crm', '-acme', 'acme-', 'a'.repeat(41), 'ac--me', 'acme crm', '../x']) {
      await assert.rejects(accounts.workspaces.createWorkspace({ slug: bad }), { code: 'invalid_slug' }, bad);
    }
    for (const reserved of ['well-known', 'api', 'mcp', 'oauth', 'admin', 'static', 'healthz']) {
      await assert.rejects(accounts.workspaces.createWorkspace({ slug: reserved }), { code: 'reserved_slug' }, reserved);
    }
    await assert.rejects(accounts.workspaces.createWorkspace({ slug: 'acme-crm' }), { code: 'slug_taken' });
    assert.equal(await accounts.workspaces.getRole(ws.id, owner.id), 'owner');
  });

  test('external ids: set, found, unique, cleared; bad ones refused', async () => {
    const a = await accounts.workspaces.createWorkspace({ slug: 'ext-a' });
    const b = await accounts.workspaces.createWorkspace({ slug: 'ext-b' });
    assert.equal(a.externalId, null);
    assert.equal((await accounts.workspaces.setWorkspaceExternalId(a.id, 'cus_123')).externalId, 'cus_123');
    assert.equal((await accounts.workspaces.findWorkspaceByExternalId('cus_123'))?.id, a.id);
    assert.equal((await accounts.workspaces.getWorkspaceBySlug('ext-a'))?.externalId, 'cus_123');
    await assert.rejects(accounts.workspaces.setWorkspaceExternalId(b.id, 'cus_123'), { code: 'external_id_taken' });
    await assert.rejects(accounts.workspaces.setWorkspaceExternalId(b.id, 'has space'), { code: 'invalid_external_id' });
    await assert.rejects(accounts.workspaces.setWorkspaceExternalId(b.id, ''), { code: 'invalid_external_id' });
    // Several workspaces may have none: the unique index ignores nulls.
    await accounts.workspaces.setWorkspaceExternalId(a.id, null);
    assert.equal(await accounts.workspaces.findWorkspaceByExternalId('cus_123'), undefined);
    assert.equal((await accounts.workspaces.getWorkspace(b.id))?.externalId, null);
  });

  test('memberships: add, change role, remove; the last owner stays', async () => {
    const ws = (await accounts.workspaces.getWorkspaceBySlug('acme-crm'))!;
    const bob = await accounts.users.createUser({ email: 'bob@example.com', password: 'long enough pw' });
    await accounts.workspaces.addMember('acme-crm', 'BOB@example.com', 'member');
    assert.equal(await accounts.workspaces.getRole(ws.id, bob.id), 'member');
    await accounts.workspaces.addMember('acme-crm', 'bob@example.com', 'admin');
    assert.equal(await accounts.workspaces.getRole(ws.id, bob.id), 'admin');
    assert.deepEqual((await accounts.workspaces.listWorkspacesForUser(bob.id)).map((w) => [w.slug, w.role]), [['acme-crm', 'admin']]);
    await assert.rejects(accounts.workspaces.removeMember('acme-crm', 'owner@example.com'), { code: 'last_owner' });
    await assert.rejects(accounts.workspaces.addMember('acme-crm', 'owner@example.com', 'member'), { code: 'last_owner' });
    await assert.rejects(accounts.workspaces.addMember('acme-crm', 'bob@example.com', 'king' as never), { code: 'invalid_role' });
    await assert.rejects(accounts.workspaces.addMember('nope-ws', 'bob@example.com', 'member'), { code: 'not_found' });
    await assert.rejects(accounts.workspaces.addMember('acme-crm', 'ghost@example.com', 'member'), { code: 'not_found' });
    await accounts.workspaces.removeMember('acme-crm', 'bob@example.com');
    assert.equal(await accounts.workspaces.getRole(ws.id, bob.id), undefined);
    await assert.rejects(accounts.workspaces.removeMember('acme-crm', 'bob@example.com'), { code: 'not_found' });
  });

  test('sessions: stored hashed, expire, sign out', async () => {
    const user = (await accounts.users.findUserByEmail('ada@example.com'))!;
    const { cookieValue } = await accounts.sessions.createSession(user.id);
    const s = await accounts.sessions.getSession(cookieValue);
    assert.equal(s?.user.id, user.id);
    const rows = await store.db.selectFrom('sessions').select('id_hash').execute();
    assert.ok(rows.every((r: { id_hash: string }) => r.id_hash !== cookieValue && r.id_hash.length === 64));
    assert.equal(await accounts.sessions.getSession('forged'), undefined);
    await accounts.sessions.deleteSession(cookieValue);
    assert.equal(await accounts.sessions.getSession(cookieValue), undefined);
    const short = accountsModule(store, { sessionTtlSeconds: -1 });
    const expired = await short.sessions.createSession(user.id);
    assert.equal(await accounts.sessions.getSession(expired.cookieValue), undefined);
    assert.ok((await accounts.sessions.deleteExpiredSessions()) >= 1);
  });
});
