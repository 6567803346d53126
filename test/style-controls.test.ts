// Style controls: per-layer style weights (against the fixture's per-layer values), style scale,
// noise ratio of the init, and the averaged iterate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { buildLossGraph } from '../src/loss/gatys.js';
import { evaluate } from '../src/graph/reference.js';
import { stylize } from '../src/transfer/stylize.js';
import { StyleloomError } from '../src/errors.js';
import { ASSETS, VGG_PARTIAL, loadFixture, relErr } from './helpers/fixtures.js';

test('style layer weights: [1,0,0] leaves only conv1_1, equal weights reproduce the default', async () => {
  const fx = loadFixture('tiny');
  const weights = await loadVggWeights(path.join(fx.dir, 'weights.safetensors'));
  const { content, style } = fx.index.layers;
  const feeds: Record<string, Float32Array> = { image: fx.array('image').data };
  for (const l of content) feeds[`content_target_${l}`] = fx.array(`max/content_target_${l}`).data;
  for (const l of style) feeds[`style_target_${l}`] = fx.array(`max/style_target_gram_${l}`).data;
  const styleLoss = (styleLayerWeights?: number[]) => {
    const lg = buildLossGraph({ weights, contentLayers: content, styleLayers: style, contentWeight: 1, styleWeight: 0.1, tvWeight: 0.5, pool: 'max', styleLayerWeights }, 12, 16);
    const v = lg.graph.outputs.find((o) => o.name === lg.terms.style)!;
    return evaluate(lg.graph, feeds, [v])[0][0];
  };
  const perLayer = fx.index.variants.max.per_layer_unweighted_mse.style;
  assert.ok(relErr(styleLoss(), fx.index.variants.max.loss.style) < 1e-7);
  assert.ok(relErr(styleLoss([2, 2, 2]), fx.index.variants.max.loss.style) < 1e-7);
  assert.ok(relErr(styleLoss([1, 0, 0]), 0.1 * perLayer.conv1_1) < 1e-7);
  assert.ok(relErr(styleLoss([0, 1, 3]), 0.1 * (0.25 * perLayer.conv1_2 + 0.75 * perLayer.conv2_1)) < 1e-7);
});

const base = { content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 32, threads: 1 };

test('noise ratio: 0 is the content init, 1 is pure noise', async () => {
  const fromContent = await stylize({ ...base, iters: 2 });
  const ratio0 = await stylize({ ...base, iters: 2, init: 'noise', noiseRatio: 0 });
  assert.deepEqual(ratio0.image.data, fromContent.image.data);
  const noise = await stylize({ ...base, iters: 2, init: 'noise' });
  const ratio1 = await stylize({ ...base, iters: 2, init: 'noise', noiseRatio: 1 });
  assert.deepEqual(ratio1.image.data, noise.image.data);
  const half = await stylize({ ...base, iters: 2, init: 'noise', noiseRatio: 0.5 });
  assert.notDeepEqual(half.image.data, noise.image.data);
  assert.notDeepEqual(half.image.data, fromContent.image.data);
});

test('ema: the average of one iterate is that iterate; over several it differs and is re-scored', async () => {
  const one = await stylize({ ...base, iters: 1, optimizer: 'adam' });
  const oneEma = await stylize({ ...base, iters: 1, optimizer: 'adam', ema: 0.9 });
  assert.deepEqual(oneEma.image.data, one.image.data);
  const many = await stylize({ ...base, iters: 6, optimizer: 'adam' });
  const manyEma = await stylize({ ...base, iters: 6, optimizer: 'adam', ema: 0.9 });
  assert.notDeepEqual(manyEma.image.data, many.image.data);
  assert.notEqual(manyEma.loss.total, many.loss.total);
});

test('style scale changes the style statistics; bad values are usage errors', async () => {
  const a = await stylize({ ...base, iters: 1 });
  const b = await stylize({ ...base, iters: 1, styleScale: 0.5 });
  assert.notEqual(a.lossHistory[0], b.lossHistory[0]);
  const usage = (e: unknown) => e instanceof StyleloomError && e.code === 'E_USAGE';
  await assert.rejects(stylize({ ...base, styleScale: 0 }), usage);
  await assert.rejects(stylize({ ...base, noiseRatio: 2 }), usage);
  await assert.rejects(stylize({ ...base, ema: 1 }), usage);
  await assert.rejects(stylize({ ...base, styleLayerWeights: [1, 1] }), (e: unknown) => usage(e) && /one per layer/.test((e as Error).message));
});
