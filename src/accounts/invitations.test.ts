import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { accountsModule, invitationsService, type Accounts, type InvitationsService, type Workspace } from './index.ts';
import type { Store } from '../store/store.ts';
import type { AccountsTables } from './tables.ts';

forEachDialect('invitations', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let accounts: Accounts;
  let invitations: InvitationsService;
  let ws: Workspace;
  let ownerId: string;
  before(async () => {
    store = await createTestStore(dialect);
    accounts = accountsModule(store, { sessionTtlSeconds: 60 });
    invitations = invitationsService(store, { invitationTtlSeconds: 3600 });
    ownerId = (await accounts.users.createUser({ email: 'owner@example.com', password: 'long enough pw' })).id;
    ws = await accounts.workspaces.createWorkspace({ slug: 'acme', name: 'Acme', ownerUserId: ownerId });
  });
  after(async () => store.drop());

  test('the token is stored only as its hash; the link signs a new person up with the role, once', async () => {
    const { invitation, token } = await invitations.createInvitation({ workspace: ws, email: 'New@Example.com', role: 'admin', invitedBy: ownerId });
    assert.equal(invitation.state, 'pending');
    assert.equal(invitation.invitedBy?.email, 'owner@example.com');
    const rows = await store.typed<AccountsTables>().selectFrom('invitations').selectAll().execute();
    assert.ok(rows.every((r) => r.token_hash !== token && r.token_hash.length === 64));
    const { user, role } = await invitations.acceptWithSignUp(token, { password: 'a new long password', name: 'New Person' });
    assert.equal(user.email, 'New@Example.com');
    assert.equal(user.emailVerified, false, 'a link that was never mailed proves nothing about the mailbox');
    assert.equal(role, 'admin');
    assert.equal(await accounts.workspaces.getRole(ws.id, user.id), 'admin');
    assert.equal((await accounts.users.authenticate('new@example.com', 'a new long password'))?.id, user.id);
    await assert.rejects(invitations.acceptWithSignUp(token, { password: 'a new long password' }), { reason: 'used' });
    await assert.rejects(invitations.acceptForUser(token, ownerId), { reason: 'used' });
    assert.equal((await invitations.findByToken(token))?.state, 'accepted');
  });

  test('unknown, revoked and expired links are refused with their reason; a newer invitation revokes the older one', async () => {
    await assert.rejects(invitations.acceptForUser('never-issued', ownerId), { reason: 'invalid' });
    const first = await invitations.createInvitation({ workspace: ws, email: 'bob@example.com', role: 'member' });
    const second = await invitations.createInvitation({ workspace: ws, email: 'BOB@example.com', role: 'member' });
    await assert.rejects(invitations.acceptWithSignUp(first.token, { password: 'long enough password' }), { reason: 'revoked' });
    assert.deepEqual((await invitations.listOpenInvitations(ws.id)).map((i) => i.id), [second.invitation.id]);
    assert.equal(await invitations.revokeInvitation(ws.id, second.invitation.id), true);
    assert.equal(await invitations.revokeInvitation(ws.id, second.invitation.id), false);
    await assert.rejects(invitations.acceptWithSignUp(second.token, { password: 'long enough password' }), { reason: 'revoked' });
    const short = invitationsService(store, { invitationTtlSeconds: -1 });
    const expired = await short.createInvitation({ workspace: ws, email: 'late@example.com', role: 'member' });
    assert.equal((await invitations.listOpenInvitations(ws.id)).find((i) => i.id === expired.invitation.id)?.state, 'expired');
    await assert.rejects(invitations.acceptWithSignUp(expired.token, { password: 'long enough password' }), { reason: 'expired' });
    assert.equal(await accounts.users.findUserByEmail('late@example.com'), undefined, 'nothing was created');
  });

  test('inviting a member, a bad address or a bad role is refused', async () => {
    await assert.rejects(invitations.createInvitation({ workspace: ws, email: 'OWNER@example.com', role: 'member' }), { reason: 'already_member' });
    await assert.rejects(invitations.createInvitation({ workspace: ws, email: 'not an email', role: 'member' }), { reason: 'invalid_email' });
    await assert.rejects(invitations.createInvitation({ workspace: ws, email: 'x@example.com', role: 'king' as never }), { reason: 'invalid_role' });
  });

  test('an existing account accepts for itself; its existing role is kept; signing up as an existing address is refused', async () => {
    const carol = await accounts.users.createUser({ email: 'carol@example.com', password: 'long enough pw' });
    const inv = await invitations.createInvitation({ workspace: ws, email: 'carol@example.com', role: 'member' });
    await assert.rejects(invitations.acceptWithSignUp(inv.token, { password: 'long enough password' }), { code: 'email_taken' });
    assert.equal((await invitations.findByToken(inv.token))?.state, 'pending', 'the failed sign-up did not use the link');
    const accepted = await invitations.acceptForUser(inv.token, carol.id);
    assert.deepEqual([accepted.workspace.slug, accepted.role, accepted.alreadyMember], ['acme', 'member', false]);
    await accounts.workspaces.addMember('acme', 'carol@example.com', 'admin');
    // Invited again while… already a member is refused at creation; an invitation accepted by a member keeps the role.
    const dave = await accounts.users.createUser({ email: 'dave@example.com', password: 'long enough pw' });
    const forDave = await invitations.createInvitation({ workspace: ws, email: 'dave@example.com', role: 'member' });
    await accounts.workspaces.addMember('acme', 'dave@example.com', 'admin');
    assert.equal((await invitations.acceptForUser(forDave.token, dave.id)).alreadyMember, true);
    assert.equal(await accounts.workspaces.getRole(ws.id, dave.id), 'admin');
  });

  test('invitations that ended long ago are deleted; open ones stay', async () => {
    const open = await invitations.createInvitation({ workspace: ws, email: 'keep@example.com', role: 'member' });
    const before = (await store.typed<AccountsTables>().selectFrom('invitations').select('id').execute()).length;
    assert.ok(before > 1);
    // With a negative age everything that has ended by a minute from now goes: every accepted, revoked or expired row.
    assert.ok((await invitations.deleteEnded(-60_000)) >= 1);
    const left = await store.typed<AccountsTables>().selectFrom('invitations').select('id').execute();
    assert.ok(left.some((r) => r.id === open.invitation.id));
    assert.ok(left.length < before);
  });

  test('two accepts of one link at once: exactly one wins', async () => {
    const inv = await invitations.createInvitation({ workspace: ws, email: 'race@example.com', role: 'member' });
    const results = await Promise.allSettled([
      invitations.acceptWithSignUp(inv.token, { password: 'long enough password' }),
      invitations.acceptWithSignUp(inv.token, { password: 'long enough password' }),
      invitations.acceptForUser(inv.token, ownerId),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status === 'rejected' ? String(r.reason) : 'ok')));
  });
});
