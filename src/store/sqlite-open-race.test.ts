// Processes that open one new SQLite file at the same moment (several `tollgate serve` started together on a fresh
// data directory) all open it: the switch to WAL mode that one of them is making does not fail the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const storeModule = new URL('./store.ts', import.meta.url).href;

// Opens the store once the clock reaches `at`, so that the processes meet in the pragma; prints the journal mode.
const child = `
import { openStore } from ${JSON.stringify(storeModule)};
const [url, at] = [process.argv[1], Number(process.argv[2])];
while (Date.now() < at);
const store = await openStore(url);
const { rows } = await store.db.executeQuery({ sql: 'pragma journal_mode', parameters: [], query: { kind: 'RawNode' } });
console.log(rows[0].journal_mode);
await store.close();
`;

function open(url: string, at: number): Promise<string> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', child, url, String(at)], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve(err ? `failed: ${stderr.trim().split('\n').find((l) => /^\w*Error/.test(l)) ?? err.message}` : stdout.trim()),
    );
  });
}

test('two processes opening one new file at once both get it in WAL mode (six rounds)', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-open-race-'));
  try {
    for (let round = 0; round < 6; round++) {
      const url = `sqlite:${path.join(dir, `round-${round}.db`)}`;
      // Far enough ahead that both have loaded the module and wait in the loop.
      const at = Date.now() + 800;
      assert.deepEqual(await Promise.all([open(url, at), open(url, at)]), ['wal', 'wal'], `round ${round}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
