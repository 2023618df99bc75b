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

/** `NAME=value` pairs of a text (unit `Environment=` lines, Dockerfile `ENV`, compose `NAME: "value"`). */
const settingValue = (text: string, name: string): number | undefined => {
  const m = new RegExp(`\\b${name}(?:=|: ?"?)(\\d+)`).exec(text);
  return m ? Number(m[1]) : undefined;
};
/** The longest a SIGTERM drain takes with these settings, plus a margin for the last ledger commit and close. */
const drainMs = (text: string) =>
  (settingValue(text, settings.shutdownReadinessDelayMs.env) ?? Number(settings.shutdownReadinessDelayMs.default)) +
  (settingValue(text, settings.shutdownTimeoutMs.env) ?? Number(settings.shutdownTimeoutMs.default)) +
  5000;

test('systemd unit and compose: a readiness delay for the load balancer, and a stop timeout longer than the whole drain', () => {
  const unit = read('docs/deploy/tollgate.service');
  assert.ok((settingValue(unit, 'TOLLGATE_SHUTDOWN_READINESS_DELAY_MS') ?? 0) > 0, 'the unit sets a readiness delay');
  const stop = /^TimeoutStopSec=(\d+)$/m.exec(unit);
  assert.ok(stop, 'TimeoutStopSec is set');
  assert.ok(Number(stop[1]) * 1000 > drainMs(unit), `TimeoutStopSec=${stop[1]} s exceeds the drain (${drainMs(unit)} ms)`);
  assert.match(unit, /^KillMode=mixed$/m, 'SIGTERM to the main process only; SIGKILL to all after the timeout');

  const compose = read('compose.yaml');
  assert.ok((settingValue(compose, 'TOLLGATE_SHUTDOWN_READINESS_DELAY_MS') ?? 0) > 0, 'compose sets a readiness delay');
  const grace = /stop_grace_period: (\d+)s/.exec(compose);
  assert.ok(grace && Number(grace[1]) * 1000 > drainMs(compose), 'stop_grace_period exceeds the drain');
  // And the image's own default: what `docker run` gets without compose.
  assert.ok((settingValue(read('Dockerfile'), 'TOLLGATE_SHUTDOWN_READINESS_DELAY_MS') ?? 0) > 0);
});

test('Dockerfile runtime stage and compose: read-only root friendly, PostgreSQL healthy before Tollgate starts', () => {
  const docker = read('Dockerfile');
  const runtime = docker.slice(docker.lastIndexOf('FROM '));
  // Everything the process may write is under the data volume or /tmp (a tmpfs in compose).
  const env = Object.fromEntries([...runtime.matchAll(/^\s*(?:ENV\s+)?([A-Z_]+)=(\S+?)\s*\\?$/gm)].map((m) => [m[1], m[2]]));
  assert.equal(env.TOLLGATE_DATA_DIR, '/data');
  assert.match(env.NODE_COMPILE_CACHE ?? '/tmp', /^\/tmp\//, 'the compile cache is in /tmp');
  assert.match(runtime, /mkdir -p \/data && chown node:node \/data && chmod 0700 \/data/, 'only /data belongs to the user');
  assert.ok(runtime.indexOf('USER node') > runtime.lastIndexOf('RUN '), 'no RUN after USER: the app files stay root\'s');
  const healthcheck = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(runtime);
  assert.ok(healthcheck, 'HEALTHCHECK CMD in exec form');
  assert.match(healthcheck[1], /\/readyz/);
  assert.match(runtime, new RegExp(`EXPOSE ${env.TOLLGATE_PORT}\\b`), 'the exposed port is the one it listens on');

  const compose = read('compose.yaml');
  const service = (name: string) => {
    const start = compose.indexOf(`\n  ${name}:\n`);
    assert.ok(start >= 0, `service ${name}`);
    const rest = compose.slice(start + 1);
    const end = rest.slice(1).search(/\n {2}\S|\n\S/);
    return end < 0 ? rest : rest.slice(0, end + 1);
  };
  const pg = service('postgres');
  assert.match(pg, /healthcheck:\s+test: \["CMD-SHELL", "pg_isready/);
  assert.match(pg, /- pgdata:\/var\/lib\/postgresql\/data/, 'the database on a volume');
  const tg = service('tollgate');
  assert.match(tg, /depends_on:\s+postgres:\s+condition: service_healthy/);
  assert.match(tg, /read_only: true/);
  assert.match(tg, /tmpfs:\s+- \/tmp/);
  assert.match(tg, new RegExp(`- tollgate-data:${env.TOLLGATE_DATA_DIR}\\b`), 'the data directory is the volume');
  assert.match(tg, /cap_drop: \[ALL\]/);
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
