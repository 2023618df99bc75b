import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { accountsModule, passwordResetsService, type Accounts, type PasswordResetsService } from './index.ts';
import type { Store } from '../store/store.ts';
import type { AccountsTables } from './tables.ts';

forEachDialect('password resets', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let accounts: Accounts;
  let resets: PasswordResetsService;
  before(async () => {
    store = await createTestStore(dialect);
    accounts = accountsModule(store, { sessionTtlSeconds: 600 });
    resets = passwordResetsService(store, { passwordResetTtlSeconds: 900 });
    await accounts.users.createUser({ email: 'Ada@example.com', password: 'the old password' });
  });
  after(async () => store.drop());

  test('a reset sets the password once, spends the other links and ends every session', async () => {
    const ada = (await accounts.users.findUserByEmail('ada@example.com'))!;
    const s1 = await accounts.sessions.createSession(ada.id);
    const s2 = await accounts.sessions.createSession(ada.id);
    const one = (await resets.requestReset(' ADA@example.com'))!;
    const two = (await resets.requestReset('ada@example.com'))!;
    assert.equal(one.email, 'Ada@example.com');
    const rows = await store.typed<AccountsTables>().selectFrom('password_resets').select('token_hash').execute();
    assert.ok(rows.every((r) => r.token_hash !== one.token && r.token_hash.length === 64));
    assert.deepEqual(await resets.checkToken(one.token), { userId: ada.id, email: 'Ada@example.com' });
    await assert.rejects(resets.resetPassword(one.token, 'short'), { code: 'weak_password' });
    await resets.resetPassword(one.token, 'the new password!');
    assert.equal((await accounts.users.authenticate('ada@example.com', 'the new password!'))?.id, ada.id);
    assert.equal(await accounts.users.authenticate('ada@example.com', 'the old password'), undefined);
    assert.equal(await accounts.sessions.getSession(s1.cookieValue), undefined);
    assert.equal(await accounts.sessions.getSession(s2.cookieValue), undefined);
    await assert.rejects(resets.resetPassword(one.token, 'another password'), { reason: 'used' });
    await assert.rejects(resets.resetPassword(two.token, 'another password'), { reason: 'used' });
  });

  test('an unknown address gets no usable link, but the same work is done', async () => {
    const before = (await store.typed<AccountsTables>().selectFrom('password_resets').select('token_hash').execute()).length;
    assert.equal(await resets.requestReset('nobody@example.com'), undefined);
    assert.equal((await store.typed<AccountsTables>().selectFrom('password_resets').select('token_hash').execute()).length, before + 1);
    assert.equal(await resets.checkToken('made-up'), 'invalid');
    await assert.rejects(resets.resetPassword('made-up', 'long enough password'), { reason: 'invalid' });
  });

  test('an expired link is refused; two uses at once: one wins', async () => {
    const short = passwordResetsService(store, { passwordResetTtlSeconds: -1 });
    const old = (await short.requestReset('ada@example.com'))!;
    assert.equal(await resets.checkToken(old.token), 'expired');
    await assert.rejects(resets.resetPassword(old.token, 'long enough password'), { reason: 'expired' });
    const link = (await resets.requestReset('ada@example.com'))!;
    const results = await Promise.allSettled([resets.resetPassword(link.token, 'racing password one'), resets.resetPassword(link.token, 'racing password two')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    // Expired rows go; the current ones stay.
    const fresh = (await resets.requestReset('ada@example.com'))!;
    assert.ok((await resets.deleteOld(0)) >= 1);
    assert.equal(typeof (await resets.checkToken(fresh.token)), 'object');
    assert.equal(await resets.checkToken(old.token), 'invalid');
  });
});
