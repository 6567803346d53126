// The shape of the code base: no import cycles among the modules of src/ and web/src/ (type-only
// imports count too), no source file over 600 lines, and every source file opens with a comment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './helpers/fixtures.js';

const MAX_LINES = 600;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const FILES = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'web', 'src'))];
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]/g;
const DYNAMIC = /import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** The local modules a file imports (relative specifiers, .js mapped back to .ts). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs = [...text.matchAll(IMPORT), ...text.matchAll(DYNAMIC)].map((m) => m[1]);
  return specs.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts'))).filter((p) => fs.existsSync(p));
}

test('there are sources to check', () => {
  assert.ok(FILES.length > 50, `found ${FILES.length} files`);
});

test('no import cycles in src/ and web/src/', () => {
  const graph = new Map(FILES.map((f) => [f, importsOf(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 'open') cycles.push([...stack.slice(stack.indexOf(g)), g].map((p) => path.relative(ROOT, p)).join(' -> '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of FILES) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});

test('the cycle finder sees a cycle (two modules importing each other)', () => {
  const dir = fs.mkdtempSync(path.join(ROOT, 'dist', 'cycle-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = 1;\n");
    fs.writeFileSync(path.join(dir, 'b.ts'), "import type { a } from './a.js';\nexport const b = 2;\n");
    assert.deepEqual(importsOf(path.join(dir, 'a.ts')), [path.join(dir, 'b.ts')]);
    assert.deepEqual(importsOf(path.join(dir, 'b.ts')), [path.join(dir, 'a.ts')]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(`no source file over ${MAX_LINES} lines, each opening with a comment`, () => {
  const long: string[] = [];
  const bare: string[] = [];
  for (const f of FILES) {
    const text = fs.readFileSync(f, 'utf8');
    const lines = text.split('\n').length;
    if (lines > MAX_LINES) long.push(`${path.relative(ROOT, f)}: ${lines}`);
    if (!text.startsWith('//') && !text.startsWith('/*')) bare.push(path.relative(ROOT, f));
  }
  assert.deepEqual(long, [], 'files over the limit');
  assert.deepEqual(bare, [], 'files without an opening comment');
});
