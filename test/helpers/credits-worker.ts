// A child process for the credits tests: opens the database, builds the credits module, waits for "go" on stdin
// (so that several workers start together), then drives the metering seam directly and reports on stdout.
//
//   MODE=burst  CALLS calls, CONCURRENCY at once (default all); prints one JSON line {ok, insufficient, rateLimited, errors}
//   MODE=load   calls in a loop (CONCURRENCY at once) until killed; prints `ack <requestId>` once a charge is
//               durable, and `refund <requestId>` once a failed call's refund is (every 5th call fails)
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/config/config.ts';
import { openStore } from '../../src/store/store.ts';
import { creditsModule } from '../../src/credits/index.ts';
import { redisBackend } from '../../src/credits/rate-limit/redis.ts';
import type { ToolContext, ToolDefinition } from '../../src/tools/tool-types.ts';

const env = process.env;
const store = await openStore(env.URL!);
const config = loadConfig({ env: { TOLLGATE_RATE_LIMIT_PER_MINUTE: env.LIMIT ?? '10000000', TOLLGATE_RATE_LIMIT_BACKEND: env.BACKEND ?? 'memory', TOLLGATE_DATABASE_URL: env.URL } });
const credits = creditsModule(store, config, undefined, env.BACKEND === 'redis' ? { rateLimitBackend: redisBackend(env.REDIS_URL!, { keyPrefix: env.KEY_PREFIX }) } : {});
const tool: ToolDefinition = { name: 'paid_tool', description: 'x', inputSchema: { type: 'object' }, scope: 'mcp:read', cost: Number(env.COST ?? 1), handler: async () => ({ content: [] }) };
const tag = env.TAG ?? String(process.pid);
const ctx = (i: number): ToolContext => ({
  userId: 'user-1', workspaceId: env.WORKSPACE_ID!, workspaceSlug: 'acme', clientId: `client-${i % 3}`, grantId: env.GRANT_ID ?? `grant-${tag}`, scopes: ['mcp:read'], requestId: `${tag}-${i}`,
});

process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (l) => {
    if (l.trim() !== 'go') return;
    lines.close();
    process.stdin.destroy();
    resolve();
  });
});

if (env.MODE === 'burst') {
  const tally = { ok: 0, insufficient: 0, rateLimited: 0, errors: 0 };
  // At most CONCURRENCY calls in flight, so the run spans many transactions that interleave with the other
  // worker's (all at once, one process would commit its whole burst in one or two transactions).
  let next = 0;
  const calls = Number(env.CALLS);
  const worker = async () => {
    while (next < calls) {
      const i = next++;
      try {
        const d = await credits.metering.begin(tool, ctx(i));
        if (d.kind === 'ok') tally.ok++;
        else if (d.kind === 'insufficient_credits') tally.insufficient++;
        else tally.rateLimited++;
      } catch (err) {
        tally.errors++;
        // On stderr (the test's own output), so that a failed count says what the error was.
        process.stderr.write(`credits worker ${tag}: call ${i} failed: ${(err as Error)?.message ?? String(err)}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Number(env.CONCURRENCY ?? calls) }, worker));
  process.stdout.write(JSON.stringify(tally) + '\n');
  await credits.close();
  await store.close();
} else {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const d = await credits.metering.begin(tool, ctx(i));
      if (d.kind !== 'ok') continue;
      process.stdout.write(`ack ${tag}-${i}\n`);
      if (i % 5 === 0) {
        await credits.metering.finish(d.charge, tool, ctx(i), { ok: false, durationMs: 1 });
        process.stdout.write(`refund ${tag}-${i}\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: Number(env.CONCURRENCY ?? 20) }, worker));
}
