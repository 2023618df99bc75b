// Requirements (operations §1, §2): `/metrics` in the Prometheus text format, never public by default — on its own
// loopback listener, or on the main port only with the scrape token; the metrics the issue lists, labelled by route
// template (never the raw path), tool, bounded workspace, outcome and protocol revision; request log lines carry the
// workspace, client id, tool and the caller's W3C trace id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, ADMIN_EMAIL, ADMIN_PASSWORD, type TestServer } from './helpers/server.ts';
import { mintAccessToken } from './helpers/tokens.ts';
import { callTool, legacyCall } from './helpers/mcp-http.ts';
import { browserRequest, CookieJar, obtainTokens, parseForms, postForm, refreshTokens, registerClient } from './helpers/oauth-flow.ts';
import { signIn } from './helpers/web-pages.ts';
import { startTestSmtp, type TestSmtp } from './helpers/smtp.ts';
import { totpAt } from '../src/accounts/totp.ts';
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
    // Top-N with N = 1 and no other workspace called yet: demo takes the free place at its first call.
    for (let i = 0; i < 11; i++) assert.equal((await callTool(url, t.accessToken, 'search_contacts', { query: 'a' })).status, 200);
    assert.equal((await callTool(url, t.accessToken, 'search_contacts', { query: 'a' }, '2025-06-18')).status, 200);
    await callTool(url, t.accessToken, 'search_contacts', { query: 42 });
    await callTool(url, t.accessToken, 'no_such_tool', {});
    const after = samples(await scrape());
    const other = value(after, key('search_contacts', 'ok', '2025-11-25', 'other')) - value(before, key('search_contacts', 'ok', '2025-11-25', 'other'));
    const own = value(after, key('search_contacts', 'ok', '2025-11-25')) - value(before, key('search_contacts', 'ok', '2025-11-25'));
    assert.equal(other + own, 11);
    assert.equal(own, 11, 'demo has its own label from the first call');
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

  test('a second, less busy workspace is `other`: the workspace label is bounded (TOLLGATE_METRICS_TOP_WORKSPACES=1)', async () => {
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
    // A real wrong-password sign-in: the form's own CSRF token and cookie, so it reaches the password check.
    const jar = new CookieJar();
    const page = await browserRequest(jar, `${srv.url}/login`);
    const form = parseForms(page.body, page.url).find((f) => new URL(f.action).pathname === '/login')!;
    assert.ok(form.fields.csrf_token, 'the form carries its CSRF token');
    const bad = await browserRequest(jar, form.action, { form: { ...form.fields, email: ADMIN_EMAIL, password: 'wrong' } });
    assert.equal(bad.status, 401, 'refused for the password, not for the form');
    assert.match(bad.body, /The email or password is incorrect/);
    // A form without its token is refused before the password is checked: counted as neither.
    const noToken = await fetch(`${srv.url}/login`, { method: 'POST', body: new URLSearchParams({ email: ADMIN_EMAIL, password: 'wrong' }) });
    assert.equal(noToken.status, 400);
    await signIn(srv.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const after = samples(await scrape());
    const delta = (k: string) => value(after, k) - value(before, k);
    assert.equal(delta('tollgate_oauth_tokens_issued_total{grant_type="authorization_code"}'), 1);
    assert.equal(delta('tollgate_oauth_tokens_issued_total{grant_type="refresh_token"}'), 2);
    assert.equal(delta('tollgate_oauth_replays_detected_total{kind="refresh_token"}'), 1);
    assert.equal(delta('tollgate_oauth_token_errors_total{error="invalid_grant"}'), 1);
    assert.equal(delta('tollgate_oauth_registrations_total{outcome="created"}'), 1);
    // One sign-in on the way to the tokens, one after the wrong password; the wrong password once.
    assert.equal(delta('tollgate_sign_ins_total{outcome="ok"}'), 2);
    assert.equal(delta('tollgate_sign_ins_total{outcome="failed"}'), 1);
    assert.equal(delta('tollgate_sign_ins_total{outcome="throttled"}'), 0);
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

describe('every 429 counts in tollgate_rate_limit_rejections_total, by limit', () => {
  let srv: TestServer;
  let smtp: TestSmtp;
  before(async () => {
    smtp = await startTestSmtp();
    srv = await startTestServer({
      env: {
        TOLLGATE_METRICS_TOKEN: TOKEN,
        TOLLGATE_SMTP_URL: smtp.url,
        TOLLGATE_SMTP_FROM: 'tollgate@example.com',
        TOLLGATE_RATE_LIMIT_PER_MINUTE: '2',
        TOLLGATE_API_RATE_LIMIT_PER_MINUTE: '1',
        TOLLGATE_DCR_RATE_PER_MINUTE: '1',
        TOLLGATE_LOGIN_MAX_FAILURES: '1',
        TOLLGATE_SSO_STARTS_PER_IP: '1',
      },
    });
  });
  after(async () => {
    await srv.stop();
    await smtp.close();
  });
  const scrape = async () => samples(await (await fetch(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
  const limit = (l: string) => `tollgate_rate_limit_rejections_total{limit="${l}"}`;
  /** Sends `send` until it answers 429 (at most `max` times); the 429 must carry Retry-After. */
  async function until429(what: string, send: () => Promise<{ status: number; headers: Headers }>, max = 40): Promise<void> {
    for (let i = 0; i < max; i++) {
      const r = await send();
      if (r.status === 429) {
        assert.ok(Number(r.headers.get('retry-after')) >= 1, `${what}: Retry-After`);
        return;
      }
    }
    assert.fail(`${what}: no 429 in ${max} requests`);
  }

  test('MCP plan limit, management API, registration, device authorization, sign-in, two-factor, SSO start and password reset', async () => {
    const before = await scrape();
    const once = new Map<string, number>();

    // MCP: a plan allowing two calls a minute.
    const t = await mintAccessToken(srv.services);
    await until429('tools/call', async () => {
      const r = await fetch(`${srv.url}/demo/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.accessToken}`, 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'check_credit_balance', arguments: {} } }),
      });
      await r.text();
      return r;
    });
    once.set('tool_call', 1);

    // Management API: one request a minute per key.
    const key = (await srv.services.api.keys.createKey({ name: 'metrics', access: 'read' })).secret;
    await until429('api', async () => {
      const r = await fetch(`${srv.url}/api/v1/workspaces/demo/credits`, { headers: { authorization: `Bearer ${key}` } });
      await r.text();
      return r;
    });
    once.set('api', 1);

    // Dynamic client registration: one a minute per IP.
    const metadata = { client_name: 'rl', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'], response_types: ['code'] };
    const client = await registerClient(srv.url, metadata);
    assert.ok(client.client_id, 'the first registration passes');
    await until429('registration', () => fetch(`${srv.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) }));
    once.set('registration', 1);

    // Device authorization: 30 a minute per IP.
    await until429('device_authorization', async () => {
      const r = await postForm(`${srv.url}/device_authorization`, { client_id: client.client_id });
      return { status: r.status, headers: r.headers };
    });
    once.set('device_authorization', 1);

    // Password sign-in: one failure per account, then 429.
    const failLogin = async (email: string, password: string) => {
      const jar = new CookieJar();
      const page = await browserRequest(jar, `${srv.url}/login`);
      const form = parseForms(page.body, page.url).find((f) => new URL(f.action).pathname === '/login')!;
      return browserRequest(jar, form.action, { form: { ...form.fields, email, password } });
    };
    assert.equal((await failLogin('nobody@example.com', 'x')).status, 401);
    assert.equal((await failLogin('nobody@example.com', 'x')).status, 429);
    once.set('sign_in', 1);

    // Two-factor: one wrong code per account, then 429.
    const user = await srv.services.accounts.users.createUser({ email: 'two@example.com', password: ADMIN_PASSWORD });
    const secret = await srv.services.twoFactor.beginEnrolment(user.id);
    assert.ok(await srv.services.twoFactor.confirmEnrolment(user.id, totpAt(secret, Date.now())));
    const jar = new CookieJar();
    const loginPage = await browserRequest(jar, `${srv.url}/login`);
    const loginForm = parseForms(loginPage.body, loginPage.url).find((f) => new URL(f.action).pathname === '/login')!;
    const step = await browserRequest(jar, loginForm.action, { form: { ...loginForm.fields, email: 'two@example.com', password: ADMIN_PASSWORD } });
    assert.equal(new URL(step.location!).pathname, '/login/two-factor');
    const wrongCode = async () => {
      const page = await browserRequest(jar, `${srv.url}/login/two-factor`);
      const form = parseForms(page.body, page.url).find((f) => new URL(f.action).pathname === '/login/two-factor')!;
      return browserRequest(jar, form.action, { form: { ...form.fields, code: '000000' === totpAt(secret, Date.now()) ? '111111' : '000000' } });
    };
    assert.equal((await wrongCode()).status, 401);
    assert.equal((await wrongCode()).status, 429);
    once.set('two_factor', 1);

    // Sign-in through a connection: one start per IP (counted before the connection is looked up).
    await (await fetch(`${srv.url}/login/sso/any`, { redirect: 'manual' })).text();
    await until429('sso_start', () => fetch(`${srv.url}/login/sso/any`, { redirect: 'manual' }), 2);
    once.set('sso_start', 1);

    // Password reset mails: 30 requests per IP.
    await until429('password_reset', async () => {
      const jar2 = new CookieJar();
      const page = await browserRequest(jar2, `${srv.url}/password-reset`);
      const form = parseForms(page.body, page.url).find((f) => new URL(f.action).pathname === '/password-reset')!;
      const r = await browserRequest(jar2, form.action, { form: { ...form.fields, email: 'nobody@example.com' } });
      assert.ok(r.status === 200 || r.status === 429, String(r.status));
      return r;
    });
    once.set('password_reset', 1);

    const after = await scrape();
    for (const [l, n] of once) assert.equal(value(after, limit(l)) - value(before, limit(l)), n, `${l}: one 429, counted once`);
    // The label is bounded: only the known limits appear.
    const labels = [...after.keys()].filter((k) => k.startsWith('tollgate_rate_limit_rejections_total{')).map((k) => /limit="([^"]+)"/.exec(k)![1]);
    assert.deepEqual(labels.sort(), [...once.keys()].sort());
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
