// Requirements (operations §6): on shutdown, readiness goes false first (while requests are still served), in-flight
// requests finish, the ledger batch is written, then the process's server closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool } from './helpers/mcp-http.ts';
import { openStore } from '../src/store/store.ts';
import type { ToolDefinition } from '../src/tools/tool-types.ts';

test('SIGTERM-style close: /readyz 503 first, an in-flight metered call finishes and its ledger row is written, then the port closes', async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inHandler = new Promise<void>((r) => (entered = r));
  const slow: ToolDefinition = {
    name: 'slow_paid_tool',
    description: 'waits until the test lets it finish',
    inputSchema: { type: 'object', properties: {} },
    scope: 'mcp:read',
    cost: 5,
    async handler() {
      entered();
      await held;
      return { content: [{ type: 'text', text: 'done' }] };
    },
  };
  const srv = await startTestServer({ extraTools: [slow], env: { TOLLGATE_SHUTDOWN_READINESS_DELAY_MS: '400' } });
  const url = srv.url;
  const dbUrl = srv.config.databaseUrl;
  try {
    const t = await mintAccessToken(srv.services);
    const before = await srv.services.credits.getBalance(t.workspaceId);
    const call = callTool(`${url}/demo/mcp`, t.accessToken, 'slow_paid_tool', {});
    await inHandler;

    const closing = srv.close();
    // Readiness is false at once, while the listener still answers (the load balancer's window to stop sending).
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).status, 'draining');
    assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still serving during the readiness delay');

    release();
    const answered = await call;
    assert.equal(answered.status, 200, 'the in-flight call was answered');
    assert.match(answered.text, /done/);
    await closing;

    // The port is closed, and the charge of the drained call is on disk.
    await assert.rejects(fetch(`${url}/healthz`));
    const store = await openStore(dbUrl);
    try {
      const rows = await store.db.selectFrom('credits_ledger').select(['amount', 'tool']).where('workspace_id', '=', t.workspaceId).where('tool', '=', 'slow_paid_tool').execute();
      assert.deepEqual(rows.map((r) => Number(r.amount)), [-5]);
      const account = await store.db.selectFrom('credits_accounts').select('balance').where('workspace_id', '=', t.workspaceId).executeTakeFirstOrThrow();
      assert.equal(Number(account.balance), Number(before) - 5);
    } finally {
      await store.close();
    }
  } finally {
    release();
    await srv.stop();
  }
});
