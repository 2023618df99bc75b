import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doctorClientIds } from './run-doctor.ts';
import { doctorCommand } from '../../cli/doctor.ts';

test('the doctor command lists every client id in its usage', () => {
  for (const id of doctorClientIds) assert.ok(doctorCommand.args!.includes(id), id);
  assert.equal(doctorClientIds.length, doctorCommand.args!.match(/<([^>]*\|[^>]*)>/)![1].split('|').length);
});
