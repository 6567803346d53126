// Masks tiled with the image (issue 17): with regions guiding the style loss and style regions guiding
// the targets, the tiled loss and gradient equal the untiled ones to float32 round-off, and
// stylize({ mask, tile }) gives the untiled result within 8-bit rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { buildLossGraph } from '../src/loss/gatys.js';
import type { MaskPlane } from '../src/loss/regions.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner, nodeRuntime } from '../src/runtime/session.js';
import { computeTargets } from '../src/transfer/targets.js';
import { TiledEvaluator } from '../src/transfer/tiled.js';
import { stylize } from '../src/transfer/stylize.js';
import { randn } from './helpers/rand.js';
import { ASSETS, VGG_PARTIAL, maxRelErr, relErr } from './helpers/fixtures.js';
import { leftHalf } from './helpers/masks.js';

/** A soft mask: a smooth ramp along x (from `a` to `b`) with a hole of zeros in one corner. */
function ramp(h: number, w: number, a: number, b: number): MaskPlane {
  const data = new Float32Array(h * w);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) data[i * w + j] = i < 6 && j < 9 ? 0 : a + ((b - a) * j) / (w - 1);
  return { data, width: w, height: h };
}

test('tiled loss and gradient with two regions and a style region equal the untiled ones (58x74, tiles of 16)', async () => {
  const weights = await loadVggWeights(VGG_PARTIAL);
  const [h, w] = [58, 74];
  const contentLayers = ['conv3_2'];
  const styleLayers = ['conv1_1', 'conv2_1', 'conv3_1'];
  const img = (seed: number, hh = h, ww = w) => ({ data: randn(3 * hh * ww, seed, 60), height: hh, width: ww });
  const content = img(1);
  const styles = [img(2, 50, 46), img(3)];
  const blend = [1, 1];
  const x = randn(3 * h * w, 4, 60);
  const regions = { masks: [ramp(h, w, 1, 0), ramp(h, w, 0, 1)], weights: [1, 0.5] };
  const guide = { styleRegions: [ramp(50, 46, 0.2, 1), null], groups: [[0], [1]] };
  const spec = { weights, contentLayers, styleLayers, contentWeight: 1, styleWeight: 100, tvWeight: 0.5, pool: 'max' as const, regions };
  const session = { threads: 1 };
  const targets = await computeTargets(weights, content, styles, blend, contentLayers, styleLayers, 'max', { ...session, runtime: nodeRuntime }, guide);
  const lg = buildLossGraph(spec, h, w);
  const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = { image: { data: x, dims: [1, 3, h, w] } };
  for (const [l, v] of lg.contentTargets) feeds[v.name] = { data: targets.content.get(l)!, dims: v.shape };
  for (const [k, v] of lg.styleTargets) feeds[v.name] = { data: targets.style.get(k)!, dims: v.shape };
  const runner = await createRunner(toOnnx(lg.graph), session);
  const ref = await runner.run(feeds);
  await runner.release();
  const ev = await TiledEvaluator.create({ ...spec, tile: 16, session }, content, styles, blend, guide);
  assert.ok(ev.tileCount >= 12, `${ev.tileCount} tiles`);
  const { loss, grad } = await ev.evaluate(x);
  await ev.release();
  for (const [k, name] of [['content', lg.terms.content], ['style', lg.terms.style], ['total', lg.total]] as const) {
    assert.ok(relErr(loss[k], ref[name!][0]) < 2e-5, `${k}: tiled ${loss[k]} vs untiled ${ref[name!][0]}`);
  }
  const err = maxRelErr(grad, ref[lg.grad]);
  assert.ok(err < 2e-5, `gradient max rel err ${err}`);
});

test('stylize({ mask, tile: 16 }) gives the untiled result within 8-bit rounding', async () => {
  const base = {
    content: path.join(ASSETS, 'images', 'chelsea.png'),
    styles: [path.join(ASSETS, 'images', 'starry_night.jpg')],
    mask: await leftHalf(),
    weights: VGG_PARTIAL, size: 48, iters: 3, optimizer: 'adam' as const, threads: 1,
  };
  const plain = await stylize({ ...base, tile: 0 });
  const tiled = await stylize({ ...base, tile: 16 });
  assert.ok(relErr(tiled.loss.total, plain.loss.total) < 1e-4, `${tiled.loss.total} vs ${plain.loss.total}`);
  let maxDiff = 0;
  for (let k = 0; k < plain.image.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(plain.image.data[k] - tiled.image.data[k]));
  assert.ok(maxDiff <= 1, `pixels differ by up to ${maxDiff}`);
});
