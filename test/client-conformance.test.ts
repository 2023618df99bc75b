// `@modelcontextprotocol/conformance client --suite auth` with `tollgate` as the client, on every released version of
// the suite that has `client --suite auth`: 0.1.7 to 0.1.16 (0.1.16 is `latest`, what `npm i
// @modelcontextprotocol/conformance` installs) and 0.2.0-alpha.7 to 0.2.0-alpha.12 (alpha.8 was never published).
// 0.1.5 and 0.1.6 are not run: they have no suites (`client` there needs a `--scenario`). Each version is an npm alias
// in devDependencies (`conformance-<version>`; 0.1.16 is `conformance-0.1`, the newest alpha the package itself).
// A scenario either passes with no failure and no warning, or is listed below as known to fail on that version, with
// the reason, which the test checks is the reason it fails; a listed scenario that starts passing fails the test too.
// The conformance mock authorization server approves at once and redirects to the client's callback;
// TOLLGATE_BROWSER points at a stand-in browser that just follows those redirects, so the loopback listener receives
// the code as it would from a browser.
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

interface KnownFailure {
  scenarios: string[];
  /** What tollgate says when the scenario fails for this reason (matched in the run's output). */
  says: RegExp;
  why: string;
}

// Suite defects of old versions, where passing would mean tollgate doing what the specs say it must not.
const ISSUER_MISMATCH: KnownFailure = {
  scenarios: ['auth/metadata-var2', 'auth/metadata-var3'],
  says: /says issuer "[^"]+", but it was looked up for "[^"]+\/tenant1"; refusing it \(RFC 8414 §3\.3\)/,
  why: 'the mock authorization server at /tenant1 answers with the issuer of the root (fixed in 0.1.15); RFC 8414 §3.3 requires the client to refuse metadata whose issuer differs from the one it looked up',
};
const STEP_UP_WITHOUT_ERROR: KnownFailure = {
  scenarios: ['auth/scope-step-up'],
  says: /refused the request \(403, needs scope/,
  why: 'the mock server\'s 403 challenge carries no error="insufficient_scope" (RFC 6750 §3.1), the signal 2025-11-25 step-up authorization is defined on (fixed in 0.1.8)',
};
const CLIENT_CREDENTIALS: KnownFailure = {
  scenarios: ['auth/client-credentials-jwt', 'auth/client-credentials-basic'],
  says: /unsupported_grant_type: Only client_credentials grant is supported/,
  why: 'these scenarios (in the auth suite of 0.1.9 and 0.1.10 only) expect the client to run client_credentials; tollgate mcp signs a person in, and machine clients call the token endpoint themselves (docs/client.md)',
};

const alias = (name: string) => path.join(ROOT, 'node_modules', name);
const versions: { name: string; dir: string; output: boolean; known: KnownFailure[] }[] = [
  { name: '0.1.7', dir: alias('conformance-0.1.7'), output: false, known: [ISSUER_MISMATCH, STEP_UP_WITHOUT_ERROR] },
  { name: '0.1.8', dir: alias('conformance-0.1.8'), output: false, known: [ISSUER_MISMATCH] },
  { name: '0.1.9', dir: alias('conformance-0.1.9'), output: false, known: [ISSUER_MISMATCH, CLIENT_CREDENTIALS] },
  { name: '0.1.10', dir: alias('conformance-0.1.10'), output: true, known: [ISSUER_MISMATCH, CLIENT_CREDENTIALS] },
  { name: '0.1.11', dir: alias('conformance-0.1.11'), output: true, known: [ISSUER_MISMATCH] },
  { name: '0.1.12', dir: alias('conformance-0.1.12'), output: true, known: [ISSUER_MISMATCH] },
  { name: '0.1.13', dir: alias('conformance-0.1.13'), output: true, known: [ISSUER_MISMATCH] },
  { name: '0.1.14', dir: alias('conformance-0.1.14'), output: true, known: [ISSUER_MISMATCH] },
  { name: '0.1.15', dir: alias('conformance-0.1.15'), output: true, known: [] },
  { name: '0.1.16', dir: alias('conformance-0.1'), output: true, known: [] },
  { name: '0.2.0-alpha.7', dir: alias('conformance-0.2.0-alpha.7'), output: true, known: [] },
  { name: '0.2.0-alpha.9', dir: alias('conformance-0.2.0-alpha.9'), output: true, known: [] },
  { name: '0.2.0-alpha.10', dir: alias('conformance-0.2.0-alpha.10'), output: true, known: [] },
  { name: '0.2.0-alpha.11', dir: alias('conformance-0.2.0-alpha.11'), output: true, known: [] },
  { name: '0.2.0-alpha.12', dir: path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance'), output: true, known: [] },
];

interface Run {
  code: number | null;
  output: string;
  resultsDir: string;
}

/** The installed version's CLI entry, from its package.json `bin`. */
function entryOf(dir: string): string {
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  return path.join(dir, typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin)[0]);
}

function runSuite(v: (typeof versions)[number]): Promise<Run> {
  const work = mkdtempSync(path.join(tmpdir(), 'tollgate-conformance-'));
  // Versions without `-o` write to ./results: the run's working directory is its own temporary directory.
  const resultsDir = path.join(work, 'results');
  return new Promise((resolve) => {
    // A generous per-scenario timeout: the scenarios run in parallel, each starting a tollgate process.
    const child = spawn(node, [entryOf(v.dir), 'client', '--command', clientCommand, '--suite', 'auth', '--timeout', '120000', ...(v.output ? ['-o', resultsDir] : [])], {
      cwd: work,
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

// Two versions at a time, in two lanes: each already runs its scenarios in parallel (a tollgate process per
// scenario), and more at once would starve the other test files on a small machine.
const LANES = 2;
const runs = new Map<string, Promise<Run>>();
const lanes: Promise<unknown>[] = Array.from({ length: LANES }, () => Promise.resolve());
versions.forEach((v, i) => {
  const run = lanes[i % LANES].then(() => runSuite(v));
  runs.set(v.name, run);
  lanes[i % LANES] = run;
});

for (const v of versions) {
  const known = v.known.flatMap((k) => k.scenarios);
  const title = known.length ? `every scenario passes, no warnings, except the known suite defects (${known.join(', ')})` : 'every scenario passes, no warnings';
  test(`conformance ${v.name} client --suite auth: ${title}`, { timeout: 240_000 }, async (t) => {
    const run = await runs.get(v.name)!;
    t.after(() => rmSync(path.dirname(run.resultsDir), { recursive: true, force: true }));
    const summary = run.output.slice(run.output.indexOf('=== SUITE SUMMARY ==='));
    const expected = Number(/Running auth suite \((\d+) scenarios\)/.exec(run.output)?.[1]);
    assert.ok(expected >= 11, `the auth suite ran (${expected} scenarios)\n${run.output.slice(-3000)}`);
    const passed = [...summary.matchAll(/^✓ (auth\/\S+): (\d+) passed, 0 failed/gm)].map((m) => m[1]);
    const failed = [...summary.matchAll(/^✗ (auth\/\S+?):.*$/gm)].map((m) => m[1]);
    assert.deepEqual(failed.sort(), [...known].sort(), summary);
    assert.equal(passed.length + failed.length, expected, summary);
    for (const k of v.known) assert.match(run.output, k.says, `${k.scenarios.join(', ')} fail for the known reason: ${k.why}`);
    for (const s of ['auth/metadata-default', 'auth/token-endpoint-auth-basic', 'auth/token-endpoint-auth-post', 'auth/token-endpoint-auth-none', 'auth/pre-registration', 'auth/basic-cimd', 'auth/scope-step-up']) {
      if (!known.includes(s) && run.output.includes(`${s}:`)) assert.ok(passed.includes(s), s);
    }
    assert.match(summary, new RegExp(`Total: \\d+ passed, ${known.length ? '\\d+' : '0'} failed, 0 warnings`));
    const bad = checksIn(run.resultsDir).filter((c) => c.status === 'WARNING' || (c.status === 'FAILURE' && !known.some((k) => c.scenario.startsWith(`${k}-`))));
    assert.deepEqual(bad, []);
    assert.equal(run.code, known.length ? 1 : 0, summary);
  });
}
