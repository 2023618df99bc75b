import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from './crypto-box.ts';

test('sealed values open with the same secret and purpose only', () => {
  const box = new SecretBox('s3cret', 'keys');
  const sealed = box.seal('{"d":"private"}');
  assert.ok(!sealed.includes('private'));
  assert.equal(box.open(sealed), '{"d":"private"}');
  assert.throws(() => new SecretBox('other', 'keys').open(sealed));
  assert.throws(() => new SecretBox('s3cret', 'other').open(sealed));
  const parts = sealed.split('.');
  parts[3] = Buffer.from('tampered').toString('base64url');
  assert.throws(() => box.open(parts.join('.')));
  assert.throws(() => box.open('garbage'));
});
