import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operationOf } from './metrics.ts';

test('operationOf names the statement by its first keyword, in either case, and `other` for the rest', () => {
  assert.equal(operationOf('select * from x'), 'select');
  assert.equal(operationOf('  insert into x values ($1)'), 'insert');
  assert.equal(operationOf('BEGIN IMMEDIATE'), 'begin');
  assert.equal(operationOf('Update x set a = 1'), 'update');
  assert.equal(operationOf('with t as (select 1) select * from t'), 'with');
  assert.equal(operationOf('vacuum'), 'other');
  assert.equal(operationOf(''), 'other');
});
