import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTemporarilyUnavailable } from './unavailable.ts';

test('connection failures and PostgreSQL shutdown states are temporary', () => {
  const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006', '08001', '53300']) assert.equal(isTemporarilyUnavailable(coded(code)), true, code);
  assert.equal(isTemporarilyUnavailable(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isTemporarilyUnavailable(new Error('timeout exceeded when trying to connect')), true);
  assert.equal(isTemporarilyUnavailable(new Error('wrapped', { cause: coded('ECONNREFUSED') })), true);
});

test('anything else is not: a bug must stay a 500', () => {
  const coded = (code: string) => Object.assign(new Error('x'), { code });
  for (const code of ['23505', '42P01', '22P02', 'SQLITE_CONSTRAINT', 'ERR_INVALID_ARG_TYPE']) assert.equal(isTemporarilyUnavailable(coded(code)), false, code);
  assert.equal(isTemporarilyUnavailable(new TypeError('Cannot read properties of undefined')), false);
  assert.equal(isTemporarilyUnavailable(undefined), false);
  assert.equal(isTemporarilyUnavailable('ECONNREFUSED'), false);
});
