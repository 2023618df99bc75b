#!/usr/bin/env node
// Runs the Tollgate CLI. A published package carries compiled JavaScript (dist/, built by `npm pack`): Node never
// strips types under node_modules. A source checkout runs the TypeScript itself: natively on Node 22.18+, 23.6+
// and 24; with --experimental-strip-types on Node 22.13–22.17 and 23.4–23.5. Tollgate needs node:sqlite without a
// flag (Node 22.13+, 23.4+): on anything older this launcher runs itself again on the Node 24 that npm installs as
// the `node` package (an optional dependency), found the way Node finds any dependency — inside this package's own
// node_modules, or hoisted beside it (`npx`, a global install, `npm install <tarball>`). A re-run child gets every
// signal the parent gets and its exit status.
import { spawn } from 'node:child_process';
import module, { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const launcher = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(launcher), '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');
const source = path.join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const hasSqlite = major >= 24 || (major === 23 && minor >= 4) || (major === 22 && minor >= 13);
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
const REEXEC = 'TOLLGATE_LAUNCHER_NODE';

function rerun(node, args) {
  const child = spawn(node, [...args, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, [REEXEC]: node } });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  // Started through npm (`npx tollgate serve`): the shell npm runs us in need not pass a SIGTERM on. When our
  // parent is gone, stop the child as for SIGTERM rather than leave it holding the port.
  if (process.env.npm_lifecycle_event || process.env.npm_command) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) child.kill('SIGTERM');
    }, 250).unref();
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15) : 0)));
}

/** The `node` package's binary, resolved as Node resolves dependencies from this file; undefined when not installed. */
function pinnedNode() {
  try {
    const bin = path.join(path.dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

if (hasSqlite && existsSync(compiled)) {
  module.enableCompileCache?.();
  await (await import(compiled)).main();
} else if (hasSqlite && stripsTypes) {
  // Reuse compiled code across runs (in the OS temp dir): a CLI call starts in about half the time.
  module.enableCompileCache?.();
  await (await import(source)).main();
} else if (hasSqlite) {
  rerun(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', source]);
} else {
  const pinned = pinnedNode();
  // A re-run that still lands here (a broken `node` package) stops instead of starting itself again.
  if (!pinned || process.env[REEXEC] === process.execPath) {
    console.error(`tollgate needs Node.js 22.13 or newer (this is ${process.versions.node}); install the pinned Node 24 with \`npm install\` (the optional \`node\` dependency), or run a newer Node.`);
    process.exit(1);
  }
  rerun(pinned, [launcher]);
}
