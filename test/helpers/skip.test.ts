// `npm test`'s summary counts the suites skipped for want of PostgreSQL or Redis, rather than saying "skipped 0".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

test('a suite skipped for want of TOLLGATE_TEST_PG_URL or TOLLGATE_TEST_REDIS_URL is counted in the summary as skipped', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-skip-'));
  try {
    const file = path.join(dir, 'fixture.test.ts');
    const helper = (name: string) => pathToFileURL(path.join(import.meta.dirname, name)).href;
    writeFileSync(
      file,
      [
        `import { test } from 'node:test';`,
        `import { forEachDialect } from ${JSON.stringify(helper('databases.ts'))};`,
        `import { describeUnless } from ${JSON.stringify(helper('skip.ts'))};`,
        `forEachDialect('store', () => { test('one', () => {}); test('two', () => {}); });`,
        `describeUnless('redis', 'TOLLGATE_TEST_REDIS_URL not set', () => { test('three', () => {}); });`,
      ].join('\n'),
    );
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ℹ pass 2\n/, r.stdout);
    assert.match(r.stdout, /ℹ skipped 2\n/, 'the PostgreSQL half and the Redis suite');
    assert.match(r.stdout, /TOLLGATE_TEST_PG_URL not set/);
    assert.match(r.stdout, /TOLLGATE_TEST_REDIS_URL not set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
