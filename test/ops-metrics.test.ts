// Requirements (operations §1, §2): `/metrics` in the Prometheus text format, never public by default — on its own
// loopback listener, or on the main port only with the scrape token; the metrics the issue lists, labelled by route
// template (never the raw path), tool, bounded workspace, outcome and protocol revision; request log lines carry the
// workspace, client id, tool and the caller's W3C trace id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool, legacyCall } from './helpers/mcp-http.ts';
import { obtainTokens, refreshTokens } from './helpers/oauth-flow.ts';
import { StartError } from '../src/server.ts';
import { forEachDialect } from './helpers/databases.ts';

const TOKEN = 'scrape-token-0123456789abcdef';

/** `name{labels} value` lines as a map (labels as written, in order). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const value = (m: Map<string, number>, key: string) => m.get(key) ?? 0;

forEachDialect('metrics on the main port with the scrape token, and on their own listener', (dialect) => {
  let srv: TestServer;
  const scrape = async () => {
    const r = await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return r.text();
  };
  before(async () => {
    srv = await startTestServer({ dialect, env: { TOLLGATE_METRICS_TOKEN: TOKEN, TOLLGATE_METRICS_PORT: '0', TOLLGATE_METRICS_TOP_WORKSPACES: '1', TOLLGATE_REFRESH_GRACE_SECONDS: '0' } });
  });
  after(async () => srv.stop());

  test('without the token: 401 with an RFC 6750 challenge; a wrong token: invalid_token; never a 500 or the metrics', async () => {
    const none = await fetch(`${srv.url}/metrics`);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="tollgate-metrics"');
    const noneBody = await none.text();
    assert.doesNotMatch(noneBody, /tollgate_/);
    for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}`, 'Bearer', `bearer  ${'x'.repeat(5000)}`, `Bearer ${TOKEN} extra`]) {
      const r = await fetch(`${srv.url}/metrics`, { headers: { authorization } });
      assert.equal(r.status, 401, authorization.slice(0, 40));
      assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      const body = await r.json();
      assert.equal(body.error, 'invalid_token');
      assert.ok(!JSON.stringify(body).includes(TOKEN));
    }
    const post = await fetch(`${srv.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(post.status, 404);
    // The token never reaches the log.
    assert.ok(!srv.logs.some((l) => l.includes(TOKEN)));
  });

  test('the separate listener is on loopback and serves GET /metrics only', async () => {
    assert.ok(srv.metricsUrl, 'metrics listener URL');
    assert.match(srv.metricsUrl!, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const r = await fetch(srv.metricsUrl!);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /^# HELP /m);
    // Process metrics and event-loop delay (prom-client defaults) are there once exposure is on.
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m);
    assert.equal((await fetch(srv.metricsUrl!, { method: 'POST' })).status, 405);
    assert.equal((await fetch(srv.metricsUrl!.replace('/metrics', '/healthz'))).status, 404);
    assert.equal((await fetch(srv.metricsUrl!.replace('/metrics', '/demo/mcp'))).status, 404);
  });

  test('a metrics port already in use stops the start with a clear message', async () => {
    const port = new URL(srv.metricsUrl!).port;
    await assert.rejects(startTestServer({ env: { TOLLGATE_METRICS_PORT: port } }), (err: Error) => err instanceof StartError && /Metrics port \d+ on 127\.0\.0\.1 is already in use \(set TOLLGATE_METRICS_PORT\)/.test(err.message));
  });

  test('HTTP requests are labelled by route template and status, never by raw path', async () => {
    const probe = `/scanner-${Date.now()}/wp-admin.php`;
    assert.equal((await fetch(`${srv.url}${probe}`)).status, 404);
    await fetch(`${srv.url}/demo/mcp`, { method: 'POST' });
    await fetch(`${srv.url}/dashboard/demo`);
    const text = await scrape();
    const m = samples(text);
    assert.ok(!text.includes('scanner-'), 'a raw path never becomes a label');
    assert.ok(!text.includes('"/demo/mcp"'), 'the workspace path is templated');
    assert.ok(value(m, 'tollgate_http_request_duration_seconds_count{route="unmatched",status="404"}') >= 1);
    assert.ok(value(m, 'tollgate_http_request_duration_seconds_count{route="/:workspace/mcp",status="401"}') >= 1);
    assert.ok([...m.keys()].some((k) => k.startsWith('tollgate_http_request_duration_seconds_bucket{route="/dashboard/:slug"') || k.startsWith('tollgate_http_request_duration_seconds_bucket{route="/dashboard/:')), 'Hono routes by template');
  });

  test('tool calls by tool, workspace, outcome and revision; credits spent; ledger batches; DB queries', async () => {
    const before = samples(await scrape());
    const t = await mintAccessToken(srv.services, { clientId: 'metrics-client' });
    const url = `${srv.url}/demo/mcp`;
    const key = (tool: string, outcome: string, rev: string, ws = 'demo') => `tollgate_mcp_tool_calls_total{tool="${tool}",workspace="${ws}",outcome="${outcome}",revision="${rev}"}`;
    // The first calls of a workspace are `other` until it is busy enough for its own label (10 calls).
    for (let i = 0; i < 11; i++) assert.equal((await callTool(url, t.accessToken, 'search_contacts', { query: 'a' })).status, 200);
    assert.equal((await callTool(url, t.accessToken, 'search_contacts', { query: 'a' }, '2025-06-18')).status, 200);
    await callTool(url, t.accessToken, 'search_contacts', { query: 42 });
    await callTool(url, t.accessToken, 'no_such_tool', {});
    const after = samples(await scrape());
    const other = value(after, key('search_contacts', 'ok', '2025-11-25', 'other')) - value(before, key('search_contacts', 'ok', '2025-11-25', 'other'));
    const own = value(after, key('search_contacts', 'ok', '2025-11-25')) - value(before, key('search_contacts', 'ok', '2025-11-25'));
    assert.equal(other + own, 11);
    assert.ok(own >= 1, 'demo got its own label once busy');
    assert.equal(value(after, key('search_contacts', 'ok', '2025-06-18')) - value(before, key('search_contacts', 'ok', '2025-06-18')), 1);
    assert.equal(value(after, key('search_contacts', 'bad_arguments', '2025-11-25')) - value(before, key('search_contacts', 'bad_arguments', '2025-11-25')), 1);
    assert.equal(value(after, key('(unknown)', 'unknown_tool', '2025-11-25')) - value(before, key('(unknown)', 'unknown_tool', '2025-11-25')), 1);
    const spent = (m: Map<string, number>) => value(m, 'tollgate_credits_spent_total{workspace="demo"}') + value(m, 'tollgate_credits_spent_total{workspace="other"}');
    assert.equal(spent(after) - spent(before), 12, 'search_contacts costs 1 credit, 12 successful calls');
    assert.ok(value(after, 'tollgate_ledger_batch_size_count') > value(before, 'tollgate_ledger_batch_size_count'));
    assert.ok(value(after, 'tollgate_ledger_commit_duration_seconds_count{result="committed"}') > value(before, 'tollgate_ledger_commit_duration_seconds_count{result="committed"}'));
    assert.ok(value(after, 'tollgate_mcp_tool_duration_seconds_count{tool="search_contacts"}') >= 12);
    assert.ok(value(after, `tollgate_db_query_duration_seconds_count{dialect="${dialect}",operation="select"}`) > 0);
    // PostgreSQL: the pool reports its connections.
    if (dialect === 'postgres') assert.ok(value(after, 'tollgate_db_pool_connections{state="total"}') >= 1);
    else assert.ok(!after.has('tollgate_db_pool_connections{state="total"}'));
  });

  test('a second busy workspace is `other`: the workspace label is bounded (TOLLGATE_METRICS_TOP_WORKSPACES=1)', async () => {
    await srv.services.createWorkspace({ slug: 'second-ws', ownerUserId: (await srv.services.accounts.users.findUserByEmail(ADMIN_EMAIL))!.id });
    const t = await mintAccessToken(srv.services, { workspace: 'second-ws' });
    for (let i = 0; i < 12; i++) await callTool(`${srv.url}/second-ws/mcp`, t.accessToken, 'check_credit_balance', {});
    const text = await scrape();
    assert.ok(!text.includes('workspace="second-ws"'));
    assert.ok(value(samples(text), 'tollgate_mcp_tool_calls_total{tool="check_credit_balance",workspace="other",outcome="ok",revision="2025-11-25"}') >= 12);
  });

  test('tokens issued and refreshed, refresh-token reuse, registrations, sign-ins', async () => {
    const before = samples(await scrape());
    const { clientId, tokens } = await obtainTokens(srv.url, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, resource: `${srv.url}/demo/mcp` });
    const first = await refreshTokens(srv.url, { client_id: clientId, refresh_token: tokens.refresh_token });
    assert.equal(first.status, 200);
    const second = await refreshTokens(srv.url, { client_id: clientId, refresh_token: first.body.refresh_token });
    assert.equal(second.status, 200);
    // The first refresh token again, after its successor was used: reuse, the grant is revoked.
    const replay = await refreshTokens(srv.url, { client_id: clientId, refresh_token: tokens.refresh_token });
    assert.equal(replay.status, 400);
    const bad = await fetch(`${srv.url}/login`, { method: 'POST', body: new URLSearchParams({ email: ADMIN_EMAIL, password: 'wrong' }) });
    assert.ok(bad.status >= 400);
    const after = samples(await scrape());
    const delta = (k: string) => value(after, k) - value(before, k);
    assert.equal(delta('tollgate_oauth_tokens_issued_total{grant_type="authorization_code"}'), 1);
    assert.equal(delta('tollgate_oauth_tokens_issued_total{grant_type="refresh_token"}'), 2);
    assert.equal(delta('tollgate_oauth_replays_detected_total{kind="refresh_token"}'), 1);
    assert.equal(delta('tollgate_oauth_token_errors_total{error="invalid_grant"}'), 1);
    assert.equal(delta('tollgate_oauth_registrations_total{outcome="created"}'), 1);
    assert.equal(delta('tollgate_sign_ins_total{outcome="ok"}'), 1);
    assert.ok(after.has('tollgate_sign_ins_total{outcome="failed"}'));
    assert.ok(after.has('tollgate_rate_limit_rejections_total{limit="tool_call"}'));
  });

  test('request log lines carry the workspace, client id, tool and the caller\'s trace id', async () => {
    const t = await mintAccessToken(srv.services, { clientId: 'log-client' });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const requestId = `trace-test-${Date.now()}`;
    const r = await fetch(`${srv.url}/demo/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.accessToken}`, 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': '2025-11-25', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-request-id': requestId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'check_credit_balance', arguments: {} } }),
    });
    assert.equal(r.status, 200);
    await r.text();
    const line = srv.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.requestId === requestId);
    assert.ok(line, 'request line');
    assert.equal(line.workspace, 'demo');
    assert.equal(line.clientId, 'log-client');
    assert.equal(line.tool, 'check_credit_balance');
    assert.equal(line.traceId, traceId);
    // An invalid traceparent is ignored (W3C Trace Context §3.2.2), and a list call names no tool.
    const id2 = `trace-test-bad-${Date.now()}`;
    await legacyCall(`${srv.url}/demo/mcp`, t.accessToken, 'tools/list');
    const r2 = await fetch(`${srv.url}/healthz`, { headers: { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, 'x-request-id': id2 } });
    await r2.text();
    const line2 = srv.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.requestId === id2);
    assert.equal(line2.traceId, undefined);
  });
});

describe('metrics are off by default', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => srv.stop());

  test('no /metrics on the main port and no metrics listener', async () => {
    assert.equal((await fetch(`${srv.url}/metrics`)).status, 404);
    assert.equal((await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    assert.equal(srv.metricsUrl, undefined);
  });
});
