import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePassword, hashPassword, verifyPassword } from './password.ts';

test('a hashed password verifies, a wrong one does not', async () => {
  const hash = await hashPassword('correct horse battery staple');
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.ok(!hash.includes('correct'));
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
});

test('two hashes of one password differ (salted)', async () => {
  assert.notEqual(await hashPassword('x'), await hashPassword('x'));
});

test('no stored hash or a malformed one never verifies', async () => {
  assert.equal(await verifyPassword('anything', null), false);
  assert.equal(await verifyPassword('anything', 'md5$abc'), false);
});

test('generated passwords are 20 characters and differ', () => {
  const a = generatePassword();
  assert.equal(a.length, 20);
  assert.notEqual(a, generatePassword());
});
