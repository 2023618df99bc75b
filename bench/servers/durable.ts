// (D) The durable-write reference: L (a bare node:http JSON-RPC server with an in-memory token check) that also
// writes one row per call to SQLite and answers only once that row is on disk. It is the leanest way to do that
// here, with nothing of Tollgate's: node:sqlite in WAL mode, the rows of one turn of the event loop inserted in one
// transaction, then one fdatasync of the WAL on the thread pool shared by every commit that lands while it runs
// (group commit), and only then the answers. No framework, no query builder, no reads, no log. Issue 8's reference
// "a bare server doing one durable SQLite write per call ≈ 0.52 L" is this server; T does all of its work and more.
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileSyncer } from '../../src/store/sqlite-dialect.ts';
import { sendJson, startBareServer } from '../lib/bare-server.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-durable-'));
const file = path.join(dir, 'calls.db');
const db = new DatabaseSync(file);
db.exec('pragma journal_mode = wal; pragma synchronous = normal');
db.exec('create table calls (id integer primary key, tool text not null, request_id text, created_at integer not null)');
const insert = db.prepare('insert into calls (tool, request_id, created_at) values (?, ?, ?)');
// The same coalescing WAL sync as Tollgate's SQLite dialect: commits that land while one runs share the next.
const wal = fileSyncer(`${file}-wal`);

// This turn's calls, answered once their commit is on disk.
type Pending = { res: ServerResponse; body: string };
let turn: Pending[] = [];

function commitTurn(): void {
  const batch = turn;
  turn = [];
  db.exec('begin');
  const now = Date.now();
  for (let i = 0; i < batch.length; i++) insert.run('get_contact', null, now);
  db.exec('commit');
  // A failed sync rejects unhandled and ends the process: no call is answered before its row is durable.
  void wal.sync().then(() => {
    for (const p of batch) sendJson(p.res, p.body);
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
