// Coarse-to-fine optimisation: the size sequence, and that each scale starts from the previous
// scale's result upscaled (progress reports every scale's size; the run ends at --size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { scaleSizes, stylize } from '../src/transfer/stylize.js';
import { StyleloomError } from '../src/errors.js';
import type { ProgressEvent } from '../src/transfer/types.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';

test('scaleSizes: √2 steps by default, geometric from --min-size, single scale unchanged', () => {
  assert.deepEqual(scaleSizes(512, 1), [512]);
  assert.deepEqual(scaleSizes(512, 3), [256, 362, 512]);
  assert.deepEqual(scaleSizes(1024, 3, 256), [256, 512, 1024]);
  assert.deepEqual(scaleSizes(100, 2, 50), [50, 100]);
  assert.throws(() => scaleSizes(100, 2, 200), (e: unknown) => e instanceof StyleloomError && e.code === 'E_USAGE');
});

test('stylize with scales: each scale runs its iterations at growing sizes and continues from the last', async () => {
  const events: ProgressEvent[] = [];
  const r = await stylize(
    { content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 48, scales: 2, minSize: 24, scaleIters: [12, 3], optimizer: 'adam', lr: 20, threads: 1 },
    { onProgress: (e) => events.push(e) },
  );
  assert.deepEqual(r.sizes, [24, 48]);
  assert.equal(r.iters, 15);
  assert.equal(r.lossHistory.length, 15);
  assert.deepEqual(events.map((e) => e.scale), [...Array(12).fill(0), 1, 1, 1]);
  assert.deepEqual(events.map((e) => e.iter), Array.from({ length: 15 }, (_, k) => k + 1));
  assert.equal(events[0].width, 24);
  assert.equal(events[14].width, 48);
  assert.equal(r.image.width, 48);
  assert.equal(r.image.height, 32);
  // The second scale starts from the upscaled result, not from the content: its first loss is far
  // below what a fresh start at 48 px has (style loss dominates at the start).
  const fresh = await stylize({ content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 48, iters: 1, threads: 1 });
  assert.ok(r.lossHistory[12] < 0.8 * fresh.lossHistory[0], `scale 2 starts at ${r.lossHistory[12]}, fresh at ${fresh.lossHistory[0]}`);
});

test('--scale-iters must have one entry per scale', async () => {
  await assert.rejects(
    stylize({ content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 48, scales: 2, scaleIters: [5] }),
    (e: unknown) => e instanceof StyleloomError && e.code === 'E_USAGE' && /one count per scale/.test(e.message),
  );
});

test('L-BFGS with scales: each scale hands over, and the last returns, its best evaluated iterate', async () => {
  const base = { content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 32, scales: 2, threads: 1 };
  // 24 -> 32 px: the last update of the second scale overshoots (the 3rd-iteration spike of a fresh L-BFGS)
  const r = await stylize({ ...base, minSize: 24, scaleIters: [3, 5] });
  const last = r.lossHistory.slice(3);
  assert.ok(r.loss.total <= Math.min(...last), `result loss ${r.loss.total} vs the last scale's ${last.join(', ')}`);
  // Two scales of the same size, so that the second starts from the first's image itself (rounded to
  // 8 bits): the first scale's 5th update overshoots; the second must start from its best iterate.
  const same = await stylize({ ...base, minSize: 32, scaleIters: [5, 3] });
  const first = same.lossHistory.slice(0, 5);
  const start = same.lossHistory[5];
  assert.ok(start <= 1.05 * Math.min(...first), `the second scale starts at ${start}, the first scale's best is ${Math.min(...first)} (${first.join(', ')})`);
});
