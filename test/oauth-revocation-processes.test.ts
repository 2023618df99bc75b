// Issue: PostgreSQL hot path — a revocation made through one `tollgate serve` process is refused by another within
// 50 ms, without a database read per call (grants cached per process, dropped on NOTIFY); a lost notification is
// bounded by the cache's max age; with the LISTEN connection killed the process reads again (and reconnects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { freePort } from '../bench/lib/scratch.ts';
import { createTestDatabase, PG_URL, type TestDatabase } from './helpers/databases.ts';
import { spawnCli } from './helpers/cli.ts';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool } from './helpers/mcp-http.ts';
import { postForm, registerClient } from './helpers/oauth-flow.ts';
import { loadConfig } from '../src/config/config.ts';
import { openServices, type Services } from '../src/services.ts';
import { createLogger } from '../src/util/logger.ts';

const PUBLIC_URL = 'http://tollgate.test';
const MAX_AGE_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('revocation across two PostgreSQL server processes', { skip: PG_URL ? false : 'TOLLGATE_TEST_PG_URL is not set', timeout: 120_000 }, async (t) => {
  const tdb: TestDatabase = await createTestDatabase('postgres');
  const opened: Services[] = [];
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-revoke-procs-'));
  t.after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const s of opened) await s.close();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = {
    TOLLGATE_DATABASE_URL: tdb.url,
    TOLLGATE_SECRET: 'revocation-test-secret-0123456789',
    TOLLGATE_PUBLIC_URL: PUBLIC_URL,
    TOLLGATE_ADMIN_EMAIL: ADMIN_EMAIL,
    TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    TOLLGATE_INITIAL_CREDITS: '1000000',
    TOLLGATE_RATE_LIMIT_PER_MINUTE: '10000000',
    TOLLGATE_GRANT_CACHE_MAX_AGE_MS: String(MAX_AGE_MS),
    TOLLGATE_LOG_LEVEL: 'warn',
  };
  const startServer = async (name: string) => {
    const port = await freePort();
    const { child } = await spawnCli(['serve'], { env: { ...env, TOLLGATE_PORT: String(port), TOLLGATE_DATA_DIR: path.join(dir, name) }, ready: /Tollgate is running at/, timeoutMs: 60_000 });
    children.push(child);
    return { child, base: `http://127.0.0.1:${port}`, mcp: `http://127.0.0.1:${port}/demo/mcp` };
  };
  const a = await startServer('a');
  const b = await startServer('b');
  const services = await openServices(loadConfig({ env: { ...env, TOLLGATE_DATA_DIR: path.join(dir, 'test') } }), createLogger('silent'));
  opened.push(services);
  const db = services.store.db;
  const reg = await registerClient(a.base, { client_name: 'Revoker', redirect_uris: ['http://127.0.0.1:9/callback'] });
  const mint = () => mintAccessToken(services, { workspace: 'demo', clientId: reg.client_id });
  const call = async (token: string) => (await callTool(b.mcp, token, 'search_contacts', { limit: 1 })).status;

  // B's LISTEN connection, found by the application_name it sets (its pid in it).
  const listenerPid = async (): Promise<number | undefined> => {
    const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where application_name = ${`tollgate-listen ${b.child.pid} tollgate_grants`}`.execute(db);
    return rows[0]?.pid;
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> => {
    const until = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  };
  /** Polls B every 2 ms until it refuses the token; the delay in ms since `from`. */
  const refusedAfter = async (token: string, from: number, limitMs: number): Promise<number> => {
    for (;;) {
      const status = await call(token);
      const elapsed = performance.now() - from;
      if (status === 401) return elapsed;
      assert.equal(status, 200);
      if (elapsed > limitMs) return elapsed;
      await sleep(2);
    }
  };
  const revokeThroughA = async (accessToken: string) => {
    const r = await postForm(`${a.base}/revoke`, { client_id: reg.client_id, token: accessToken, token_type_hint: 'access_token' });
    assert.equal(r.status, 200);
    return performance.now();
  };
  /** A revocation that announces nothing: what a lost notification looks like to B. */
  const revokeSilently = (grantId: string) => sql`update oauth_grants set revoked_at = ${Date.now()}, revoked_reason = 'test' where id = ${grantId}`.execute(db);

  const first = await mint();
  assert.equal(await call(first.accessToken), 200); // B's first check starts its LISTEN connection
  const pid = await waitFor('B to listen', listenerPid);

  // The target is 50 ms. On a machine the rest of the suite keeps busy a notification can wait its turn behind other
  // processes, so each revocation must be heard within STARVED_MS and the best of three within the target.
  const TARGET_MS = 50;
  const STARVED_MS = 250;
  await t.test('a revocation through A is refused by B within 50 ms', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const token = i === 0 ? first : await mint();
      assert.equal(await call(token.accessToken), 200);
      assert.equal(await call(token.accessToken), 200);
      const delay = await refusedAfter(token.accessToken, await revokeThroughA(token.accessToken), 1000);
      t.diagnostic(`B refused the revoked token ${delay.toFixed(1)} ms after A answered /revoke`);
      assert.ok(delay <= STARVED_MS, `B accepted the revoked token for ${delay.toFixed(1)} ms`);
      delays.push(delay);
    }
    assert.ok(Math.min(...delays) <= TARGET_MS, `B accepted each revoked token for more than ${TARGET_MS} ms: ${delays.map((d) => d.toFixed(1)).join(', ')}`);
  });

  await t.test('B does not read the grant per call: a revocation it is not told of takes up to the max age', async () => {
    const token = await mint();
    assert.equal(await call(token.accessToken), 200);
    const from = performance.now();
    await revokeSilently(token.grantId);
    assert.equal(await call(token.accessToken), 200, 'B read the grant instead of trusting its cache');
    const delay = await refusedAfter(token.accessToken, from, MAX_AGE_MS + 1000);
    t.diagnostic(`without a notification B refused after ${delay.toFixed(0)} ms (max age ${MAX_AGE_MS} ms)`);
    assert.ok(delay <= MAX_AGE_MS + 100, `B accepted a revoked grant for ${delay.toFixed(0)} ms`);
  });

  await t.test('with its LISTEN connection killed, B stops trusting its cache, reconnects, and hears revocations again', async () => {
    const token = await mint();
    assert.equal(await call(token.accessToken), 200);
    assert.equal(await call(token.accessToken), 200);
    const { rows } = await sql<{ ok: boolean }>`select pg_terminate_backend(${pid}) as ok`.execute(db);
    assert.equal(rows[0].ok, true);
    await sleep(20);
    // Anything revoked while the connection was down may never be announced: B must not trust what it remembered.
    await revokeSilently(token.grantId);
    assert.equal(await call(token.accessToken), 401);
    const again = await waitFor('B to listen again', async () => {
      const p = await listenerPid();
      return p !== undefined && p !== pid ? p : undefined;
    });
    assert.notEqual(again, pid);
    const next = await mint();
    assert.equal(await call(next.accessToken), 200);
    assert.equal(await call(next.accessToken), 200);
    const delay = await refusedAfter(next.accessToken, await revokeThroughA(next.accessToken), 1000);
    assert.ok(delay <= STARVED_MS, `after reconnecting B accepted the revoked token for ${delay.toFixed(1)} ms`);
  });
});
