// (D) The durable-write reference: L (a bare node:http JSON-RPC server with an in-memory token check) that also
// writes one row per call to SQLite and answers only once that row is on disk. It is the leanest way to do that
// here, with nothing of Tollgate's: node:sqlite in WAL mode, the rows of one turn of the event loop inserted in one
// transaction, then one fdatasync of the WAL on the thread pool shared by every commit that lands while it runs
// (group commit), and only then the answers. No framework, no query builder, no reads, no log. Issue 8's reference
// "a bare server doing one durable SQLite write per call ≈ 0.52 L" is this server; T does all of its work and more.
import { fdatasync, mkdtempSync, openSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { sendJson, startBareServer } from '../lib/bare-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-durable-'));
const file = path.join(dir, 'calls.db');
const db = new DatabaseSync(file);
db.exec('pragma journal_mode = wal; pragma synchronous = normal');
db.exec('create table calls (id integer primary key, tool text not null, request_id text, created_at integer not null)');
const insert = db.prepare('insert into calls (tool, request_id, created_at) values (?, ?, ?)');
const walFd = openSync(`${file}-wal`, 'r');

// Answers waiting for their rows: `turn` collects this turn's, `committed` those whose commit awaits the next sync.
type Pending = { res: ServerResponse; body: string };
let turn: Pending[] = [];
let committed: Pending[] = [];
let syncing = false;

function commitTurn(): void {
  const batch = turn;
  turn = [];
  db.exec('begin');
  const now = Date.now();
  for (let i = 0; i < batch.length; i++) insert.run('get_contact', null, now);
  db.exec('commit');
  committed.push(...batch);
  if (!syncing) syncNow();
}

function syncNow(): void {
  const batch = committed;
  committed = [];
  syncing = true;
  fdatasync(walFd, (err) => {
    if (err) throw err;
    for (const p of batch) sendJson(p.res, p.body);
    syncing = false;
    if (committed.length) syncNow();
  });
}

const server = startBareServer((res, body) => {
  if (!turn.length) setImmediate(commitTurn);
  turn.push({ res, body });
});

function stop(): void {
  server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
