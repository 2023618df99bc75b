// Issue: credits §7 through real HTTP and real `tollgate serve` processes sharing one database (PostgreSQL, and a
// SQLite file): 1,000 concurrent calls split over two servers against a balance of 100 → exactly 100 succeed; then
// one server is killed with SIGKILL in the middle of a load: every call it answered successfully has its ledger
// row, and after a restart balance = sum of the ledger.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../bench/lib/scratch.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, forEachDialect, type TestDatabase } from './helpers/databases.ts';
import { spawnCli, waitForExit } from './helpers/cli.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool, mcpRequest } from './helpers/mcp-http.ts';
import { loadConfig } from '../src/config/config.ts';
import { openServices, type Services } from '../src/services.ts';
import { createLogger } from '../src/util/logger.ts';

const PUBLIC_URL = 'http://tollgate.test';


forEachDialect('credits: two server processes on one database', (dialect) => {
  let tdb: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let services: Services;
  const children: ChildProcess[] = [];

  const startServer = async (name: string) => {
    const port = await freePort();
    const dataDir = path.join(dir, name);
    const { child } = await spawnCli(['serve'], { env: { ...env, TOLLGATE_PORT: String(port), TOLLGATE_DATA_DIR: dataDir }, ready: /Tollgate is running at/, timeoutMs: 60_000 });
    children.push(child);
    return { child, url: `http://127.0.0.1:${port}/demo/mcp` };
  };

  before(async () => {
    tdb = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-credits-procs-'));
    env = {
      TOLLGATE_DATABASE_URL: tdb.url,
      // Shared by every process: they unseal the same signing keys (as behind a load balancer).
      TOLLGATE_SECRET: 'credits-test-secret-0123456789',
      TOLLGATE_PUBLIC_URL: PUBLIC_URL,
      TOLLGATE_ADMIN_EMAIL: ADMIN_EMAIL,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TOLLGATE_INITIAL_CREDITS: '100',
      TOLLGATE_RATE_LIMIT_PER_MINUTE: '10000000',
      TOLLGATE_LOG_LEVEL: 'warn',
    };
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await services?.close();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('1,000 concurrent calls over two servers, balance 100: exactly 100 succeed; a SIGKILL mid-load loses no answered call', { timeout: 180_000 }, async () => {
    // Both start at once: one migrates and creates `demo` with 100 credits, the other finds it done.
    const [a, b] = await Promise.all([startServer('a'), startServer('b')]);
    services = await openServices(loadConfig({ env: { ...env, TOLLGATE_DATA_DIR: path.join(dir, 'test') } }), createLogger('silent'));
    const demo = (await services.accounts.workspaces.getWorkspaceBySlug('demo'))!;
    const { accessToken } = await mintAccessToken(services, { workspace: 'demo' });
    assert.equal(await services.credits.getBalance(demo.id), 100);

    // Part 1: the stampede, split over both processes.
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => callTool(i % 2 ? a.url : b.url, accessToken, 'search_contacts', { limit: 1 })));
    assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.find((r) => r.status !== 200)?.body));
    const succeeded = results.filter((r) => !r.body.result.isError);
    assert.equal(succeeded.length, 100);
    assert.equal(results.filter((r) => r.body.result.structuredContent?.error === 'insufficient_credits').length, 900);
    assert.equal(await services.credits.getBalance(demo.id), 0);
    assert.equal(await services.credits.sumLedger(demo.id), 100 - 100);

    // Part 2: load on both servers; kill A without warning once it has answered enough calls.
    await services.credits.grantCredits({ workspaceId: demo.id, amount: 1_000_000, reason: 'grant' });
    const answered = new Set<string>();
    let n = 0;
    let answeredByA = 0;
    let stop = false;
    const loop = async (target: string, isA: boolean) => {
      while (!stop) {
        const id = `load-${isA ? 'a' : 'b'}-${n++}`;
        try {
          const res = await mcpRequest(target, {
            token: accessToken,
            headers: { 'mcp-protocol-version': '2025-11-25', 'x-request-id': id },
            body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_contacts', arguments: { limit: 1 } } },
          });
          if (res.status === 200 && res.body?.result && !res.body.result.isError) {
            answered.add(id);
            if (isA) answeredByA++;
          }
        } catch {
          if (isA) return; // A is gone
        }
      }
    };
    const loops = [...Array.from({ length: 12 }, () => loop(a.url, true)), ...Array.from({ length: 4 }, () => loop(b.url, false))];
    while (answeredByA < 200) await new Promise((r) => setTimeout(r, 5));
    a.child.kill('SIGKILL');
    await waitForExit(a.child);
    assert.equal(a.child.signalCode, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(loops);

    // Restart A; every answered call is in the ledger, and the balance is the sum of the ledger.
    const restarted = await startServer('a2');
    const charged = new Set<string>();
    for (let page = await services.credits.listLedger(demo.id, { limit: 500 }); ; page = await services.credits.listLedger(demo.id, { limit: 500, before: page.nextCursor })) {
      for (const e of page.entries) if (e.reason === 'tool_call' && e.requestId) charged.add(e.requestId);
      if (!page.nextCursor) break;
    }
    const missing = [...answered].filter((id) => !charged.has(id));
    assert.deepEqual(missing, [], 'answered calls without a ledger row');
    assert.ok(answered.size >= 200);
    const balance = await services.credits.getBalance(demo.id);
    assert.equal(balance, await services.credits.sumLedger(demo.id));
    const after = await callTool(restarted.url, accessToken, 'search_contacts', { limit: 1 });
    assert.equal(after.body.result.isError, undefined);
    assert.equal(await services.credits.getBalance(demo.id), balance - 1);
    assert.equal(await services.credits.getBalance(demo.id), await services.credits.sumLedger(demo.id));

    for (const c of [b.child, restarted.child]) {
      c.kill('SIGTERM');
      await waitForExit(c);
    }
  });
});
