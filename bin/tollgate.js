#!/usr/bin/env node
// Runs the TypeScript CLI on a Node that strips types itself (22.18+, 23.6+); on an older Node, re-runs it on
// the Node 24 that npm installed as a dev dependency.
import { spawn } from 'node:child_process';
import module from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const main = path.join(root, 'src', 'cli', 'main.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const stripsTypes = major >= 24 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);

if (stripsTypes) {
  // Reuse compiled code across runs (in the OS temp dir): a CLI call starts in about half the time.
  module.enableCompileCache?.();
  await (await import(main)).main();
} else {
  const pinned = path.join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`tollgate needs Node.js 22.18 or newer (this is ${process.versions.node}); run \`npm install\` to get the pinned Node.`);
    process.exit(1);
  }
  const child = spawn(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
