import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserCommand, splitCommand } from './browser.ts';
import { createProgress } from './progress.ts';

test('a browser is opened only with a display (or a chosen command); never over SSH without one', () => {
  assert.equal(browserCommand({}, 'linux'), undefined, 'headless Linux');
  assert.deepEqual(browserCommand({ DISPLAY: ':0' }, 'linux'), ['xdg-open']);
  assert.deepEqual(browserCommand({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), ['xdg-open']);
  assert.deepEqual(browserCommand({}, 'darwin'), ['open']);
  assert.equal(browserCommand({ SSH_CONNECTION: '1 2 3 4' }, 'darwin'), undefined);
  assert.equal(browserCommand({ TOLLGATE_BROWSER: 'none', DISPLAY: ':0' }, 'linux'), undefined);
  assert.deepEqual(browserCommand({ TOLLGATE_BROWSER: 'w3m -o "a b"' }, 'linux'), ['w3m', '-o', 'a b']);
  assert.deepEqual(splitCommand(`'/opt/my browser/bin' --new`), ['/opt/my browser/bin', '--new']);
});

test('progress: a spinner only on a terminal; notes always', () => {
  const written: string[] = [];
  const fake = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
  const quiet = createProgress(fake);
  quiet.step('Working');
  quiet.note('hello');
  quiet.stop();
  assert.deepEqual(written, ['hello\n']);
  written.length = 0;
  const tty = createProgress(fake, true);
  tty.step('Working');
  tty.stop();
  assert.ok(written.some((w) => w.includes('Working')));
  assert.equal(written.at(-1), '\r\x1b[2K', 'the spinner line is cleared');
});
