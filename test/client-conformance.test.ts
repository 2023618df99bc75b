// `@modelcontextprotocol/conformance client --suite auth` with `tollgate` as the client, on 0.1.16 and on the
// 0.2.0-alpha line: every scenario passes, with no failure and no warning. The conformance mock authorization
// server approves at once and redirects to the client's callback; TOLLGATE_BROWSER points at a stand-in browser
// that just follows those redirects, so the loopback listener receives the code as it would from a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './helpers/cli.ts';

const node = process.execPath;
const clientCommand = `${node} ${path.join(ROOT, 'test', 'helpers', 'conformance-client.ts')}`;
const browser = `${node} ${path.join(ROOT, 'test', 'helpers', 'follow-redirects-browser.ts')}`;
// Node's compile cache (stripped TypeScript and bytecode) halves the start-up of the many tollgate processes.
const compileCache = path.join(tmpdir(), 'tollgate-test-compile-cache');

const versions = [
  { name: '0.1.16', entry: path.join(ROOT, 'node_modules', 'conformance-0.1', 'dist', 'index.js') },
  { name: '0.2.0-alpha', entry: path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js') },
];

interface Run {
  code: number | null;
  output: string;
  resultsDir: string;
}

function runSuite(entry: string): Promise<Run> {
  const work = mkdtempSync(path.join(tmpdir(), 'tollgate-conformance-'));
  const resultsDir = path.join(work, 'results');
  return new Promise((resolve) => {
    // A generous per-scenario timeout: the scenarios run in parallel, each starting a tollgate process.
    const child = spawn(node, [entry, 'client', '--command', clientCommand, '--suite', 'auth', '--timeout', '120000', '-o', resultsDir], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TOLLGATE_CLIENT_DIR: path.join(work, 'client'), TOLLGATE_BROWSER: browser, NO_COLOR: '1', NODE_COMPILE_CACHE: compileCache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 230_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, resultsDir });
    });
  });
}

/** Every check of every scenario, from the results directory (`<dir>/<scenario>/checks.json`). */
function checksIn(dir: string): { scenario: string; id: string; status: string; description: string }[] {
  const out: { scenario: string; id: string; status: string; description: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'checks.json') {
        for (const c of JSON.parse(readFileSync(p, 'utf8')) as { id: string; status: string; description: string }[]) out.push({ scenario: path.relative(dir, d), ...c });
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

// One version after the other: each already runs its scenarios in parallel (a tollgate process per scenario),
// and both at once would starve the other test files on a small machine.
const runs = new Map<string, Promise<Run>>();
let previous: Promise<unknown> = Promise.resolve();
for (const v of versions) {
  const run = previous.then(() => runSuite(v.entry));
  runs.set(v.name, run);
  previous = run;
}

for (const v of versions) {
  test(`conformance ${v.name} client --suite auth: every scenario passes, no warnings`, { timeout: 240_000 }, async (t) => {
    const run = await runs.get(v.name)!;
    t.after(() => rmSync(path.dirname(run.resultsDir), { recursive: true, force: true }));
    const summary = run.output.slice(run.output.indexOf('=== SUITE SUMMARY ==='));
    const expected = Number(/Running auth suite \((\d+) scenarios\)/.exec(run.output)?.[1]);
    assert.ok(expected >= 14, `the auth suite ran (${expected} scenarios)\n${run.output.slice(-3000)}`);
    const passed = [...summary.matchAll(/^✓ (auth\/\S+): (\d+) passed, 0 failed/gm)].map((m) => m[1]);
    const failed = [...summary.matchAll(/^✗ (auth\/\S+):.*$/gm)].map((m) => m[0]);
    assert.deepEqual(failed, [], summary);
    assert.equal(passed.length, expected, summary);
    for (const s of ['auth/metadata-default', 'auth/metadata-var3', 'auth/basic-cimd', 'auth/scope-step-up', 'auth/token-endpoint-auth-basic', 'auth/pre-registration']) assert.ok(passed.includes(s), s);
    assert.match(summary, /Total: \d+ passed, 0 failed, 0 warnings/);
    const bad = checksIn(run.resultsDir).filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
    assert.deepEqual(bad, []);
    assert.equal(run.code, 0, summary);
  });
}
