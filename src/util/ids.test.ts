import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newClientId } from './ids.ts';

test('client ids are 24 base64url characters and never start with - or _ (a command line would take them for an option)', () => {
  // With a plain random base64url string, 1 in 32 would start with one of the two: among 3,000, some surely would.
  const ids = Array.from({ length: 3000 }, newClientId);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9][A-Za-z0-9_-]{23}$/);
  assert.equal(new Set(ids).size, ids.length);
});
