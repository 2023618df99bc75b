// Requirement (operations §5): requests during a PostgreSQL outage are answered 503 with Retry-After, never a 500 or
// an error shown to the model. The server reaches its real PostgreSQL database through a TCP relay in this test that
// can drop every connection and refuse new ones (what a database restart or failover looks like from the process):
// a connection lost inside a tool's handler, or while metering reserves the call's credits, is a 503 for the whole
// request; the call is refunded once the database is back; a tool's own errors stay in-band tool errors. The
// management API answers the outage 503 problem details too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { createTestDatabase, PG_URL, type TestDatabase } from './helpers/databases.ts';
import { describeUnless } from './helpers/skip.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool } from './helpers/mcp-http.ts';
import { ToolError, type ToolDefinition } from '../src/tools/tool-types.ts';
import type { Metering } from '../src/tools/metering.ts';

/** A TCP relay to PostgreSQL that can be cut: every open connection dropped, new ones closed at once. */
class Relay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #up = true;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      if (!this.#up) return void client.destroy();
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as { port: number }).port;
  }

  cut(): void {
    this.#up = false;
    for (const s of this.#sockets) s.destroy();
  }

  restore(): void {
    this.#up = true;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describeUnless('a PostgreSQL outage during tools/call [postgres]', PG_URL ? undefined : 'TOLLGATE_TEST_PG_URL not set', () => {
  let db: TestDatabase;
  let relay: Relay;
  let srv: TestServer;
  let cutOnBegin = false;
  const url = () => `${srv.url}/demo/mcp`;

  // A tool that reads the database through the server's own store (as every built-in tool does), and one whose
  // handler fails on its own.
  const probe: ToolDefinition = {
    name: 'db_probe',
    description: 'Reads the database; mode=outage cuts the database first.',
    inputSchema: { type: 'object', properties: { mode: { type: 'string' } } },
    scope: 'mcp:read',
    cost: 3,
    handler: async (args) => {
      if (args.mode === 'outage') relay.cut();
      if (args.mode === 'bug') throw new Error('the tool has a bug');
      if (args.mode === 'refused') throw new ToolError('nothing to probe here');
      const { rows } = await sql<{ n: number }>`select 1 as n`.execute(srv.services.store.db);
      return { content: [{ type: 'text', text: `read ${rows[0].n}` }] };
    },
  };

  before(async () => {
    db = await createTestDatabase('postgres');
    const target = new URL(db.url);
    relay = new Relay({ host: target.hostname, port: Number(target.port || 5432) });
    await relay.start();
    const viaRelay = new URL(db.url);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    srv = await startTestServer({
      dialect: 'postgres',
      extraTools: [probe],
      env: { TOLLGATE_DATABASE_URL: viaRelay.toString(), TOLLGATE_RATE_LIMIT_PER_MINUTE: '100000' },
      wrapMetering: (m: Metering): Metering => ({
        ...m,
        begin: (tool, ctx) => {
          if (cutOnBegin && tool.name === 'db_probe') relay.cut();
          return m.begin(tool, ctx);
        },
      }),
    });
  });
  after(async () => {
    relay.restore();
    await srv?.stop();
    await relay?.close();
    await db?.drop();
  });

  async function balance(): Promise<number> {
    const ws = await srv.services.accounts.workspaces.requireWorkspace('demo');
    return srv.services.credits.getBalance(ws.id);
  }

  /** Waits for the database to answer through the relay again (the pool reconnects by itself). */
  async function untilServing(token: string): Promise<void> {
    const end = Date.now() + 20_000;
    for (;;) {
      const r = await callTool(url(), token, 'db_probe', {});
      if (r.status === 200 && !r.body?.result?.isError) return;
      if (Date.now() > end) assert.fail(`no full service after the outage: ${r.status} ${r.text.slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('the database lost inside the handler: 503 with Retry-After, no tool error; the call is refunded once the database is back', async () => {
    const t = await mintAccessToken(srv.services, { clientId: 'outage-client' });
    const ok = await callTool(url(), t.accessToken, 'db_probe', {});
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.content[0].text, 'read 1');
    const start = await balance();

    const r = await callTool(url(), t.accessToken, 'db_probe', { mode: 'outage' });
    assert.equal(r.status, 503, r.text.slice(0, 300));
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal(r.body.error.code, -32000);
    assert.match(r.body.error.message, /Temporarily unavailable: retry after 1 s/);
    assert.equal(r.body.result, undefined, 'not a tool result');
    assert.doesNotMatch(r.text, /\bat .*\.ts:\d+/, 'no stack trace');

    // While it is down every request needing it is a 503 too (never a 500, never a hang).
    const during = await callTool(url(), t.accessToken, 'db_probe', {});
    assert.equal(during.status, 503, during.text.slice(0, 300));

    relay.restore();
    await untilServing(t.accessToken);
    // The 503 call was charged (before the handler ran) and then refunded in the background once the database
    // answered: the balance is the start minus the one call that succeeded since.
    const end = Date.now() + 20_000;
    while ((await balance()) !== start - probe.cost && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await balance(), start - probe.cost, 'the call answered 503 cost nothing');
    assert.ok(srv.logs.some((l) => l.includes('a dependency of the tool unavailable; answered 503')));
    // The refund met the same outage first, and was booked when the database came back.
    assert.ok(srv.logs.some((l) => l.includes('failed call booked once the database answered')));
  });

  test('the database lost while metering reserves the credits: 503 with Retry-After, the handler never ran', async () => {
    relay.restore();
    const t = await mintAccessToken(srv.services, { clientId: 'outage-client-2' });
    await untilServing(t.accessToken);
    const start = await balance();
    cutOnBegin = true;
    let r;
    try {
      r = await callTool(url(), t.accessToken, 'db_probe', {});
    } finally {
      cutOnBegin = false;
    }
    assert.equal(r.status, 503, r.text.slice(0, 300));
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(r.body.error.message, /Temporarily unavailable/);
    relay.restore();
    await untilServing(t.accessToken);
    // Nothing was charged for the refused call: only the one that succeeded since counts.
    assert.equal(await balance(), start - probe.cost);
  });

  test('the management API during the outage: 503 problem details with Retry-After, never a 500', async () => {
    relay.restore();
    const t = await mintAccessToken(srv.services, { clientId: 'outage-client-api' });
    await untilServing(t.accessToken);
    const { secret } = await srv.services.api.keys.createKey({ name: 'outage', access: 'read' });
    const get = () => fetch(`${srv.url}/api/v1/workspaces/demo/credits`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal((await get()).status, 200);
    relay.cut();
    try {
      const r = await get();
      const text = await r.text();
      assert.equal(r.status, 503, text.slice(0, 300));
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(JSON.parse(text).code, 'temporarily_unavailable');
      assert.doesNotMatch(text, /\bat .*\.ts:\d+/, 'no stack trace');
    } finally {
      relay.restore();
    }
    await untilServing(t.accessToken);
    assert.equal((await get()).status, 200);
  });

  test('a tool\'s own errors stay tool errors (200, isError), with the database up', async () => {
    relay.restore();
    const t = await mintAccessToken(srv.services, { clientId: 'outage-client-3' });
    await untilServing(t.accessToken);
    const bug = await callTool(url(), t.accessToken, 'db_probe', { mode: 'bug' });
    assert.equal(bug.status, 200);
    assert.equal(bug.body.result.isError, true);
    assert.match(bug.body.result.content[0].text, /failed unexpectedly/);
    const refused = await callTool(url(), t.accessToken, 'db_probe', { mode: 'refused' });
    assert.equal(refused.status, 200);
    assert.equal(refused.body.result.isError, true);
    assert.equal(refused.body.result.content[0].text, 'nothing to probe here');
  });
});
