#!/usr/bin/env node
// L-BFGS's own time per step with a full history, the two-loop recursion in JavaScript (Lbfgs) against the
// compact form on onnxruntime (LbfgsCompact), next to one evaluation of the loss graph at the same size
// (Adam's ms/iter on the bench images, whose own step is a few ms). Not part of `npm test`.
//
//   npm run build && node bench/lbfgs.mjs [--sizes 128,256,512,1024] [--history 100] [--steps 5] [--threads 2]
//                                         [--run-size 512] [--run-iters 110]
//
// The optimiser steps are timed on a diagonal quadratic of the image's size (its gradient costs one pass),
// after history + 2 steps have filled the history; the median of --steps steps is reported. Then a real
// run at --run-size: ms per iteration of L-BFGS (node's choice of direction) over its last 10 iterations,
// when the history is full, against Adam's, the difference being the optimiser's time in place.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.resolve(HERE, '..', 'dist', 'src');
const SHARED = path.resolve(HERE, '..', '..', 'shared');
const { Lbfgs, LbfgsCompact, createPairProducts } = await import(path.join(DIST, 'optim', 'index.js'));
const { nodeRuntime } = await import(path.join(DIST, 'runtime', 'session.js'));
const { COMPACT_LBFGS_MIN } = await import(path.join(DIST, 'transfer', 'node-optimizer.js'));
const { stylize } = await import(path.join(DIST, 'index.js'));
const { readImage, resizeLongSide } = await import(path.join(DIST, 'image', 'io.js'));

const argv = process.argv.slice(2);
const opt = (k, d) => {
  const i = argv.indexOf(k);
  return i >= 0 ? argv[i + 1] : d;
};
const SIZES = opt('--sizes', '128,256,512,1024').split(',').map(Number);
const HISTORY = Number(opt('--history', '100'));
const STEPS = Number(opt('--steps', '5'));
const THREADS = Number(opt('--threads', '2'));
const RUN_SIZE = Number(opt('--run-size', '512'));
const RUN_ITERS = Number(opt('--run-iters', '110'));
const WEIGHTS = path.join(SHARED, 'assets', 'models', 'vgg19-conv1_1-conv3_4.safetensors');
const IMAGES = path.join(SHARED, 'assets', 'images');

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Median ms of opt.step over STEPS steps once the history is full. */
async function stepMs(opt, n) {
  const a = new Float32Array(n).map((_, i) => 1 + (i % 97));
  const x = new Float32Array(n).map((_, i) => Math.sin(i));
  const g = new Float32Array(n);
  const times = [];
  for (let k = 0; k < HISTORY + 2 + STEPS; k++) {
    let f = 0;
    for (let i = 0; i < n; i++) {
      g[i] = a[i] * x[i];
      f += 0.5 * g[i] * x[i];
    }
    const t0 = performance.now();
    await opt.step(x, f, g);
    if (k >= HISTORY + 2) times.push(performance.now() - t0);
  }
  return median(times);
}

const chelsea = await readImage(path.join(IMAGES, 'chelsea.png'));
const starry = await readImage(path.join(IMAGES, 'starry_night.jpg'));
const rows = [];
for (const size of SIZES) {
  const content = await resizeLongSide(chelsea, size);
  const n = 3 * content.width * content.height;
  const ev = await stylize({ content, styles: [await resizeLongSide(starry, size)], size, iters: 6, optimizer: 'adam', weights: WEIGHTS, threads: THREADS });
  const js = await stepMs(new Lbfgs({ historySize: HISTORY }), n);
  const products = await createPairProducts(nodeRuntime, THREADS);
  const compact = await stepMs(new LbfgsCompact(products, { historySize: HISTORY }), n);
  await products.release();
  const row = { size: `${content.width}x${content.height}`, n, evalMs: ev.msPerIter, jsMs: js, compactMs: compact };
  console.error(row);
  rows.push(row);
}

const pct = (ms, ev) => `${((100 * ms) / ev).toFixed(1)}%`;
console.log(`| size | unknowns | one evaluation (ms) | two-loop, JS (ms) | compact, onnxruntime (ms) | two-loop / compact |`);
console.log(`|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(`| ${r.size} | ${r.n} | ${r.evalMs.toFixed(0)} | ${r.jsMs.toFixed(1)} (${pct(r.jsMs, r.evalMs)}) | ${r.compactMs.toFixed(1)} (${pct(r.compactMs, r.evalMs)}) | ${(r.jsMs / r.compactMs).toFixed(2)} |`);
}
if (RUN_SIZE > 0) {
  const content = await resizeLongSide(chelsea, RUN_SIZE);
  const styles = [await resizeLongSide(starry, RUN_SIZE)];
  const lastTen = async (optimizer, iters) => {
    const ms = [];
    await stylize({ content, styles, size: RUN_SIZE, iters, optimizer, weights: WEIGHTS, threads: THREADS }, { onProgress: (p) => ms.push(p.ms) });
    return median(ms.slice(-10));
  };
  const adam = await lastTen('adam', 14);
  const lbfgs = await lastTen('lbfgs', RUN_ITERS);
  console.log(`\nA real run at ${content.width}x${content.height}, ${THREADS} threads (median of the last 10 iterations): Adam ${adam.toFixed(0)} ms/iter, L-BFGS ${lbfgs.toFixed(0)} ms/iter after ${RUN_ITERS} iterations; L-BFGS's extra ${(lbfgs - adam).toFixed(0)} ms (${pct(lbfgs - adam, adam)} of Adam's iteration)`);
}
console.log(`\nhistory ${HISTORY} pairs, ${THREADS} threads, median of ${STEPS} steps; node takes the compact form from ${COMPACT_LBFGS_MIN} unknowns`);
