// `npm run build` (run by `npm pack`): the files beside the compiled code that are not TypeScript (the web UI's
// static assets) are copied into dist/ where the compiled modules look for them.
import { copyFileSync, globSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
for (const file of globSync('src/**/*', { cwd: root })) {
  const from = path.join(root, file);
  if (file.endsWith('.ts') || !statSync(from).isFile()) continue;
  const to = path.join(root, 'dist', path.relative('src', file));
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
}
