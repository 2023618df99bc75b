// `npm run docs:config`: regenerates the configuration reference in README.md from src/config/defaults.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withConfigReference } from '../src/config/reference.ts';

const file = path.resolve(import.meta.dirname, '..', 'README.md');
const before = readFileSync(file, 'utf8');
const after = withConfigReference(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'README.md configuration reference is up to date.' : 'README.md configuration reference regenerated.');
