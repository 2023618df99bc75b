import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lineDestination } from './log-destination.ts';

const turn = () => new Promise((r) => setImmediate(r));

test('a turn of lines is written together, after the turn, in order', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-logdest-'));
  try {
    const file = path.join(dir, 'log');
    const fd = openSync(file, 'a');
    const d = lineDestination(fd);
    d.write('a\n');
    d.write('b\n');
    assert.equal(readFileSync(file, 'utf8'), '', 'nothing is written inside the turn');
    await turn();
    await turn();
    assert.equal(readFileSync(file, 'utf8'), 'a\nb\n');
    d.write('c\n');
    d.flushSync();
    assert.equal(readFileSync(file, 'utf8'), 'a\nb\nc\n');
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A child that reads its stdin only after `delayMs`, then reports the lines it got; its stdin is a non-blocking socket. */
function slowReader(delayMs: number) {
  const child = spawn(process.execPath, ['-e', `setTimeout(() => { let s = ''; process.stdin.setEncoding('utf8'); process.stdin.on('data', (d) => (s += d)); process.stdin.on('end', () => process.stdout.write(JSON.stringify(s.split('\\n').filter(Boolean)))); }, ${delayMs});`], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const lines = new Promise<string[]>((resolve) => child.on('exit', () => resolve(JSON.parse(out || '[]') as string[])));
  const fd = (child.stdin as unknown as { _handle: { fd: number } })._handle.fd;
  return { child, fd, lines };
}

test('a reader that is not reading stalls nothing, and gets every line once it reads', async () => {
  const r = slowReader(600);
  const d = lineDestination(r.fd);
  const line = (i: number) => `{"i":${i},"pad":"${'x'.repeat(200)}"}\n`;
  const total = 5000; // about 1 MB: far more than a socket holds
  let worstTurnMs = 0;
  for (let i = 0; i < total; i += 100) {
    const t0 = performance.now();
    for (let j = i; j < i + 100; j++) d.write(line(j));
    await turn();
    worstTurnMs = Math.max(worstTurnMs, performance.now() - t0);
  }
  assert.ok(worstTurnMs < 200, `a turn took ${worstTurnMs.toFixed(0)} ms: the event loop waited for the reader`);
  // Let the reader start and drain what waits, then end its input.
  await new Promise((res) => setTimeout(res, 1500));
  d.flushSync();
  r.child.stdin.end();
  const got = await r.lines;
  assert.equal(got.length, total);
  assert.deepEqual(got.map((l) => (JSON.parse(l) as { i: number }).i), Array.from({ length: total }, (_, i) => i));
});

test('beyond the bound, lines are dropped and counted, and the count is logged', async () => {
  const r = slowReader(800);
  const d = lineDestination(r.fd, { maxPendingBytes: 64 * 1024 });
  const total = 4000;
  for (let i = 0; i < total; i++) {
    d.write(`{"i":${i},"pad":"${'y'.repeat(200)}"}\n`);
    if (i % 100 === 99) await turn();
  }
  await new Promise((res) => setTimeout(res, 1800));
  d.flushSync();
  r.child.stdin.end();
  const got = await r.lines;
  // One notice per stretch of drops: the counts add up.
  const notices = got.filter((l) => l.includes('log lines dropped'));
  assert.ok(notices.length, 'the drop is logged');
  const dropped = notices.reduce((n, l) => n + Number(/(\d+) log lines dropped/.exec(l)![1]), 0);
  const kept = got.filter((l) => l.startsWith('{"i":'));
  assert.ok(dropped > 0 && kept.length > 0);
  assert.equal(kept.length + dropped, total, 'every line is either written or counted');
});

test('a reader that is gone ends logging without an error', async () => {
  const r = slowReader(0);
  r.child.stdin.end();
  await r.lines;
  const d = lineDestination(r.fd);
  for (let i = 0; i < 10; i++) d.write('gone\n');
  await turn();
  await turn();
  assert.doesNotThrow(() => d.flushSync());
});
