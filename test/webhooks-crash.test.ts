// Issue 19 §4 and §6: an event committed with its change is delivered at least once even if the process dies. A real
// `tollgate serve` claims the delivery and is killed with SIGKILL while its POST is in flight (the receiver holds
// it), so nothing records the attempt; a new `serve` takes the delivery once the dead one's lease ends and delivers
// the same event id, which is what receivers dedupe by.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, forEachDialect, type TestDatabase } from './helpers/databases.ts';
import { runCli, spawnCli } from './helpers/cli.ts';
import { startReceiver, type Receiver } from './helpers/webhook-receiver.ts';
import { openStore, type Store } from '../src/store/store.ts';
import type { WebhooksTables } from '../src/webhooks/tables.ts';
import type { AuditTables } from '../src/audit/tables.ts';

// Real processes, not the in-process server: the suite's second (Hono-adapter) pass has nothing to add here.
const ADMIN_EMAIL = 'owner@example.com';
const ADMIN_PASSWORD = 'correct horse battery staple';

/** Resolves once the child has exited or was killed (a killed child has a signalCode and no exitCode). */
const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

forEachDialect('outbox: SIGKILL between commit and delivery', (dialect) => {
  let tdb: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let receiver: Receiver;
  let store: Store;
  const children: ChildProcess[] = [];

  before(async () => {
    tdb = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-outbox-crash-'));
    receiver = await startReceiver();
    env = {
      TOLLGATE_DATABASE_URL: tdb.url,
      TOLLGATE_SECRET: 'outbox-crash-test-secret-0123456789',
      TOLLGATE_PORT: '0',
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_ADMIN_EMAIL: ADMIN_EMAIL,
      TOLLGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TOLLGATE_SEED_DEMO: 'false',
      TOLLGATE_LOG_LEVEL: 'warn',
      TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_HTTP: 'true',
      TOLLGATE_OUTBOUND_WEBHOOK_ALLOW_PRIVATE_ADDRESSES: 'true',
      TOLLGATE_OUTBOUND_WEBHOOK_POLL_MS: '50',
      TOLLGATE_OUTBOUND_WEBHOOK_LEASE_SECONDS: '2',
    };
    const migrated = await runCli(['migrate'], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
    const added = await runCli(['admin', 'webhooks', 'add', `${receiver.url}/hook`, '--events', 'workspace.created'], { env });
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Signing secret: whsec_/);
    const nowhere = await runCli(['admin', 'webhooks', 'add', `${receiver.url}/other`, '--workspace', 'nowhere'], { env });
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /Workspace "nowhere" not found/);
    store = await openStore(tdb.url);
  });
  after(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
    }
    await store?.close();
    await receiver.close();
    await tdb.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliveries = () => store.typed<WebhooksTables>().selectFrom('webhook_deliveries').select(['status', 'attempts']).execute();

  test('the killed process\'s delivery is made by the next one, with the same event id', { timeout: 180_000 }, async () => {
    const first = await spawnCli(['serve'], { env, ready: /Tollgate is running at/, timeoutMs: 60_000 });
    children.push(first.child);
    // The first delivery is held open and its process killed while the POST is in flight.
    let killed = false;
    receiver.respond = () => {
      if (killed) return 200;
      killed = true;
      first.child.kill('SIGKILL');
      return 'hold';
    };
    // Another process (the CLI) commits the change and its event: the workspace and its outbox row, together.
    const created = await runCli(['admin', 'workspace', 'create', 'crash-co'], { env });
    assert.equal(created.code, 0, created.stderr);
    // The CLI's change is in the audit log too, with the operator at the command line as the actor.
    const audited = await store.typed<AuditTables>().selectFrom('audit_log').select(['actor_type', 'action', 'user_agent']).where('action', '=', 'workspace.created').execute();
    assert.deepEqual(audited.map((r) => [r.actor_type, r.user_agent]), [['cli', 'tollgate admin workspace create']]);
    await receiver.waitFor((r) => r.length === 1, 30_000);
    await exited(first.child);
    assert.equal(first.child.signalCode, 'SIGKILL');
    const pending = await deliveries();
    assert.deepEqual(pending.map((d) => [d.status, Number(d.attempts)]), [['pending', 1]], 'the attempt in flight was never recorded');

    const second = await spawnCli(['serve'], { env, ready: /Tollgate is running at/, timeoutMs: 60_000 });
    children.push(second.child);
    await receiver.waitFor((r) => r.length === 2, 30_000);
    const [lost, delivered] = receiver.received;
    assert.equal(delivered.id, lost.id, 'the same event id, so a receiver that saw the first can drop the second');
    assert.equal(delivered.type, 'workspace.created');
    assert.equal(delivered.data.slug, 'crash-co');
    for (let i = 0; i < 200; i++) {
      if ((await deliveries())[0]?.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const final = await deliveries();
    assert.deepEqual(final.map((d) => [d.status, Number(d.attempts)]), [['delivered', 2]]);
  });
});
