import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore, forEachDialect } from '../../test/helpers/databases.ts';
import { accountsModule, twoFactorService, RECOVERY_CODE_COUNT, type TwoFactorService } from './index.ts';
import { hotp, totpAt, totpStep } from './totp.ts';
import type { Store } from '../store/store.ts';
import type { AccountsTables } from './tables.ts';
import { auditModule } from '../audit/index.ts';

forEachDialect('two-factor', (dialect) => {
  let store: Store & { drop(): Promise<void> };
  let tf: TwoFactorService;
  let userId: string;
  let enrolledKey: Buffer;
  let recoveryCodes: string[];
  before(async () => {
    store = await createTestStore(dialect);
    const accounts = accountsModule(store, { sessionTtlSeconds: 60 });
    tf = twoFactorService(store, 'server secret for the test');
    userId = (await accounts.users.createUser({ email: 'ada@example.com', password: 'long enough pw' })).id;
  });
  after(async () => store.drop());

  const T0 = 1_800_000_000_000;

  test('enrolment: the key is sealed at rest, a reload shows the same key, a wrong code does not turn it on', async () => {
    assert.equal(await tf.status(userId), 'off');
    const key = await tf.beginEnrolment(userId);
    assert.deepEqual(await tf.beginEnrolment(userId), key);
    assert.equal(await tf.status(userId), 'pending');
    const row = await store.typed<AccountsTables>().selectFrom('user_totp').selectAll().executeTakeFirstOrThrow();
    assert.match(row.secret_sealed, /^v1\./);
    assert.ok(!row.secret_sealed.includes(key.toString('base64url')) && !row.secret_sealed.includes(key.toString('hex')));
    await assert.rejects(twoFactorService(store, 'another secret').beginEnrolment(userId), 'another secret cannot open the key');
    assert.equal(await tf.confirmEnrolment(userId, hotp(key, totpStep(T0) + 5), T0), undefined);
    assert.equal(await tf.status(userId), 'pending');
    assert.deepEqual(await tf.verify(userId, totpAt(key, T0), T0), { ok: false, reason: 'not_enrolled' });
    const codes = (await tf.confirmEnrolment(userId, totpAt(key, T0), T0))!;
    assert.equal(codes.length, RECOVERY_CODE_COUNT);
    assert.equal(new Set(codes).size, RECOVERY_CODE_COUNT);
    assert.equal(await tf.status(userId), 'on');
    await assert.rejects(tf.beginEnrolment(userId));
    const hashes = await store.typed<AccountsTables>().selectFrom('recovery_codes').select('code_hash').execute();
    assert.ok(hashes.every((h) => !codes.some((c) => h.code_hash.includes(c.replace('-', '')))));
    recoveryCodes = codes;
    enrolledKey = key;
  });

  test('sign-in codes: the code of the enrolment step is spent; the next step works once; an earlier step and a wrong code are refused', async () => {
    const key = enrolledKey;
    assert.deepEqual(await tf.verify(userId, totpAt(key, T0), T0), { ok: false, reason: 'replayed' });
    const next = T0 + 30_000;
    assert.deepEqual(await tf.verify(userId, ` ${totpAt(key, next)} `, next), { ok: true, method: 'totp' });
    assert.deepEqual(await tf.verify(userId, totpAt(key, next), next), { ok: false, reason: 'replayed' });
    // Still within ±1 step of the clock, but older than the step already used.
    assert.deepEqual(await tf.verify(userId, totpAt(key, T0), next), { ok: false, reason: 'replayed' });
    const later = T0 + 90_000;
    const wrong = ['000000', '123456'].find((c) => ![-1, 0, 1].some((d) => hotp(key, totpStep(later) + d) === c))!;
    assert.deepEqual(await tf.verify(userId, wrong, later), { ok: false, reason: 'wrong' });
    assert.deepEqual(await tf.verify(userId, hotp(key, totpStep(later) + 3), later), { ok: false, reason: 'wrong' });
  });

  test('two sign-ins with one code at once: exactly one is accepted', async () => {
    const key = enrolledKey;
    const at = T0 + 300_000;
    const results = await Promise.all([tf.verify(userId, totpAt(key, at), at), tf.verify(userId, totpAt(key, at), at), tf.verify(userId, totpAt(key, at), at)]);
    assert.equal(results.filter((r) => r.ok).length, 1);
  });

  test('recovery codes: each works once, in any case and without the dash; regenerating replaces them; disabling ends it', async () => {
    const codes = recoveryCodes;
    assert.deepEqual(await tf.verify(userId, codes[0].toUpperCase().replace('-', ' '), T0), { ok: true, method: 'recovery' });
    assert.deepEqual(await tf.verify(userId, codes[0], T0), { ok: false, reason: 'wrong' });
    assert.equal(await tf.remainingRecoveryCodes(userId), RECOVERY_CODE_COUNT - 1);
    assert.deepEqual(await tf.verify(userId, 'aaaaa-aaaaa', T0), { ok: false, reason: 'wrong' });
    const cli = { actor: { type: 'cli' as const, id: 'op', label: 'op@host' } };
    const fresh = (await tf.regenerateRecoveryCodes(userId, cli))!;
    assert.deepEqual(await tf.verify(userId, codes[1], T0), { ok: false, reason: 'wrong' });
    assert.deepEqual(await tf.verify(userId, fresh[1], T0), { ok: true, method: 'recovery' });
    assert.equal(await tf.disable(userId, cli), true);
    assert.equal(await tf.status(userId), 'off');
    assert.deepEqual(await tf.verify(userId, fresh[2], T0), { ok: false, reason: 'not_enrolled' });
    // Both changes are in the audit log, in their own transactions; turning off what is off records nothing.
    assert.equal(await tf.disable(userId, cli), false);
    const { records } = await auditModule(store).list({ limit: 10 });
    assert.deepEqual(records.filter((r) => r.action.startsWith('two_factor.')).map((r) => [r.action, r.target.id, r.actor.label]), [
      ['two_factor.disabled', userId, 'op@host'],
      ['two_factor.recovery_codes_replaced', userId, 'op@host'],
    ]);
    assert.ok(!JSON.stringify(records).includes(fresh[3]), 'no recovery code in the trail');
  });
});
