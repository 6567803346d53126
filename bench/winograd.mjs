#!/usr/bin/env node
// Winograd against direct convolution, per VGG layer: one Conv + bias + ReLU at each layer's size, direct,
// F(2x2,3x3) and F(4x4,3x3), on onnxruntime-node and on onnxruntime-web's WebAssembly in headless chromium.
// Not part of `npm test`; it decides where the lowering is kept (src/runtime/web.ts WASM_LOWERING).
//
//   npm run build && node bench/winograd.mjs --size 256 --threads 2 [--reps 6]
//
// Prints a markdown table (best of --reps runs per cell, ms) and each lowering's max error relative to direct.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const DIST = path.join(ROOT, 'dist');
const { startStaticServer } = await import(path.join(DIST, 'test', 'helpers', 'static-server.js'));
const { launchChromium, BLANK_HTML } = await import(path.join(DIST, 'test', 'helpers', 'browser.js'));
const { Graph } = await import(path.join(DIST, 'src', 'graph', 'ir.js'));
const { toOnnx } = await import(path.join(DIST, 'src', 'graph', 'onnx-export.js'));
const ortNode = (await import('onnxruntime-node')).default;

const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const SIZE = opt('--size', 256);
const THREADS = opt('--threads', 2);
const REPS = opt('--reps', 6);

// VGG-19's 3x3 convolutions up to conv4_1 at a 3:2 image of long side SIZE: [name, C, K, H, W]
const h0 = Math.round((SIZE * 2) / 3);
const at = (p) => [Math.floor(h0 / 2 ** p), Math.floor(SIZE / 2 ** p)];
const LAYERS = [
  ['conv1_2', 64, 64, ...at(0)],
  ['conv2_1', 64, 128, ...at(1)],
  ['conv2_2', 128, 128, ...at(1)],
  ['conv3_1', 128, 256, ...at(2)],
  ['conv3_2', 256, 256, ...at(2)],
  ['conv4_1', 256, 512, ...at(3)],
];
const VARIANTS = [
  ['direct', {}],
  ['F(2,3)', { winograd: { minChannels: 1, tile: 2 } }],
  ['F(4,3)', { winograd: { minChannels: 1, tile: 4 } }],
  ['F(4,3) conv gather', { winograd: { minChannels: 1, tile: 4, gather: 'conv' } }],
  ['F(4,3) convT scatter', { winograd: { minChannels: 1, tile: 4, scatter: 'convT' } }],
  ['F(4,3) conv + convT', { winograd: { minChannels: 1, tile: 4, gather: 'conv', scatter: 'convT' } }],
];

function lcg(n, seed, scale) {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return a;
}

const models = LAYERS.map(([, C, K, H, W]) => {
  const g = new Graph();
  const x = g.input('x', [1, C, H, W]);
  g.output(g.relu(g.conv(x, g.constant('w', lcg(K * C * 9, 3, 0.2), [K, C, 3, 3]), g.constant('b', lcg(K, 5, 1), [K]), 1)));
  return VARIANTS.map(([, lowering]) => toOnnx(g, 'conv', lowering));
});

const maxErr = (a, ref) => {
  let num = 0;
  let den = 0;
  for (let j = 0; j < a.length; j++) {
    num = Math.max(num, Math.abs(a[j] - ref[j]));
    den = Math.max(den, Math.abs(ref[j]));
  }
  return num / den;
};

// onnxruntime-node
const nodeMs = [];
const errs = [];
for (let i = 0; i < LAYERS.length; i++) {
  const [, C, , H, W] = LAYERS[i];
  const feeds = { x: new ortNode.Tensor('float32', lcg(C * H * W, 7, 2), [1, C, H, W]) };
  const sessions = [];
  for (const m of models[i]) sessions.push(await ortNode.InferenceSession.create(m, { intraOpNumThreads: THREADS, interOpNumThreads: 1, logSeverityLevel: 3 }));
  const ys = [];
  for (const s of sessions) ys.push(Object.values(await s.run(feeds))[0].data);
  errs.push(ys.slice(1).map((y) => maxErr(y, ys[0])));
  const best = sessions.map(() => Infinity);
  for (let r = 0; r < REPS; r++)
    for (let k = 0; k < sessions.length; k++) {
      const t0 = performance.now();
      await sessions[k].run(feeds);
      best[k] = Math.min(best[k], performance.now() - t0);
    }
  nodeMs.push(best);
  for (const s of sessions) await s.release();
  console.error(LAYERS[i][0], 'node', best.map((v) => v.toFixed(1)).join(' '));
}

// onnxruntime-web, WebAssembly, THREADS threads (cross-origin isolated page)
const mounts = { '/blank.html': { bytes: BLANK_HTML, type: 'text/html' }, '/favicon.ico': { bytes: new Uint8Array(0) }, '/ort': path.join(ROOT, 'node_modules', 'onnxruntime-web', 'dist') };
models.forEach((ms, i) => ms.forEach((m, k) => (mounts[`/m${i}_${k}.onnx`] = { bytes: m })));
const srv = await startStaticServer(mounts, { isolate: true });
const browser = await launchChromium();
let wasmMs;
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${srv.url}/blank.html`);
  wasmMs = await page.evaluate(
    async ([layers, nVariants, threads, reps]) => {
      const ort = await import('/ort/ort.wasm.min.mjs');
      ort.env.wasm.numThreads = threads;
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.logLevel = 'fatal';
      const out = [];
      for (let i = 0; i < layers.length; i++) {
        const [, C, , H, W] = layers[i];
        const x = new Float32Array(C * H * W).map((_, j) => Math.sin(j));
        const sessions = [];
        for (let k = 0; k < nVariants; k++) sessions.push(await ort.InferenceSession.create(`/m${i}_${k}.onnx`, { executionProviders: ['wasm'] }));
        const best = sessions.map(() => Infinity);
        for (let r = 0; r < reps; r++)
          for (let k = 0; k < nVariants; k++) {
            const t0 = performance.now();
            await sessions[k].run({ x: new ort.Tensor('float32', x, [1, C, H, W]) });
            if (r > 0) best[k] = Math.min(best[k], performance.now() - t0);
          }
        for (const s of sessions) await s.release();
        out.push(best);
      }
      return out;
    },
    [LAYERS, VARIANTS.length, THREADS, REPS],
  );
} finally {
  await browser.close();
  await srv.close();
}

const cell = (ms, k) => (k === 0 ? ms[0].toFixed(1) : `${ms[k].toFixed(1)} (${(ms[0] / ms[k]).toFixed(2)}x)`);
const names = VARIANTS.map(([n]) => n);
console.log(`| layer (C→K, H×W), ${THREADS} threads | ${names.map((n) => `node ${n}`).join(' | ')} | ${names.map((n) => `wasm ${n}`).join(' | ')} | max rel err ${names.slice(1).join(' / ')} |`);
console.log(`|---|${names.map(() => '---|').join('')}${names.map(() => '---|').join('')}---|`);
LAYERS.forEach(([name, C, K, H, W], i) => {
  const n = nodeMs[i];
  const w = wasmMs[i];
  console.log(`| ${name} (${C}→${K}, ${H}×${W}) | ${names.map((_, k) => cell(n, k)).join(' | ')} | ${names.map((_, k) => cell(w, k)).join(' | ')} | ${errs[i].map((e) => e.toExponential(1)).join(' / ')} |`);
});
