// Requirement (OAuth §7): the official MCP conformance suite's `authorization` command passes both scenarios with no
// warning, for the root issuer and for a per-workspace issuer. Its interactive step (open the authorization URL,
// approve, call back to 127.0.0.1:<port>/callback) is done through the real sign-in and consent pages over HTTP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { freePort } from '../bench/lib/scratch.ts';
import path from 'node:path';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { approveAuthorization, registerClient } from './helpers/oauth-flow.ts';
import { ROOT } from './helpers/cli.ts';

const CONFORMANCE = path.join(ROOT, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');


async function deliver(url: URL): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await (await fetch(url)).text();
      return;
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Runs the suite against an issuer; approves when it prints the authorization URL. Returns exit code and output. */
async function runConformance(issuer: string, resource: string, registrationBase: string): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const client = await registerClient(registrationBase, { client_name: 'MCP conformance', redirect_uris: [`http://127.0.0.1:${port}/callback`] });
  const child = spawn(process.execPath, [CONFORMANCE, 'authorization', '--url', issuer, '--client-id', client.client_id, '--resource', resource, '-p', String(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let approved: Promise<void> | undefined;
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const onData = (d: Buffer) => {
    output += d;
    const url = /^(http:\/\/\S+\/authorize\?\S+)$/m.exec(output)?.[1];
    if (url && !approved) approved = approveAuthorization(url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).then(deliver);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await exit;
  clearTimeout(timer);
  await approved;
  return { code, output };
}

function assertClean(r: { code: number | null; output: string }): void {
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /authorization-server-metadata-endpoint: 2 passed, 0 failed/, r.output);
  assert.match(r.output, /authorization-code-grant: 1 passed, 0 failed/, r.output);
  assert.match(r.output, /Total: 3 passed, 0 failed/, r.output);
  assert.doesNotMatch(r.output, /WARNING|FAILURE|SKIPPED|warning/, r.output);
}

describe('MCP conformance: authorization server', () => {
  let root: TestServer;
  let perWorkspace: TestServer;
  before(async () => {
    [root, perWorkspace] = await Promise.all([startTestServer(), startTestServer({ env: { TOLLGATE_ISSUER_MODE: 'workspace' } })]);
  });
  after(async () => Promise.all([root.stop(), perWorkspace.stop()]));

  test('`conformance authorization` passes both scenarios with no warnings against the root issuer', async () => {
    assertClean(await runConformance(root.url, `${root.url}/demo/mcp`, root.url));
  });

  test('`conformance authorization` passes both scenarios with no warnings against a per-workspace issuer', async () => {
    assertClean(await runConformance(`${perWorkspace.url}/demo`, `${perWorkspace.url}/demo/mcp`, `${perWorkspace.url}/demo`));
  });
});
