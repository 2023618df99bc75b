// (T) Tollgate itself: a real server process (the same startServer as `tollgate serve`) on a fresh SQLite file, or
// on a fresh PostgreSQL database created here and dropped on exit (BENCH_DATABASE=postgres, TOLLGATE_TEST_PG_URL).
// The load is authenticated by real ES256 JWTs minted for real grants, calls the demo CRM's get_contact with a real
// contact id, and is metered: every call is rate-limit counted, deducted, written to the ledger and the usage
// roll-ups (durable before it is answered), and logged. Credits and rate limits are set high enough never to refuse.
//
// The data set is seeded first, by a short-lived instance of the server on the same database, then the measured
// instance starts on that existing database. Knobs (environment):
//   BENCH_DATABASE       sqlite (default) | postgres
//   BENCH_TOOLS          registered tools in total (get_contact plus synthetic ones); default: the built-in set
//   BENCH_WORKSPACES     workspaces in total (default 1: the demo workspace)
//   BENCH_SPREAD         workspaces: traffic round-robin over every workspace; else traffic to the demo workspace
//   BENCH_TRAFFIC_GRANTS grants (tokens) the traffic goes round-robin over (default 1)
//   BENCH_GRANTS         live grants in total, at least BENCH_TRAFFIC_GRANTS (the rest are bulk-seeded)
//   BENCH_REFRESH        refresh tokens to issue for a registered public client (the refresh measurement)
//   BENCH_LOG_LEVEL      the request log's level (default info, as `tollgate serve`)
//   BENCH_LOG_FILE       write the log to this file instead of stdout (the bench harness's own pipe reader would
//                        otherwise compete with the server and the load generator for the same cores)
//   BENCH_UPSTREAM_URL   G (the gateway): an upstream MCP server at this Streamable HTTP URL (bench/servers/upstream.ts)
//                        is added as `bench` before the measured server starts; the traffic calls its get_contact
//                        through the workspace endpoint (`bench__get_contact`), metered at 1 credit
//   BENCH_EXP            experiments: `free` (no metering), `const` (a get_contact that reads nothing), comma-separated
//   TOLLGATE_RATE_LIMIT_BACKEND, TOLLGATE_REDIS_URL, TOLLGATE_METRICS_PORT are passed on (experiments)
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { createLogger, logDestination } from '../../src/util/logger.ts';
import { crmStore } from '../../src/crm/store.ts';
import type { ToolDefinition } from '../../src/tools/tool-types.ts';
import { freeMetering } from '../../src/tools/metering.ts';
import { workspaceResourceUrl } from '../../src/oauth/resource.ts';
import { announceReady, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';
import { freePort, scratchPostgres } from '../lib/scratch.ts';

const env = process.env;
const dialect = env.BENCH_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const toolCount = env.BENCH_TOOLS ? Math.max(1, Number(env.BENCH_TOOLS)) : undefined;
const workspaceCount = Math.max(1, Number(env.BENCH_WORKSPACES ?? 1));
const spread = env.BENCH_SPREAD === '1';
const trafficGrants = spread ? workspaceCount : Math.max(1, Number(env.BENCH_TRAFFIC_GRANTS ?? 1));
const grantCount = Math.max(trafficGrants, Number(env.BENCH_GRANTS ?? 0));
const refreshCount = Math.max(0, Number(env.BENCH_REFRESH ?? 0));
const upstreamUrl = env.BENCH_UPSTREAM_URL;

const ADMIN_EMAIL = 'bench@example.com';
const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-'));
let dropDatabase = async () => {};

async function databaseUrl(): Promise<string> {
  if (dialect === 'sqlite') return `sqlite:${path.join(dir, 'tollgate.db')}`;
  const base = env.TOLLGATE_TEST_PG_URL;
  if (!base) throw new Error('BENCH_DATABASE=postgres needs TOLLGATE_TEST_PG_URL');
  const db = await scratchPostgres(base, 'tollgate_bench');
  dropDatabase = db.drop;
  return db.url;
}

function syntheticTool(i: number): ToolDefinition {
  return {
    name: `bench_tool_${String(i).padStart(3, '0')}`,
    title: `Bench tool ${i}`,
    description: `A synthetic tool (${i}) that only makes the registry bigger.`,
    scope: i % 2 ? 'mcp:read' : 'mcp:write',
    cost: 1,
    inputSchema: { type: 'object', properties: { query: { type: 'string', maxLength: 200 }, limit: { type: 'integer', minimum: 1, maximum: 100 } }, additionalProperties: false },
    handler: async () => ({ content: [{ type: 'text', text: `tool ${i}` }] }),
  };
}

const selectTools = toolCount === undefined
  ? undefined
  : (tools: readonly ToolDefinition[]) => [tools.find((t) => t.name === 'get_contact')!, ...Array.from({ length: toolCount - 1 }, (_, i) => syntheticTool(i + 1))];

interface Variant {
  path: string;
  authorization: string;
  body: string;
}

/** Seeds workspaces, contacts, grants and refresh tokens with a short-lived server on the database. */
async function seed(config: Config): Promise<{ pairs: { slug: string; workspaceId: string; grantId: string; contactId: string }[]; clientId: string; refreshTokens: string[] }> {
  const running = await startServer(config, createLogger('warn'));
  const s = running.services;
  try {
    // Seeding only: on SQLite skip the per-commit fsync (the measured server opens the database with its own settings).
    if (dialect === 'sqlite') await sql`pragma synchronous = off`.execute(s.store.db);
    const crm = crmStore(s.store);
    const user = (await s.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
    const demo = await s.accounts.workspaces.requireWorkspace('demo');
    const demoContact = (await crm.searchContacts(demo.id, { limit: 1, offset: 0 })).contacts[0];
    const workspaces = [{ slug: demo.slug, id: demo.id, contactId: demoContact.id }];
    for (let i = 1; i < workspaceCount; i++) {
      const slug = `bench-ws-${String(i).padStart(5, '0')}`;
      const ws = await s.createWorkspace({ slug, ownerUserId: user.id });
      const contact = spread ? await crm.createContact(ws.id, { name: `Contact ${i}`, email: `c${i}@example.com`, company: 'Bench' }) : undefined;
      workspaces.push({ slug, id: ws.id, contactId: contact?.id ?? '' });
    }
    const { client } = await s.oauth.clients.createClient(
      { clientName: 'Bench client', redirectUris: ['http://127.0.0.1/callback'], tokenEndpointAuthMethod: 'none', applicationType: 'native', grantTypes: ['authorization_code', 'refresh_token'], scope: null, extra: {} },
      'dynamic',
    );
    const scopes = ['mcp:read', 'mcp:write'];
    const pairs = [];
    for (let i = 0; i < trafficGrants; i++) {
      const ws = spread ? workspaces[i] : workspaces[0];
      const resource = workspaceResourceUrl(config.publicUrl, ws.slug);
      const grant = await s.oauth.grants.createGrant({ clientId: client.clientId, userId: user.id, workspaceId: ws.id, resource, scopes });
      pairs.push({ slug: ws.slug, workspaceId: ws.id, grantId: grant.id, contactId: ws.contactId });
    }
    // The rest of the live grants: same workspace, user and client, random ids among the traffic's.
    await s.oauth.grants.bulkCreateGrants({ count: grantCount - trafficGrants, clientId: client.clientId, userId: user.id, workspaceId: demo.id, resource: workspaceResourceUrl(config.publicUrl, 'demo'), scopes });
    const refreshTokens: string[] = [];
    for (let i = 0; i < refreshCount; i++) {
      const grant = await s.oauth.grants.createGrant({ clientId: client.clientId, userId: user.id, workspaceId: demo.id, resource: workspaceResourceUrl(config.publicUrl, 'demo'), scopes });
      refreshTokens.push(await s.oauth.refreshTokens.issueRefreshToken(grant.id));
    }
    if (refreshCount) await s.oauth.clients.markGranted(client.clientId);
    if (upstreamUrl) await s.gateway.store.addUpstream({ name: 'bench', target: { transport: 'http', url: upstreamUrl, headers: {} }, defaultPrice: 1, timeoutMs: null });
    if (dialect === 'sqlite') await sql`pragma wal_checkpoint(truncate)`.execute(s.store.db);
    else await sql`analyze`.execute(s.store.db);
    return { pairs, clientId: client.clientId, refreshTokens };
  } finally {
    await running.close();
  }
}

let running: RunningServer | undefined;

async function main(): Promise<void> {
  const port = await freePort();
  const config = loadConfig({
    env: {
      TOLLGATE_HOST: '127.0.0.1',
      TOLLGATE_PORT: String(port),
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_DATABASE_URL: await databaseUrl(),
      TOLLGATE_ADMIN_EMAIL: ADMIN_EMAIL,
      TOLLGATE_ADMIN_PASSWORD: 'bench password, long enough',
      TOLLGATE_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef',
      TOLLGATE_INITIAL_CREDITS: '1000000000',
      TOLLGATE_RATE_LIMIT_PER_MINUTE: '10000000',
      TOLLGATE_LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'info',
      ...(env.TOLLGATE_REDIS_URL ? { TOLLGATE_REDIS_URL: env.TOLLGATE_REDIS_URL } : {}),
      ...(env.TOLLGATE_RATE_LIMIT_BACKEND ? { TOLLGATE_RATE_LIMIT_BACKEND: env.TOLLGATE_RATE_LIMIT_BACKEND } : {}),
      // A metrics listener, to look inside a measured server (batch sizes, query latency); off in `npm run bench`.
      ...(env.TOLLGATE_METRICS_PORT ? { TOLLGATE_METRICS_PORT: env.TOLLGATE_METRICS_PORT } : {}),
    },
  });
  const seeded = await seed(config);

  // The measured server: as `tollgate serve` runs it, JSON request log on stdout included.
  // Experiments, to see what a part of the path costs (never used by `npm run bench`).
  const exp = (env.BENCH_EXP ?? '').split(',');
  const constTool = (tools: readonly ToolDefinition[]) =>
    (selectTools?.(tools) ?? [...tools]).map((t) => (t.name === 'get_contact' ? { ...t, handler: async () => ({ content: [{ type: 'text' as const, text: '{"contact":{}}' }], structuredContent: { contact: {} } }) } : t));
  // The same asynchronous destination `tollgate serve` writes stdout with, on a file's descriptor.
  const logFile = env.BENCH_LOG_FILE ? logDestination(openSync(env.BENCH_LOG_FILE, 'a')) : undefined;
  running = await startServer(config, createLogger(config.logLevel, logFile), {
    selectTools: exp.includes('const') ? constTool : selectTools,
    wrapMetering: exp.includes('free') ? () => freeMetering : undefined,
  });
  const s = running.services;
  const user = (await s.accounts.users.findUserByEmail(ADMIN_EMAIL))!;
  const variants: Variant[] = [];
  for (const p of seeded.pairs) {
    const resource = workspaceResourceUrl(config.publicUrl, p.slug);
    const { accessToken } = await s.oauth.accessTokens.issueAccessToken({ grantId: p.grantId, userId: user.id, clientId: seeded.clientId, workspaceId: p.workspaceId, workspaceSlug: p.slug, resource, scopes: ['mcp:read', 'mcp:write'] });
    variants.push({ path: `/${p.slug}/mcp`, authorization: `Bearer ${accessToken}`, body: toolCallBody(upstreamUrl ? 'bench__get_contact' : 'get_contact', { id: p.contactId }) });
  }
  const first = variants[0];
  const meta: Record<string, unknown> = { pid: process.pid, dialect, tools: s.mcp.registry.size, workspaces: workspaceCount, grants: grantCount, trafficGrants, origin: config.publicUrl };
  if (variants.length > 1) {
    const file = path.join(dir, 'variants.json');
    writeFileSync(file, JSON.stringify(variants));
    meta.variantsFile = file;
  }
  if (seeded.refreshTokens.length) {
    const file = path.join(dir, 'refresh.json');
    writeFileSync(file, JSON.stringify({ tokenUrl: `${config.publicUrl}/token`, clientId: seeded.clientId, refreshTokens: seeded.refreshTokens }));
    meta.refreshFile = file;
  }
  announceReady({ url: `${config.publicUrl}${first.path}`, headers: { ...MCP_HEADERS, authorization: first.authorization }, body: first.body, meta });
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await running?.close();
  } finally {
    await dropDatabase().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  }
}
process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  void stop(1);
});
