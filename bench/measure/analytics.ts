// The "30-day analytics over 10 million usage events" measurement, in its own process: a fresh database (SQLite file,
// or a PostgreSQL database created and dropped here with BENCH_DATABASE=postgres), a workspace seeded with
// BENCH_EVENTS usage events over 30 days (src/credits/seed.ts: the roll-ups those calls produce), then the 30-day
// usage report — what the dashboard and the get_account_analytics tool read — timed BENCH_RUNS times.
// Prints one JSON line: { events, seedSeconds, medianMs, p90Ms, maxMs, runs }.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { openServices } from '../../src/services.ts';
import { seedUsageDataset } from '../../src/credits/index.ts';
import { createLogger } from '../../src/util/logger.ts';
import { median } from '../lib/load.ts';
import { scratchPostgres } from '../lib/scratch.ts';

const env = process.env;
const events = Number(env.BENCH_EVENTS ?? 10_000_000);
const runs = Number(env.BENCH_RUNS ?? 25);
const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-analytics-'));
let drop = async () => {};

async function databaseUrl(): Promise<string> {
  if (env.BENCH_DATABASE !== 'postgres') return `sqlite:${path.join(dir, 'tollgate.db')}`;
  const db = await scratchPostgres(env.TOLLGATE_TEST_PG_URL!, 'tollgate_bench_an');
  drop = db.drop;
  return db.url;
}

try {
  const config = loadConfig({ env: { TOLLGATE_DATA_DIR: dir, TOLLGATE_DATABASE_URL: await databaseUrl(), TOLLGATE_SECRET: 'bench-secret-0123456789abcdef0123456789abcdef', TOLLGATE_INITIAL_CREDITS: '0' } });
  const services = await openServices(config, createLogger('warn'));
  try {
    const ws = await services.createWorkspace({ slug: 'analytics' });
    const t0 = performance.now();
    await seedUsageDataset(services.store, { workspaceId: ws.id, events, days: 30 });
    const seedSeconds = (performance.now() - t0) / 1000;
    const times: number[] = [];
    let calls = 0;
    for (let i = 0; i < runs + 3; i++) {
      const t = performance.now();
      const report = await services.credits.usageReport(ws.id, { days: 30 });
      if (i >= 3) times.push(performance.now() - t);
      calls = report.totals.calls;
    }
    if (calls !== events) throw new Error(`the report counts ${calls} calls, not the ${events} seeded`);
    times.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({ events, seedSeconds, medianMs: median(times), p90Ms: times[Math.floor(0.9 * (times.length - 1))], maxMs: times.at(-1), runs }) + '\n');
  } finally {
    await services.close();
  }
} finally {
  await drop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
