// Requirement (MCP endpoints §6): the @modelcontextprotocol/conformance `server` suite passes against a workspace
// endpoint, for what revisions 2025-11-25 and 2026-07-28 require, with expected-failures files that list only
// features Tollgate deliberately does not offer (test/conformance/expected-failures-*.yaml, each entry with its
// reason). The suite knows nothing of OAuth, so a loopback proxy adds a real bearer token; the fixture tools it calls
// by name are registered only here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { ROOT } from './helpers/cli.ts';
import { startBearerProxy, type BearerProxy } from './conformance/bearer-proxy.ts';
import { conformanceFixtureTools } from './conformance/fixture-tools.ts';

const CLI = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

function runSuite(url: string, revision: string, outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const args = [CLI, 'server', '--url', url, '--requirements', revision, '--expected-failures', path.join(ROOT, `test/conformance/expected-failures-${revision}.yaml`), '-o', outDir];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('MCP conformance suite (server)', () => {
  let srv: TestServer;
  let proxy: BearerProxy;
  let outDir: string;
  let endpoint = '';
  before(async () => {
    let target = '';
    let token = '';
    proxy = await startBearerProxy(() => target, () => token);
    // The suite's DNS-rebinding probe sends the proxy's own origin as the "valid localhost" Origin.
    srv = await startTestServer({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000', TOLLGATE_ALLOWED_ORIGINS: proxy.url }, extraTools: conformanceFixtureTools });
    target = srv.url;
    token = (await mintAccessToken(srv.services)).accessToken;
    endpoint = `${proxy.url}/demo/mcp`;
    outDir = mkdtempSync(path.join(tmpdir(), 'tollgate-conformance-'));
  });
  after(async () => {
    await proxy.close();
    await srv.stop();
    rmSync(outDir, { recursive: true, force: true });
  });

  test('revisions 2025-11-25 and 2026-07-28 pass, apart from the baselined features Tollgate does not offer', async () => {
    const revisions = ['2025-11-25', '2026-07-28'];
    const runs = await Promise.all(revisions.map((r) => runSuite(endpoint, r, path.join(outDir, r))));
    runs.forEach(({ code, output }, i) => {
      const summary = output.slice(output.indexOf('=== SUMMARY'));
      assert.equal(code, 0, `conformance ${revisions[i]} failed:\n${summary.slice(-6000)}`);
      assert.match(output, /Total: \d+ passed/);
      assert.doesNotMatch(output, /Unexpected failures/, `${revisions[i]}:\n${summary.slice(-3000)}`);
    });
  });
});
