// Tiling: the tiled loss and gradient equal the untiled ones to float32 round-off (Grams accumulated
// over all tiles, gradients per halo-extended tile summed), on real VGG weights at odd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { buildLossGraph } from '../src/loss/gatys.js';
import { haloFor } from '../src/loss/tiled.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner, nodeRuntime } from '../src/runtime/session.js';
import { computeTargets } from '../src/transfer/targets.js';
import { TiledEvaluator, planTiles } from '../src/transfer/tiled.js';
import { randn } from './helpers/rand.js';
import { VGG_PARTIAL, maxRelErr, relErr } from './helpers/fixtures.js';

test('planTiles: cores tile the image exactly, on the pooling alignment, with halos inside the image', () => {
  const tiles = planTiles(101, 77, 32, 20, 4);
  const cover = new Uint8Array(101 * 77);
  for (const t of tiles) {
    const cy0 = t.y0 + t.margins.top;
    const cy1 = t.y1 - t.margins.bottom;
    const cx0 = t.x0 + t.margins.left;
    const cx1 = t.x1 - t.margins.right;
    assert.equal(cy0 % 4, 0);
    assert.equal(cx0 % 4, 0);
    assert.ok(t.y0 >= 0 && t.x0 >= 0 && t.y1 <= 101 && t.x1 <= 77);
    assert.ok(t.margins.top === 20 || t.y0 === 0);
    for (let i = cy0; i < cy1; i++) for (let j = cx0; j < cx1; j++) cover[i * 77 + j]++;
  }
  assert.ok(cover.every((c) => c === 1), 'every pixel in exactly one core');
  assert.deepEqual(haloFor(['conv3_2', 'conv1_1']), { halo: 20, align: 4 });
});

for (const pool of ['max', 'avg'] as const) {
  test(`tiled loss and gradient equal the untiled ones (${pool} pool, 58x74, tiles of 16)`, async () => {
    const weights = await loadVggWeights(VGG_PARTIAL);
    const [h, w] = [58, 74];
    const contentLayers = ['conv3_2', 'conv2_1'];
    const styleLayers = ['conv1_1', 'conv2_1', 'conv3_1'];
    const img = (seed: number, hh = h, ww = w) => ({ data: randn(3 * hh * ww, seed, 60), height: hh, width: ww });
    const content = img(1);
    const styles = [img(2, 50, 46), img(3)];
    const blend = [0.75, 0.25];
    const x = randn(3 * h * w, 4, 60);
    const cw = 1;
    const sw = 100;
    const tw = 0.5;
    const styleLayerWeights = [1, 2, 1];
    const session = { threads: 2 };
    // untiled reference
    const targets = await computeTargets(weights, content, styles, blend, contentLayers, styleLayers, pool, { ...session, runtime: nodeRuntime });
    const lg = buildLossGraph({ weights, contentLayers, styleLayers, contentWeight: cw, styleWeight: sw, tvWeight: tw, pool, styleLayerWeights }, h, w);
    const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = { image: { data: x, dims: [1, 3, h, w] } };
    for (const [l, v] of lg.contentTargets) feeds[v.name] = { data: targets.content.get(l)!, dims: v.shape };
    for (const [l, v] of lg.styleTargets) feeds[v.name] = { data: targets.style.get(l)!, dims: v.shape };
    const runner = await createRunner(toOnnx(lg.graph), session);
    const ref = await runner.run(feeds);
    await runner.release();
    // tiled
    const ev = await TiledEvaluator.create(
      { weights, contentLayers, styleLayers, contentWeight: cw, styleWeight: sw, tvWeight: tw, pool, styleLayerWeights, tile: 16, session },
      content,
      styles,
      blend,
    );
    assert.ok(ev.tileCount >= 12, `${ev.tileCount} tiles`);
    const { loss, grad } = await ev.evaluate(x);
    await ev.release();
    for (const [k, name] of [['content', lg.terms.content], ['style', lg.terms.style], ['tv', lg.terms.tv], ['total', lg.total]] as const) {
      const r = ref[name!][0];
      assert.ok(relErr(loss[k], r) < 2e-5, `${k}: tiled ${loss[k]} vs untiled ${r}`);
    }
    const err = maxRelErr(grad, ref[lg.grad]);
    assert.ok(err < 2e-5, `gradient max rel err ${err}`);
  });
}

test('stylize({ tile }) gives the untiled result (within 8-bit rounding) and L-BFGS history shrinks for huge images', async () => {
  const { stylize, lbfgsHistoryFor } = await import('../src/transfer/stylize.js');
  const path = await import('node:path');
  const { ASSETS } = await import('./helpers/fixtures.js');
  const base = { content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 48, iters: 3, optimizer: 'adam' as const, threads: 1 };
  const plain = await stylize({ ...base, tile: 0 });
  const tiled = await stylize({ ...base, tile: 16 });
  assert.ok(relErr(tiled.loss.total, plain.loss.total) < 1e-4, `${tiled.loss.total} vs ${plain.loss.total}`);
  let maxDiff = 0;
  for (let k = 0; k < plain.image.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(plain.image.data[k] - tiled.image.data[k]));
  assert.ok(maxDiff <= 1, `pixels differ by up to ${maxDiff}`);
  assert.equal(lbfgsHistoryFor(3 * 341 * 512), 100);
  assert.equal(lbfgsHistoryFor(3 * 4096 * 2725), 14);
});
