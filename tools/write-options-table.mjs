// Rewrites the option table in README.md from src/options/table.ts (run after `npm run build`:
// `npm run docs:options`). test/options-edges.test.ts fails while the README differs from it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withOptionsTable } from '../dist/src/options/docs.js';

const readme = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'README.md');
const before = fs.readFileSync(readme, 'utf8');
const after = withOptionsTable(before);
if (after !== before) fs.writeFileSync(readme, after);
process.stdout.write(after === before ? 'README.md: option table up to date\n' : 'README.md: option table rewritten\n');
