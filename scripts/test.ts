// `npm test`: the type check, the linter, then every test file (unit tests beside their modules, black-box tests
// in test/), then the in-process black-box suites again on the Hono adapter. `npm test -- <files…>` runs just those
// files (both passes), without the type check and the linter.
import { spawnSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
const files = process.argv.slice(2);

function step(title: string, cmd: string, args: string[], env: Record<string, string> = {}): boolean {
  process.stdout.write(`\n=== ${title}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  process.stdout.write(`=== ${title}: ${ok ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return ok;
}

function pgNotice(): void {
  const lines: string[] = [];
  if (!process.env.TOLLGATE_TEST_PG_URL) {
    lines.push('!!! TOLLGATE_TEST_PG_URL is not set: every PostgreSQL half of the dialect suites is SKIPPED.', '!!! Set it (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them; .ci/run does.');
  }
  if (!process.env.TOLLGATE_TEST_REDIS_URL) {
    lines.push('!!! TOLLGATE_TEST_REDIS_URL is not set: the Redis rate-limit suites are SKIPPED.', '!!! Set it (e.g. redis://127.0.0.1:6379) to run them.');
  }
  if (!lines.length) return;
  const bar = '!'.repeat(78);
  process.stdout.write(`\n${bar}\n${lines.join('\n')}\n!!! Skipped suites are counted in the summary's "skipped".\n${bar}\n`);
}

const results: boolean[] = [];
if (files.length === 0) {
  results.push(step('type check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', root]));
  results.push(step('lint (eslint)', bin('eslint'), ['.']));
}
pgNotice();
const testFiles = files.length ? files : globSync(['src/**/*.test.ts', 'test/**/*.test.ts'], { cwd: root }).sort();
const concurrency = process.env.TOLLGATE_TEST_CONCURRENCY ?? '3';
results.push(step(`tests (${testFiles.length} files)`, process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...testFiles]));
// The endpoint table is served by two HTTP adapters (src/http/): the run above used node:http's, as `tollgate serve`
// does; the black-box suites that start their server in-process run again with everything served through Hono, as an
// app embedded elsewhere is (test/helpers/server.ts reads TOLLGATE_TEST_HTTP_ADAPTER).
// Suites whose requests reach only Hono's own routes (pages, sign-in, the management API, the payment webhook, the
// metrics route), never the endpoint table (MCP endpoints, their metadata, /token), are served the same on either
// adapter: once is enough. So are the suites that run `tollgate serve` in child processes (node:http there).
const HONO_ROUTES_ONLY = /^test\/(web-|identity-|invitations-|two-factor|api-|billing|audit-|webhooks-|ops-|oauth-login|oauth-admin-cli|oauth-revocation-processes|credits-webhook)/;
const honoFiles = testFiles.filter((f) => f.startsWith('test/') && !HONO_ROUTES_ONLY.test(f) && readFileSync(path.join(root, f), 'utf8').includes('helpers/server.ts'));
if (honoFiles.length && process.env.TOLLGATE_TEST_HTTP_ADAPTER === undefined) {
  results.push(
    step(`tests on the Hono adapter (${honoFiles.length} files)`, process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...honoFiles], { TOLLGATE_TEST_HTTP_ADAPTER: 'hono' }),
  );
}
pgNotice();
process.exit(results.every(Boolean) ? 0 : 1);
