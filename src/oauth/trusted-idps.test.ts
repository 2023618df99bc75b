import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStore } from '../../test/helpers/databases.ts';
import type { Store } from '../store/store.ts';
import { accountsModule } from '../accounts/index.ts';
import { loadConfig } from '../config/config.ts';
import { testSigner } from '../../test/helpers/jwt-signer.ts';
import { trustedIdpsService, type TrustedIdps } from './trusted-idps.ts';

let store: Store & { drop(): Promise<void> };
let idps: TrustedIdps;
const jwks = testSigner('ES256').jwks;
before(async () => {
  store = await createTestStore('sqlite');
  idps = trustedIdpsService(store, { allowPrivate: false, timeoutMs: 1000 });
});
after(async () => store.drop());

test('addIdp validates its input: name, issuer, exactly one key source, public keys only, at least one client', async () => {
  const ok = { name: 'acme', issuer: 'https://idp.acme.example', jwks, allowedClientIds: ['c1'] };
  await assert.rejects(idps.addIdp({ ...ok, name: 'Not OK!' }), /name/);
  await assert.rejects(idps.addIdp({ ...ok, issuer: 'ftp://x' }), /issuer/);
  await assert.rejects(idps.addIdp({ ...ok, issuer: 'https://x.example/?q=1' }), /issuer/);
  await assert.rejects(idps.addIdp({ ...ok, jwksUri: 'https://x.example/jwks' }), /either/);
  await assert.rejects(idps.addIdp({ ...ok, jwks: undefined }), /either/);
  await assert.rejects(idps.addIdp({ ...ok, jwks: { keys: [{ ...jwks.keys[0], d: 'secret' }] } }), /private key/);
  await assert.rejects(idps.addIdp({ ...ok, jwks: { keys: [{ kty: 'oct', k: 'abc' }] } }), /private key|no usable/);
  await assert.rejects(idps.addIdp({ ...ok, allowedClientIds: [' '] }), /client/);
  const added = await idps.addIdp(ok);
  assert.deepEqual(added.allowedClientIds, ['c1']);
  await assert.rejects(idps.addIdp({ ...ok, name: 'acme2' }), /exists/);
  assert.equal((await idps.findByIssuer('https://idp.acme.example'))?.name, 'acme');
  assert.equal(await idps.findByIssuer('https://idp.acme.example/'), undefined, 'the issuer is compared exactly');
});

test('a JWKS URL on a private address is refused by the SSRF guard (invalid_grant, nothing fetched)', async () => {
  const idp = await idps.addIdp({ name: 'intranet', issuer: 'https://intranet.example', jwksUri: 'https://127.0.0.1:9/jwks', allowedClientIds: ['c1'] });
  await assert.rejects(idps.signingKeys(idp, 'k'), (err: Error & { error?: string }) => /not a public address/.test(err.message));
});

test('removing a provider forgets the account links of its subjects', async () => {
  const user = await accountsModule(store, loadConfig({ env: {} })).users.createUser({ email: 'a@acme.example', password: 'long enough pw' });
  await idps.linkIdentity('https://idp.acme.example', 'sub-1', user.id);
  await idps.linkIdentity('https://idp.acme.example', 'sub-1', 'someone-else-later');
  assert.equal(await idps.findIdentity('https://idp.acme.example', 'sub-1'), user.id, 'the first link stands');
  assert.equal(await idps.removeIdp('acme'), true);
  assert.equal(await idps.findIdentity('https://idp.acme.example', 'sub-1'), undefined);
  assert.equal(await idps.removeIdp('acme'), false);
});
