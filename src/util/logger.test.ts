// The default logger writes stdout asynchronously and in batches: no line may be lost when the process exits, however
// it exits (short of SIGKILL), a line on a quiet server is not held back, and secrets are redacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { LOG_FLUSH_MS } from './logger.ts';

const logger = new URL('./logger.ts', import.meta.url).href;

function runChild(ending: string): { lines: Record<string, unknown>[]; status: number | null } {
  const script = `
    import { createLogger } from ${JSON.stringify(logger)};
    const log = createLogger('info');
    for (let i = 0; i < 5000; i++) log.info({ i, authorization: 'Bearer secret-token' }, 'line');
    ${ending}
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { lines: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), status: r.status };
}

test('on a quiet server a line gathered for a batch still goes out within the flush interval', async () => {
  // One short line, far from a batch's 8 KB, then the process idles: the periodic flush must write it.
  const script = `
    import { createLogger } from ${JSON.stringify(logger)};
    createLogger('info').info({ n: 1 }, 'alone');
    setTimeout(() => {}, 5000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const started = Date.now();
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out);
      });
      child.once('exit', () => reject(new Error(`exited first: ${out}`)));
    });
    assert.equal(JSON.parse(line).msg, 'alone');
    // Module loading comes first; the line then waits at most LOG_FLUSH_MS (with a margin for a busy machine).
    assert.ok(Date.now() - started < 3000 + LOG_FLUSH_MS, `${Date.now() - started} ms`);
  } finally {
    child.kill();
  }
});

for (const [how, ending, status] of [
  ['returns', '', 0],
  ['calls process.exit', 'process.exit(3);', 3],
  ['throws an uncaught error', "throw new Error('boom');", 1],
] as const) {
  test(`every line reaches stdout when the process ${how}`, () => {
    const r = runChild(ending);
    assert.equal(r.status, status);
    assert.deepEqual(r.lines.map((l) => l.i), Array.from({ length: 5000 }, (_, i) => i));
    assert.ok(r.lines.every((l) => l.authorization === '[redacted]' && l.level === 'info' && typeof l.time === 'string'));
  });
}

test("infoLineWriter writes the bytes pino's info() writes, bindings included, and honours the level", async () => {
  const { createLogger, infoLineWriter } = await import('./logger.ts');
  const lines: string[] = [];
  const sinkStream = { write: (s: string) => lines.push(s) };
  const root = createLogger('info', sinkStream);
  for (const logger of [root, root.child({ module: 'mcp' })]) {
    lines.length = 0;
    const fields = { requestId: 'r-1', method: 'POST', path: '/acme/mcp', status: 200, ms: 3, workspace: undefined, tool: 'get "contact"\n' };
    logger.info(fields, 'request');
    infoLineWriter<typeof fields>(logger, 'request')(fields);
    assert.equal(lines.length, 2);
    // Same bytes but for the time, which may have ticked over between the two.
    const untimed = lines.map((l) => l.replace(/"time":"[^"]+"/, '"time":"T"'));
    assert.equal(untimed[1], untimed[0]);
    assert.deepEqual(JSON.parse(lines[1]).tool, fields.tool);
  }
  lines.length = 0;
  root.level = 'warn';
  infoLineWriter<{ a: number }>(root, 'request')({ a: 1 });
  assert.equal(lines.length, 0, 'nothing below the level');
});

test('infoLineWriter goes through pino for a logger createLogger did not make', async () => {
  const { infoLineWriter } = await import('./logger.ts');
  const { default: pino } = await import('pino');
  const lines: string[] = [];
  const plain = pino({ base: { pid: 1 } }, { write: (s: string) => lines.push(s) });
  infoLineWriter<{ a: number }>(plain, 'hello')({ a: 1 });
  assert.equal(lines.length, 1);
  assert.deepEqual({ ...JSON.parse(lines[0]), time: 0 }, { level: 30, time: 0, pid: 1, a: 1, msg: 'hello' });
});
