// Requirements (operations §2): with OTEL_EXPORTER_OTLP_ENDPOINT set, `tollgate serve` exports OpenTelemetry spans
// over OTLP/HTTP (the real exporter, to a real receiver in this test): an HTTP server span that continues the caller's
// W3C `traceparent`, and below it the tool call's span and the database queries' spans; the request log line carries
// the same trace id. The exporter flushes on SIGTERM.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { spawnCli, waitForExit } from './helpers/cli.ts';
import { obtainTokens } from './helpers/oauth-flow.ts';
import type { ChildProcess } from 'node:child_process';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery staple';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';

let receiver: Server;
let dir: string;
let child: ChildProcess | undefined;
const spans: OtlpSpan[] = [];
const services: string[] = [];
const contentTypes: string[] = [];

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      contentTypes.push(String(req.headers['content-type']));
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body.toString('utf8'));
        for (const rs of doc.resourceSpans ?? []) {
          for (const a of rs.resource?.attributes ?? []) if (a.key === 'service.name') services.push(a.value.stringValue);
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  dir = mkdtempSync(path.join(tmpdir(), 'tollgate-otel-'));
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes?.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? v.intValue ?? v.boolValue) : undefined;
};

test('spans for HTTP, the tool call and the database reach an OTLP receiver, continuing the caller\'s traceparent', async () => {
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const started = await spawnCli(['serve'], {
    env: {
      TOLLGATE_PORT: '0',
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_ADMIN_EMAIL: EMAIL,
      TOLLGATE_ADMIN_PASSWORD: PASSWORD,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_SERVICE_NAME: 'tollgate-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
    ready: /Tollgate is running at (http:\/\/127\.0\.0\.1:\d+)/,
    timeoutMs: 60_000,
  });
  child = started.child;
  const base = started.match[1];
  const { tokens } = await obtainTokens(base, { email: EMAIL, password: PASSWORD, resource: `${base}/demo/mcp` });
  const r = await fetch(`${base}/demo/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${tokens.access_token}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'mcp-protocol-version': '2025-11-25',
      traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
      'x-request-id': 'otel-test-request-1',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_contacts', arguments: { query: 'a' } } }),
  });
  assert.equal(r.status, 200);
  await r.text();

  // Flushed within the batch delay, or at the latest on SIGTERM.
  const end = Date.now() + 15_000;
  while (!spans.some((s) => s.traceId === TRACE_ID && s.name.startsWith('tools/call')) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
  child.kill('SIGTERM');
  assert.equal(await waitForExit(child), 0);

  assert.ok(services.includes('tollgate-under-test'), 'OTEL_SERVICE_NAME names the resource');
  assert.ok(contentTypes.every((t) => t.startsWith('application/json')));
  const trace = spans.filter((s) => s.traceId === TRACE_ID);
  const server = trace.find((s) => s.kind === 2);
  assert.ok(server, `a server span in the caller's trace; got ${spans.map((s) => s.name).join(', ')}`);
  assert.equal(server.parentSpanId, PARENT_ID, 'it continues the caller\'s span');
  assert.equal(server.name, 'POST /:workspace/mcp');
  assert.equal(attr(server, 'http.route'), '/:workspace/mcp');
  assert.equal(Number(attr(server, 'http.response.status_code')), 200);
  assert.equal(attr(server, 'tollgate.workspace'), 'demo');
  assert.equal(attr(server, 'mcp.tool.name'), 'search_contacts');
  const tool = trace.find((s) => s.name === 'tools/call search_contacts');
  assert.ok(tool, 'a span for the tool call');
  assert.equal(tool.parentSpanId, server.spanId);
  const db = trace.filter((s) => s.kind === 3 && attr(s, 'db.system.name') === 'sqlite');
  assert.ok(db.length >= 1, 'database query spans in the same trace');
  const ids = new Set(trace.map((s) => s.spanId));
  assert.ok(db.every((s) => s.parentSpanId && ids.has(s.parentSpanId)), 'each query span hangs under a span of this request');
  assert.ok(db.some((s) => String(attr(s, 'db.query.text')).includes('select')));
  // The Hono routes of the sign-in flow have server spans too, named by their templates.
  const named = new Set(spans.filter((s) => s.kind === 2).map((s) => s.name));
  assert.ok(named.has('POST /register'), [...named].join(', '));
  assert.ok(named.has('POST /token'));
  assert.ok([...named].some((n) => n.startsWith('GET /authorize')));
  // Nothing secret in a span: no token, no password.
  const all = JSON.stringify(spans);
  assert.ok(!all.includes(tokens.access_token) && !all.includes(PASSWORD));
  // The request log line carries the same trace id.
  const line = started.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.requestId === 'otel-test-request-1');
  assert.equal(line?.traceId, TRACE_ID);
});
