// Requirement: the README's configuration reference is generated from the defaults file and cannot drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { withConfigReference } from '../src/config/reference.ts';
import { settings } from '../src/config/defaults.ts';

test('README configuration reference matches src/config/defaults.ts (run `npm run docs:config` to fix)', () => {
  const readme = readFileSync(path.resolve(import.meta.dirname, '..', 'README.md'), 'utf8');
  assert.equal(readme, withConfigReference(readme));
  for (const s of Object.values(settings)) assert.ok(readme.includes(`\`${s.env}\``), s.env);
});
