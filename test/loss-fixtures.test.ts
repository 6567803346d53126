// The full Gatys loss graph (forward + explicit backward) against PyTorch's golden values in
// ../shared/fixtures: tiny random net (float64 reference and onnxruntime) and real VGG (onnxruntime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { buildLossGraph, buildTargetGraph } from '../src/loss/gatys.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner } from '../src/runtime/session.js';
import { loadFixture, maxRelErr, relErr, type Fixture } from './helpers/fixtures.js';
import type { PoolKind } from '../src/transfer/types.js';

const TOL = 5e-6; // the fixtures README's recommended float32 tolerance

async function setup(fx: Fixture, pool: PoolKind) {
  const weightsFile = path.resolve(fx.dir, fx.index.weights.file);
  const weights = await loadVggWeights(weightsFile);
  const { content, style } = fx.index.layers;
  const lw = fx.index.loss_weights;
  const img = fx.array('image');
  const [, , h, w] = img.shape;
  const lg = buildLossGraph(
    { weights, contentLayers: content, styleLayers: style, contentWeight: lw.content, styleWeight: lw.style, tvWeight: lw.tv, pool },
    h,
    w,
  );
  return { lg, img, h, w, weights, content, style };
}

/** Feeds from the fixture's stored targets (so the loss graph is tested on its own). */
function storedFeeds(fx: Fixture, pool: PoolKind, content: string[], style: string[]) {
  const feeds: Record<string, Float32Array> = {};
  for (const l of content) feeds[`content_target_${l}`] = fx.array(`${pool}/content_target_${l}`).data;
  for (const l of style) feeds[`style_target_${l}`] = fx.array(`${pool}/style_target_gram_${l}`).data;
  return feeds;
}

function checkLosses(got: Record<string, number>, expected: Record<string, number>, tol: number) {
  for (const k of ['content', 'style', 'tv', 'total']) {
    assert.ok(relErr(got[k], expected[k]) <= tol, `${k}: ${got[k]} vs ${expected[k]} (rel ${relErr(got[k], expected[k])})`);
  }
}

for (const pool of ['max', 'avg'] as const) {
  test(`tiny/${pool}: float64 reference evaluator reproduces PyTorch's loss and gradient to 1e-7`, async () => {
    const fx = loadFixture('tiny');
    const { lg, img, content, style } = await setup(fx, pool);
    const g = lg.graph;
    const out = (n: string) => g.outputs.find((v) => v.name === n)!;
    const feeds = { image: img.data, ...storedFeeds(fx, pool, content, style) };
    const names = [lg.terms.content!, lg.terms.style!, lg.terms.tv!, lg.total, lg.grad];
    const [c, s, t, tot, grad] = evaluate(g, feeds, names.map(out));
    checkLosses({ content: c[0], style: s[0], tv: t[0], total: tot[0] }, fx.index.variants[pool].loss, 1e-7); // stored float32 targets add <= 6e-8 (fixtures README)
    assert.ok(maxRelErr(grad, fx.array(`${pool}/grad_total`).data) < 1e-6);
  });

  for (const name of ['tiny', 'vgg'] as const) {
    test(`${name}/${pool}: onnxruntime targets, losses and gradient match PyTorch within ${TOL}`, async () => {
      const fx = loadFixture(name);
      const { lg, img, h, w, weights, content, style } = await setup(fx, pool);
      // Targets computed by our own target graph from the stored content/style images.
      const tg = buildTargetGraph(weights, h, w, content, style, pool);
      const tr = await createRunner(toOnnx(tg), { threads: 2 });
      const contentOut = await tr.run({ image: { data: fx.array('content').data, dims: [1, 3, h, w] } });
      for (const l of content) {
        assert.ok(maxRelErr(contentOut[`content_${l}`], fx.array(`${pool}/content_target_${l}`).data) < TOL, `content target ${l}`);
      }
      const styleNames: string[] = fx.index.style_images;
      const blend: number[] = fx.index.style_blend;
      const bsum = blend.reduce((a, b) => a + b, 0);
      const styleTargets: Record<string, Float32Array> = {};
      for (let k = 0; k < styleNames.length; k++) {
        const s = fx.array(styleNames[k]);
        const sg = buildTargetGraph(weights, s.shape[2], s.shape[3], [], style, pool);
        const sr = await createRunner(toOnnx(sg), { threads: 2 });
        const so = await sr.run({ image: { data: s.data, dims: s.shape } });
        await sr.release();
        for (const l of style) {
          const acc = (styleTargets[`style_target_${l}`] ??= new Float32Array(so[`gram_${l}`].length));
          so[`gram_${l}`].forEach((v, i) => (acc[i] += (blend[k] / bsum) * v));
        }
      }
      for (const l of style) {
        assert.ok(maxRelErr(styleTargets[`style_target_${l}`], fx.array(`${pool}/style_target_gram_${l}`).data) < TOL, `style target ${l}`);
      }
      await tr.release();
      const runner = await createRunner(toOnnx(lg.graph), { threads: 2 });
      const feeds: Record<string, { data: Float32Array; dims: number[] }> = { image: { data: img.data, dims: img.shape } };
      for (const l of content) feeds[`content_target_${l}`] = { data: contentOut[`content_${l}`], dims: lg.contentTargets.get(l)!.shape as number[] };
      for (const l of style) feeds[`style_target_${l}`] = { data: styleTargets[`style_target_${l}`], dims: lg.styleTargets.get(l)!.shape as number[] };
      const o = await runner.run(feeds);
      await runner.release();
      checkLosses({ content: o[lg.terms.content!][0], style: o[lg.terms.style!][0], tv: o[lg.terms.tv!][0], total: o[lg.total][0] }, fx.index.variants[pool].loss, TOL);
      const gerr = maxRelErr(o[lg.grad], fx.array(`${pool}/grad_total`).data);
      assert.ok(gerr < TOL, `grad_total max rel err ${gerr}`);
    });
  }
}
