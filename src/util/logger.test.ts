// The default logger writes stdout asynchronously: no line may be lost when the process exits, however it exits
// (short of SIGKILL), and secrets are redacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

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
