// Requirement (MCP endpoints §6): mcp-remote from npm, headless, lists and calls tools through its stdio bridge.
// A host (the SDK v1 stdio client) runs mcp-remote as a child process, exactly as a desktop app would; mcp-remote
// discovers, registers and opens "the browser" — a BROWSER script that walks the real sign-in and consent pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer } from './helpers/server.ts';
import { ROOT } from './helpers/cli.ts';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

test('mcp-remote (headless, BROWSER script) registers, signs in through consent, then lists and calls tools over stdio', async () => {
  const srv = await startTestServer({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' } });
  const home = mkdtempSync(path.join(tmpdir(), 'tollgate-mcp-remote-'));
  let stderr = '';
  let client: Client | undefined;
  try {
    const browser = path.join(home, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'test/helpers/approving-browser.ts')}" "$@"\n`);
    chmodSync(browser, 0o755);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, 'node_modules/mcp-remote/dist/proxy.js'), `${srv.url}/demo/mcp`, String(await freePort())],
      env: { PATH: process.env.PATH ?? '', HOME: home, MCP_REMOTE_CONFIG_DIR: home, BROWSER: browser, TOLLGATE_TEST_EMAIL: ADMIN_EMAIL, TOLLGATE_TEST_PASSWORD: ADMIN_PASSWORD },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d) => (stderr += d));
    client = new Client({ name: 'desktop-host', version: '1.0.0' });
    await client.connect(transport);

    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const n of ['search_contacts', 'get_contact', 'move_deal_stage']) assert.ok(names.includes(n), n);
    const found = await client.callTool({ name: 'search_contacts', arguments: { query: 'haddad' } });
    assert.equal((found.structuredContent as any).contacts[0].company, 'Cedar Retail Group');
    const deal = (await client.callTool({ name: 'search_deals', arguments: { stage: 'qualified', limit: 1 } })).structuredContent as any;
    const moved = await client.callTool({ name: 'move_deal_stage', arguments: { id: deal.deals[0].id, stage: 'proposal' } });
    assert.equal((moved.structuredContent as any).previousStage, 'qualified');

    // It really went through dynamic registration and a stored token, not a shortcut.
    const stored = readdirSync(home, { recursive: true }).map(String);
    assert.ok(stored.some((f) => f.endsWith('_tokens.json')), `mcp-remote stored tokens: ${stored.join(', ')}`);
    const grants = await srv.services.oauth.grants.listGrantsForWorkspace((await srv.services.accounts.workspaces.requireWorkspace('demo')).id);
    assert.equal(grants.length, 1);
    assert.equal(grants[0].resource, `${srv.url}/demo/mcp`);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- mcp-remote stderr (tail) ---\n${stderr.slice(-3000)}`, { cause: err });
  } finally {
    await client?.close();
    await srv.stop();
    rmSync(home, { recursive: true, force: true });
  }
});
