// (D) The durable-write reference: L (a bare node:http JSON-RPC server with an in-memory token check) that also
// writes one row per call to SQLite and answers only once that row is on disk. It is the leanest way to do that
// here, with nothing of Tollgate's: node:sqlite in WAL mode, the rows of one turn of the event loop inserted in one
// transaction, then one fdatasync of the WAL on the thread pool shared by every commit that lands while it runs
// (group commit), and only then the answers. No framework, no query builder, no reads, no log. Issue 8's reference
// "a bare server doing one durable SQLite write per call ≈ 0.52 L" is this server; T does all of its work and more.
import { fdatasync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { announceReady, BENCH_CONTACT_ID, BENCH_TOKEN, MCP_HEADERS, toolCallBody } from '../lib/protocol.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-durable-'));
const file = path.join(dir, 'calls.db');
const db = new DatabaseSync(file);
db.exec('pragma journal_mode = wal; pragma synchronous = normal');
db.exec('create table calls (id integer primary key, tool text not null, request_id text, created_at integer not null)');
const insert = db.prepare('insert into calls (tool, request_id, created_at) values (?, ?, ?)');
const walFd = openSync(`${file}-wal`, 'r');

const tokens = new Set([BENCH_TOKEN]);
const contact = { id: BENCH_CONTACT_ID, name: 'Ada Lovelace', email: 'ada@example.com', company: 'Analytical Engines' };

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
    for (const p of batch) p.res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(p.body) }).end(p.body);
    syncing = false;
    if (committed.length) syncNow();
  });
}

const server = createServer((req, res) => {
  const auth = req.headers.authorization;
  if (req.method !== 'POST' || !auth?.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
    res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let msg: { id?: unknown; method?: string };
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const result = { content: [{ type: 'text', text: JSON.stringify(contact) }], structuredContent: contact };
    if (!turn.length) setImmediate(commitTurn);
    turn.push({ res, body: JSON.stringify({ jsonrpc: '2.0', id: msg.id ?? null, result }) });
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  announceReady({ url: `http://127.0.0.1:${port}/mcp`, headers: { ...MCP_HEADERS, authorization: `Bearer ${BENCH_TOKEN}` }, body: toolCallBody('get_contact', { id: BENCH_CONTACT_ID }) });
});

function stop(): void {
  server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
