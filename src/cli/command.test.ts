import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs, UsageError, type Command } from './command.ts';

const cmd: Command = {
  path: ['mcp', 'add'],
  summary: 'test',
  positionals: 1,
  options: { url: { type: 'string' }, 'client-secret': { type: 'string' }, json: { type: 'boolean' }, scope: { type: 'string', short: 's' } },
  run: async () => 0,
};

test('a string option takes a value that starts with a dash (a generated secret can)', () => {
  const r = parseCommandArgs(cmd, ['crm', '--client-secret', '-aB3_x', '--url', 'http://x/mcp']);
  assert.equal(r.values['client-secret'], '-aB3_x');
  assert.equal(r.values.url, 'http://x/mcp');
  assert.deepEqual(r.positionals, ['crm']);
  assert.equal(parseCommandArgs(cmd, ['crm', '--client-secret', '--x-y']).values['client-secret'], '--x-y');
  assert.equal(parseCommandArgs(cmd, ['crm', '--client-secret', '-']).values['client-secret'], '-', 'a lone dash (read from stdin) as before');
});

test('a missing value is still an error when what follows is one of the options', () => {
  assert.throws(() => parseCommandArgs(cmd, ['crm', '--client-secret', '--url', 'http://x/mcp']), UsageError);
  assert.throws(() => parseCommandArgs(cmd, ['crm', '--client-secret', '-s', 'read']), UsageError);
  assert.throws(() => parseCommandArgs(cmd, ['crm', '--client-secret', '--json']), UsageError);
  // A boolean option never takes a value, and `--` ends the options.
  assert.throws(() => parseCommandArgs(cmd, ['crm', '--json', '-x']), UsageError);
  assert.deepEqual(parseCommandArgs({ ...cmd, positionals: [1, 2] }, ['crm', '--', '--client-secret']).positionals, ['crm', '--client-secret']);
});
