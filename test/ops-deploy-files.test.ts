// Requirements (operations §1, §3): the Dockerfile, compose.yaml, the systemd unit and the Grafana dashboard stay
// true to the tree. No container engine runs here, so what they name is checked: every path they copy or run exists,
// the image is multi-stage, non-root and checks /readyz, the commands they run are real commands of the CLI, and the
// dashboard queries only metrics Tollgate exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { commands } from '../src/cli/commands.ts';
import { settings } from '../src/config/defaults.ts';

const root = path.resolve(import.meta.dirname, '..');
const read = (f: string) => readFileSync(path.join(root, f), 'utf8');
const pkg = JSON.parse(read('package.json'));
const envNames = new Set(Object.values(settings).map((s) => s.env));

test('Dockerfile: multi-stage, copies only paths that exist, runs as non-root, HEALTHCHECK on /readyz, exec-form entrypoint', () => {
  const text = read('Dockerfile');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const stages = lines.filter((l) => /^FROM /.test(l));
  assert.ok(stages.length >= 2, 'multi-stage');
  assert.match(stages[stages.length - 1], /AS runtime/);
  for (const l of lines.filter((x) => /^COPY /.test(x) && !x.includes('--from='))) {
    const parts = l.replace(/^COPY\s+/, '').split(/\s+/);
    for (const src of parts.slice(0, -1)) assert.ok(existsSync(path.join(root, src)), `COPY source ${src} exists`);
  }
  // Everything the build stage needs for `npm pack` is copied in: the build script's inputs.
  assert.match(pkg.scripts.prepack, /npm run build/);
  assert.match(pkg.scripts.build, /tsconfig\.build\.json/);
  assert.match(text, /COPY tsconfig\.json tsconfig\.build\.json/);
  assert.match(text, /COPY scripts/);
  // The runtime stage copies from the package layout the build stage unpacked.
  for (const f of pkg.files as string[]) if (f === 'bin/' || f === 'dist/') assert.match(text, new RegExp(`COPY --from=build /app/${f.replace('/', '')} `));
  const runtime = text.slice(text.lastIndexOf('FROM '));
  const user = /^USER (\S+)/m.exec(runtime);
  assert.ok(user && user[1] !== 'root' && user[1] !== '0', 'runs as a non-root user');
  assert.match(runtime, /HEALTHCHECK[\s\S]*\/readyz/);
  assert.match(runtime, /ENTRYPOINT \["node", "bin\/tollgate\.js"\]/);
  assert.ok(existsSync(path.join(root, 'bin/tollgate.js')));
  assert.match(runtime, /CMD \["serve"\]/);
  assert.match(runtime, /npm ci --omit=dev --omit=optional/);
  for (const m of runtime.matchAll(/\b(TOLLGATE_[A-Z_]+)=/g)) assert.ok(envNames.has(m[1]), `${m[1]} is a setting`);
  // Read-only root: the only place it writes is the /data volume it owns.
  assert.match(runtime, /TOLLGATE_DATA_DIR=\/data/);
  assert.match(runtime, /VOLUME \["\/data"\]/);
});

test('compose.yaml: Tollgate built from the Dockerfile on PostgreSQL, read-only, with settings that exist', () => {
  const text = read('compose.yaml');
  assert.match(text, /image: postgres:/);
  assert.match(text, /build: \./);
  assert.match(text, /TOLLGATE_DATABASE_URL: postgres:\/\/tollgate:.*@postgres:5432\/tollgate/);
  assert.match(text, /read_only: true/);
  assert.match(text, /condition: service_healthy/);
  for (const m of text.matchAll(/^\s+(TOLLGATE_[A-Z_]+):/gm)) assert.ok(envNames.has(m[1]), `${m[1]} is a setting`);
});

test('systemd unit: runs commands the CLI has, with settings that exist', () => {
  const text = read('docs/deploy/tollgate.service');
  const runs = [...text.matchAll(/^Exec\w+=\S+ \/opt\/tollgate\/(\S+) (.*)$/gm)];
  assert.ok(runs.length >= 2);
  for (const [, file, args] of runs) {
    assert.ok(existsSync(path.join(root, file)), `${file} exists`);
    const words = args.split(' ').filter((w) => !w.startsWith('-') && !w.startsWith('/'));
    assert.ok(commands.some((c) => c.path.join(' ') === words.join(' ')), `tollgate ${words.join(' ')} is a command`);
  }
  for (const m of text.matchAll(/\b(TOLLGATE_[A-Z_]+)=/g)) assert.ok(envNames.has(m[1]), `${m[1]} is a setting`);
  assert.match(text, /KillSignal=SIGTERM/);
});

test('the Grafana dashboard queries only metrics Tollgate exports', async () => {
  // Importing the modules defines their metrics.
  await Promise.all(['../src/http/metrics.ts', '../src/mcp/metrics.ts', '../src/oauth/metrics.ts', '../src/credits/metrics.ts', '../src/store/metrics.ts', '../src/web/login.ts', '../src/observability/shared-metrics.ts'].map((m) => import(m)));
  const { registry } = await import('../src/observability/metrics.ts');
  const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
  const dash = JSON.parse(read('docs/grafana-dashboard.json'));
  const used = new Set<string>();
  for (const p of dash.panels) for (const t of p.targets) for (const m of String(t.expr).matchAll(/\btollgate_[a-z_]+/g)) used.add(m[0].replace(/_(bucket|count|sum)$/, ''));
  assert.ok(used.size >= 12);
  for (const name of used) assert.ok(exported.has(name), `${name} is exported`);
  // And every Tollgate metric the docs list is on the dashboard or in the docs table.
  const docs = read('docs/operations.md');
  for (const name of exported) if (name.startsWith('tollgate_')) assert.ok(docs.includes(name), `${name} is documented in docs/operations.md`);
});
