// The browser bundle's import graph: everything src/browser/index.ts pulls in imports nothing node-only
// (no node built-ins, sharp, onnxruntime-node, fs readers), the graph, loss and optimiser folders and
// the model layout are browser-safe as a whole, and dist/browser holds the ESM bundle with onnxruntime-web's files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { ROOT } from './helpers/fixtures.js';
import { BROWSER_DIST, BUNDLE, ensureBundle } from './helpers/browser.js';

const SRC = path.join(ROOT, 'src');
/** The only packages browser code may import. */
const BROWSER_PACKAGES = new Set(['onnxruntime-web', 'onnx-proto']);
const SPEC = /(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiers(file: string): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(SPEC)].map((m) => m[1] ?? m[2]);
}

const local = (file: string, spec: string) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));

/** Every local module reachable from `entry`, and the bare specifiers each imports. */
function closure(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    const specs = specifiers(f);
    seen.set(f, specs.filter((s) => !s.startsWith('.')));
    for (const s of specs) if (s.startsWith('.')) visit(local(f, s));
  };
  visit(entry);
  return seen;
}

const isNodeOnly = (spec: string) => spec.startsWith('node:') || builtinModules.includes(spec) || !BROWSER_PACKAGES.has(spec.split('/')[0]);

const rel = (f: string) => path.relative(ROOT, f);

test('the browser entry pulls in no node-only module', () => {
  const mods = closure(path.join(SRC, 'browser', 'index.ts'));
  const bad = [...mods].flatMap(([f, bare]) => bare.filter(isNodeOnly).map((s) => `${rel(f)} imports ${s}`));
  assert.deepEqual(bad, []);
  const names = [...mods.keys()].map(rel);
  for (const m of ['src/loss/gatys.ts', 'src/graph/autodiff.ts', 'src/graph/onnx-export.ts', 'src/optim/adam.ts', 'src/optim/lbfgs.ts', 'src/model/vgg19.ts', 'src/options/validate.ts', 'src/transfer/targets.ts', 'src/runtime/web.ts']) {
    assert.ok(names.includes(m), `the bundle uses ${m} (shared with node, not a copy)`);
  }
});

test('graph, loss, optimiser and the model layout are browser-safe throughout', () => {
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  // the model folder's file readers and downloader are node's by design (the browser fetches instead)
  const NODE_FILE_READERS = new Set(['safetensors.ts', 'vgg19-file.ts', 'weights.ts', 'download.ts']);
  const checked = [...files(path.join(SRC, 'graph')), ...files(path.join(SRC, 'loss')), ...files(path.join(SRC, 'optim')), ...files(path.join(SRC, 'model')).filter((f) => !NODE_FILE_READERS.has(path.basename(f)))];
  const bad: string[] = [];
  for (const f of checked) {
    for (const [g, bare] of closure(f)) for (const s of bare.filter(isNodeOnly)) bad.push(`${rel(f)} -> ${rel(g)} imports ${s}`);
  }
  assert.deepEqual([...new Set(bad)], []);
});

test('the check sees a node import', () => {
  assert.ok(isNodeOnly('node:fs') && isNodeOnly('fs') && isNodeOnly('sharp') && isNodeOnly('onnxruntime-node'));
  assert.ok(!isNodeOnly('onnxruntime-web') && !isNodeOnly('onnx-proto'));
  const readers = closure(path.join(SRC, 'model', 'vgg19-file.ts'));
  assert.ok([...readers.values()].flat().includes('node:fs/promises'), 'vgg19-file.ts reaches node:fs/promises');
});

test('dist/browser: the ESM bundle and onnxruntime-web\'s WebAssembly files beside it', () => {
  ensureBundle();
  const text = fs.readFileSync(BUNDLE, 'utf8');
  assert.match(text, /export\s*\{[^}]*\bstylize\b/, 'an ES module exporting stylize');
  assert.doesNotMatch(text, /(?:from|import)\s*["'](?:node:|fs["']|sharp|onnxruntime-node)/, 'no static import of node modules');
  for (const f of ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm']) {
    assert.ok(fs.existsSync(path.join(BROWSER_DIST, f)), `${f} is beside the bundle`);
  }
});
