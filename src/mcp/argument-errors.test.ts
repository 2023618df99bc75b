import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeArgumentErrors, fieldName } from './argument-errors.ts';
import { createArgumentValidator } from './registry.ts';

test('messages name the field and say what is wrong', () => {
  const validate = createArgumentValidator().compile({
    type: 'object',
    properties: {
      email: { type: 'string', format: 'email' },
      stage: { type: 'string', enum: ['lead', 'won'] },
      amount: { type: 'number', minimum: 0 },
      tags: { type: 'array', items: { type: 'string' } },
      contact: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    },
    required: ['amount'],
    additionalProperties: false,
  });
  assert.equal(validate({ email: 'x', stage: 'open', extra: 1, tags: ['a', 2], contact: {} }), false);
  const msg = describeArgumentErrors(validate.errors, 10);
  for (const part of [
    'missing required field "amount"',
    'unknown field "extra"',
    'field "email" must be a valid email',
    'field "stage" must be one of: "lead", "won"',
    'field "tags[1]" must be string',
    'missing required field "contact.name"',
  ]) assert.ok(msg.includes(part), `${part} in: ${msg}`);
  assert.equal(validate({ amount: -1 }), false);
  assert.equal(describeArgumentErrors(validate.errors), 'field "amount" must be >= 0');
  assert.equal(describeArgumentErrors([]), 'arguments are invalid');
});

test('field paths read naturally', () => {
  assert.equal(fieldName('/a/b/0/c'), 'a.b[0].c');
  assert.equal(fieldName('', 'x'), 'x');
  assert.equal(fieldName('/a~1b'), 'a/b');
});
