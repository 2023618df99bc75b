// Issue: a real multi-process deployment, tested with faults — three `tollgate serve` processes on one PostgreSQL
// database behind HAProxy, with the Redis rate-limit backend, under mixed load (sign-in, token, refresh, metered
// calls, revocations) while (a) a process is SIGKILLed and started again, (b) PostgreSQL restarts, (c) Redis stops.
// It must show: no committed ledger row lost, no call charged twice, balance = ledger sum, revocation honoured by
// every process on the next request, 503 + Retry-After (never a hang, never a 500) while PostgreSQL is down, and full
// service within seconds after each fault. The figures are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { freePort } from '../bench/lib/scratch.ts';
import { spawnCli } from './helpers/cli.ts';
import { obtainTokens, registerClient } from './helpers/oauth-flow.ts';
import { deploymentUnavailable, privateRedis, startHaproxy, startPrivatePostgres, waitForPort } from './helpers/deployment.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REQUEST_TIMEOUT_MS = 15_000; // a request that takes longer is a hang
const RECOVERY_LIMIT_MS = 15_000;
const REVOCATION_LIMIT_MS = 1000; // a busy CI machine; the 50 ms target is oauth-revocation-processes' to hold
const WORKERS = 6;
const TOOL = 'search_contacts';
// The processes run `tollgate serve` (node:http), whatever adapter an in-process suite is on: this file runs once.
const ADMIN_EMAIL = 'owner@example.com';
const ADMIN_PASSWORD = 'correct horse battery staple';
const unavailable = deploymentUnavailable();
const t0 = performance.now();
const progress = (what: string) => process.env.TOLLGATE_TEST_VERBOSE && process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}
type Outcome = Answer | { failure: 'timeout' | 'network'; message: string };

async function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<Outcome> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { failure: e.name === 'TimeoutError' ? 'timeout' : 'network', message: `${e.message} ${e.cause?.code ?? ''}`.trim() };
  }
}

test('three processes behind HAProxy survive a SIGKILL, a PostgreSQL restart and a Redis outage', { skip: unavailable ?? false, timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-deploy-'));
  const children = new Map<number, ChildProcess>();
  const outputs = new Map<number, () => string>();
  const cleanups: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const c of children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const f of cleanups.reverse()) await f().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const postgres = await startPrivatePostgres();
  cleanups.push(() => postgres.stop());
  const redis = await privateRedis();
  await redis.start();
  cleanups.push(() => redis.stop());
  const ports = [await freePort(), await freePort(), await freePort()];
  const lb = await startHaproxy(dir, ports);
  cleanups.push(() => lb.stop());

  const env = {
    TOLLGATE_DATABASE_URL: postgres.url,
    TOLLGATE_SECRET: 'deployment-faults-secret-0123456789',
    TOLLGATE_PUBLIC_URL: lb.url,
    TOLLGATE_ADMIN_EMAIL: ADMIN_EMAIL,
    TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    TOLLGATE_INITIAL_CREDITS: '100000000',
    TOLLGATE_RATE_LIMIT_PER_MINUTE: '10000000',
    TOLLGATE_RATE_LIMIT_BACKEND: 'redis',
    TOLLGATE_REDIS_URL: redis.url,
    TOLLGATE_LOG_LEVEL: 'warn',
  };
  const startProcess = async (i: number) => {
    const { child, output } = await spawnCli(['serve'], { env: { ...env, TOLLGATE_PORT: String(ports[i]), TOLLGATE_DATA_DIR: path.join(dir, `t${i + 1}`) }, ready: /Tollgate is running at/, timeoutMs: 90_000 });
    children.set(i, child);
    outputs.set(i, output);
  };
  progress('postgres, redis, haproxy up');
  await startProcess(0); // the first one migrates the new database; the other two start on it at once
  await Promise.all([startProcess(1), startProcess(2)]);
  const ready = async (base: string) => {
    const r = await send(`${base}/readyz`, {});
    return 'status' in r && r.status === 200;
  };
  progress('processes started');
  while (!(await ready(lb.url))) await sleep(50);
  progress('ready behind the load balancer');

  const mcp = `${lb.url}/demo/mcp`;
  const direct = ports.map((p) => `http://127.0.0.1:${p}/demo/mcp`);
  const mcpHeaders = (token: string) => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${token}` });
  const callBody = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: TOOL, arguments: { limit: 1 } } });
  const callTool = (url: string, token: string) => send(url, { method: 'POST', headers: mcpHeaders(token), body: callBody });
  const form = (url: string, fields: Record<string, string>) =>
    send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

  // ---- what happened, by kind -------------------------------------------------------------------------------
  let phase = 'warm-up';
  const counts = new Map<string, number>();
  const samples = new Map<string, string>();
  const count = (kind: string, sample?: string) => {
    const key = `${phase}: ${kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (sample && !samples.has(key)) samples.set(key, sample.slice(0, 300));
  };
  const answeredCalls = new Set<string>(); // request ids of metered calls answered with a result: each one was charged
  let attemptedCalls = 0;
  const revocations: { ok: number; maxMs: number; notHonoured: string[] } = { ok: 0, maxMs: 0, notHonoured: [] };
  /** Files an answer under its kind; true when it is a success. Every 5xx must be a 503 with Retry-After. */
  const judge = (what: string, r: Outcome, okStatus = 200): r is Answer => {
    if (!('status' in r)) {
      count(`${what} ${r.failure}`, r.message);
      return false;
    }
    if (r.status === okStatus) return true;
    if (r.status === 503 && !r.headers.get('retry-after')) count(`${what} 503 without Retry-After`, r.text);
    else if (r.status >= 500 && r.status !== 503 && r.status !== 502) count(`${what} ${r.status}`, r.text);
    else count(`${what} ${r.status}`, r.text);
    return false;
  };

  interface Session {
    clientId: string;
    access: string;
    refresh: string;
  }
  const signIn = async (clientId?: string): Promise<Session | undefined> => {
    try {
      const got = await obtainTokens(lb.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource: mcp, clientId });
      count('sign-in + token ok');
      return { clientId: got.clientId, access: got.tokens.access_token, refresh: got.tokens.refresh_token };
    } catch (err) {
      count('sign-in + token failed', (err as Error).message);
      return undefined;
    }
  };

  let running = true;
  const worker = async (n: number) => {
    const client = (await registerClient(lb.url, { client_name: `Load ${n}`, redirect_uris: ['http://127.0.0.1:9/callback'] })).client_id as string;
    let session: Session | undefined;
    let step = 0;
    while (running) {
      step++;
      if (!session) {
        session = await signIn(client);
        if (!session) await sleep(100);
        continue;
      }
      if (step % 25 === 0) {
        // Refresh: a successor pair; a failure keeps the old pair for a retry (rotation has a grace window).
        const r = await form(`${lb.url}/token`, { grant_type: 'refresh_token', client_id: session.clientId, refresh_token: session.refresh });
        if (judge('refresh', r)) {
          const body = JSON.parse(r.text);
          session = { ...session, access: body.access_token, refresh: body.refresh_token };
          count('refresh ok');
        } else if ('status' in r && r.status === 400) session = undefined;
        continue;
      }
      attemptedCalls++;
      const r = await callTool(mcp, session.access);
      if (!judge('call', r)) {
        if ('status' in r && r.status === 401) session = undefined;
        continue;
      }
      const body = JSON.parse(r.text.startsWith('event:') || r.text.startsWith('data:') ? r.text.split('\n').find((l) => l.startsWith('data: '))!.slice(6) : r.text);
      if (body.result && !body.result.isError) {
        answeredCalls.add(r.headers.get('x-request-id')!);
        count('call ok');
      } else count('call tool error', JSON.stringify(body).slice(0, 300));
    }
  };

  /** Time until 10 metered calls in a row succeed through the load balancer, from `from`. */
  const probe = await signIn();
  assert.ok(probe, 'the probe could sign in');
  const recovered = async (from: number): Promise<number> => {
    let inRow = 0;
    for (;;) {
      const r = await callTool(mcp, probe.access);
      inRow = 'status' in r && r.status === 200 ? inRow + 1 : 0;
      if (inRow >= 10) return performance.now() - from;
      if (performance.now() - from > 60_000) return Infinity;
      await sleep(20);
    }
  };

  // Revocations, all through: sign in, use the token on every process (so each has the grant in its cache), revoke
  // through the load balancer, then ask every process directly — each must refuse the token at once.
  /** When t1 was SIGKILLed (performance.now()). */
  let killedAt = -Infinity;
  const revoker = async () => {
    const client = (await registerClient(lb.url, { client_name: 'Revoker', redirect_uris: ['http://127.0.0.1:9/callback'] })).client_id as string;
    while (running) {
      await sleep(300);
      const s = await signIn(client);
      if (!s) continue;
      const roundStart = performance.now();
      const live = direct.filter((_, i) => children.get(i)?.exitCode === null);
      const warmed = await Promise.all(live.map((url) => callTool(url, s.access)));
      if (warmed.some((r) => !('status' in r) || r.status !== 200)) continue; // a process is starting or the database is away
      const r = await form(`${lb.url}/revoke`, { client_id: s.clientId, token: s.refresh, token_type_hint: 'refresh_token' });
      if (!judge('revoke', r)) continue;
      // Each live process must refuse the token promptly (LISTEN/NOTIFY; 50 ms on a quiet machine, see
      // test/oauth-revocation-processes): polled from the revocation's answer, up to REVOCATION_LIMIT_MS.
      const revokedAt = performance.now();
      for (const url of live) {
        for (;;) {
          const c = await callTool(url, s.access);
          const waited = performance.now() - revokedAt;
          if ('status' in c && c.status === 401) {
            revocations.ok++;
            revocations.maxMs = Math.max(revocations.maxMs, waited);
            break;
          }
          if ('status' in c && c.status === 503) {
            count('revocation check 503');
            break;
          }
          // The process SIGKILLed during this round (or just before it, its exit not yet seen) cannot answer at all.
          if (!('status' in c) && c.failure === 'network' && direct.indexOf(url) === 0 && killedAt >= roundStart - 1000) {
            count('revocation check: process killed');
            break;
          }
          if (waited > REVOCATION_LIMIT_MS) {
            revocations.notHonoured.push(`${url} answered ${'status' in c ? c.status : c.failure} for a token revoked ${waited.toFixed(0)} ms before`);
            break;
          }
          await sleep(5);
        }
      }
    }
  };
  const workers = [...Array.from({ length: WORKERS }, (_, n) => worker(n)), revoker()];
  const recovery: Record<string, number> = {};
  await sleep(3000);

  // (a) SIGKILL one process mid-load, then start it again on its port.
  progress('load running');
  phase = 'kill';
  let from = performance.now();
  killedAt = performance.now();
  children.get(0)!.kill('SIGKILL');
  recovery['SIGKILL of t1 (the others serve)'] = await recovered(from);
  await sleep(500);
  from = performance.now();
  await startProcess(0);
  await waitForPort(ports[0]);
  while (!(await ready(direct[0].replace('/demo/mcp', '')))) await sleep(50);
  recovery['t1 started again until ready'] = performance.now() - from;

  // (b) PostgreSQL restarts (fast shutdown: every connection is terminated).
  progress('kill: recovered');
  phase = 'postgres restart';
  from = performance.now();
  await postgres.restart();
  recovery['PostgreSQL restart (from the restart)'] = await recovered(from);

  // (c) Redis stops for 3 s and comes back.
  progress('postgres restart: recovered');
  phase = 'redis outage';
  from = performance.now();
  await redis.stop();
  await sleep(3000);
  await redis.start();
  recovery['Redis outage of 3 s (from the stop)'] = await recovered(from);

  progress('redis: recovered');
  phase = 'after the faults';
  await sleep(3000);
  running = false;
  await Promise.all(workers);

  // ---- the figures ------------------------------------------------------------------------------------------
  const lines = [...counts.entries()].sort().map(([k, v]) => `  ${k}: ${v}`);
  const report = [
    `metered calls attempted: ${attemptedCalls}, answered with a result: ${answeredCalls.size}`,
    `revocations checked on each live process: ${revocations.ok} refused (the slowest ${revocations.maxMs.toFixed(0)} ms after the revocation's answer), ${revocations.notHonoured.length} not honoured within ${REVOCATION_LIMIT_MS} ms`,
    'recovery:',
    ...Object.entries(recovery).map(([k, v]) => `  ${k}: ${Number.isFinite(v) ? `${(v / 1000).toFixed(2)} s` : 'never'}`),
    'answers by phase and kind:',
    ...lines,
    ...[...samples.entries()].filter(([k]) => !/ ok$/.test(k)).map(([k, v]) => `  sample of "${k}": ${v}`),
  ];
  for (const l of report) t.diagnostic(l);
  if (process.env.TOLLGATE_TEST_VERBOSE) for (const [i, out] of outputs) progress(`t${i + 1} (exit ${children.get(i)?.exitCode}):\n${out().split('\n').slice(-25).join('\n')}`);

  // ---- what must hold ---------------------------------------------------------------------------------------
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  try {
    const ledger = await db.query<{ request_id: string; n: string }>(`select l.request_id, count(*) as n from credits_ledger l join workspaces w on w.id = l.workspace_id where w.slug = 'demo' and l.reason = 'tool_call' group by l.request_id`);
    const charged = new Map(ledger.rows.map((r) => [r.request_id, Number(r.n)]));
    const lost = [...answeredCalls].filter((id) => !charged.has(id));
    assert.deepEqual(lost, [], `calls answered with a result but with no ledger row: ${lost.length}`);
    const twice = [...charged].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'a call was charged twice');
    assert.ok(charged.size <= attemptedCalls + 200, `more charges (${charged.size}) than calls sent (${attemptedCalls} + the probe's)`);
    const sums = await db.query<{ balance: string; total: string }>(
      `select a.balance, (select coalesce(sum(amount), 0) from credits_ledger l where l.workspace_id = a.workspace_id) as total from credits_accounts a join workspaces w on w.id = a.workspace_id where w.slug = 'demo'`,
    );
    assert.equal(Number(sums.rows[0].balance), Number(sums.rows[0].total), 'the balance is not the sum of the ledger');
  } finally {
    await db.end();
  }
  assert.deepEqual(revocations.notHonoured, []);
  assert.ok(revocations.ok > 0, 'no revocation was checked');
  assert.ok(answeredCalls.size > 100, `too little load got through (${answeredCalls.size} calls)`);
  for (const [what, ms] of Object.entries(recovery)) if (!what.includes('until ready')) assert.ok(ms <= RECOVERY_LIMIT_MS, `${what}: full service took ${ms.toFixed(0)} ms`);
  // A SIGKILLed process drops the requests it was answering (HAProxy: 502, or a cut connection); nothing else may.
  const forbidden = [...counts.keys()].filter((k) => / (timeout|500|501|504|503 without Retry-After)$/.test(k) || (/ (502|network)$/.test(k) && !k.startsWith('kill:')));
  assert.deepEqual(forbidden.map((k) => `${k} (${samples.get(k) ?? ''})`), [], 'answers no fault may cause');
});
