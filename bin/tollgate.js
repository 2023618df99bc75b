#!/usr/bin/env node
// Runs the Tollgate CLI. A published package carries compiled JavaScript (dist/, built by `npm pack`): Node never
// strips types under node_modules. A source checkout runs the TypeScript itself: natively on Node 22.18+, 23.6+
// and 24; with --experimental-strip-types on Node 22.6–22.17 and 23.0–23.5; on anything older, on the Node 24 that
// npm installs as an optional dependency. A re-run child gets every signal the parent gets and its exit status.
import { spawn } from 'node:child_process';
import module from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');
const source = path.join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
const stripsWithFlag = (major === 22 && minor >= 6) || (major === 23 && minor < 6);

function rerun(node, args) {
  const child = spawn(node, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15) : 0)));
}

if (existsSync(compiled) && major >= 22) {
  module.enableCompileCache?.();
  await (await import(compiled)).main();
} else if (stripsTypes) {
  // Reuse compiled code across runs (in the OS temp dir): a CLI call starts in about half the time.
  module.enableCompileCache?.();
  await (await import(source)).main();
} else if (stripsWithFlag) {
  rerun(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', source]);
} else {
  const pinned = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`tollgate needs Node.js 22.6 or newer (this is ${process.versions.node}); run \`npm install\` to get the pinned Node 24.`);
    process.exit(1);
  }
  rerun(pinned, [source]);
}
