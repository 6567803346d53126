// Winograd F(2x2,3x3) and F(4x4,3x3) lowering of 3x3 convolutions (ops/winograd.ts): small convolutions
// against the float64 reference, and the whole VGG loss and gradient against the direct convolution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { Graph, numel } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import type { OnnxLowering } from '../src/graph/ops/index.js';
import { createRunner } from '../src/runtime/session.js';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { buildLossGraph } from '../src/loss/gatys.js';
import { randn } from './helpers/rand.js';
import { loadFixture, maxRelErr } from './helpers/fixtures.js';

const opTypes = (model: Uint8Array) => onnxProto.onnx.ModelProto.decode(model).graph!.node!.map((n) => n.opType!);
/** Conv nodes that are not the grouped ones of a 'conv' gather (those have group = input channels > 1). */
const plainConvs = (model: Uint8Array) =>
  onnxProto.onnx.ModelProto.decode(model).graph!.node!.filter((n) => n.opType === 'Conv' && !(n.attribute ?? []).some((a) => a.name === 'group' && Number(a.i) > 1)).length;

type Wino = NonNullable<OnnxLowering['winograd']>;
/** Each tile with the slice gather and MatMul scatter, and with the grouped Conv / ConvTranspose ones (the web runtime's). */
const VARIANTS: Omit<Wino, 'minChannels'>[] = [
  { tile: 2 },
  { tile: 4 },
  { tile: 2, gather: 'conv', scatter: 'convT' },
  { tile: 4, gather: 'conv' },
  { tile: 4, gather: 'conv', scatter: 'convT' },
];
const label = (v: Omit<Wino, 'minChannels'>) => `F(${v.tile}x${v.tile},3x3)${v.gather ? ` ${v.gather} gather` : ''}${v.scatter ? ` ${v.scatter} scatter` : ''}`;
const initializerNames = (model: Uint8Array) => onnxProto.onnx.ModelProto.decode(model).graph!.initializer!.map((t) => t.name!);

async function runOrt(model: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
  const runner = await createRunner(model, { threads: 1 });
  try {
    return await runner.run(feeds);
  } finally {
    await runner.release();
  }
}

// [input shape, output channels, pad, bias]: odd and even sizes, sizes that are not whole tiles, pad 0 (whose
// data gradient is a pad-2 conv), with and without bias
const CASES: [number[], number, number, boolean][] = [
  [[1, 8, 9, 7], 6, 1, true],
  [[1, 5, 8, 8], 7, 1, false],
  [[1, 6, 11, 6], 4, 0, true],
  [[1, 4, 4, 5], 3, 1, true],
];

for (const variant of VARIANTS) {
  for (const [shape, k, pad, bias] of CASES) {
    test(`Winograd ${label(variant)}: conv [${shape}] -> ${k}, pad ${pad}${bias ? ', bias' : ''}: loss and data gradient as the reference`, async () => {
      const g = new Graph();
      const x = g.input('x', shape);
      const w = g.constant('w', randn(k * shape[1] * 9, 3, 0.4), [k, shape[1], 3, 3]);
      const b = bias ? g.constant('b', randn(k, 4, 0.5), [k]) : null;
      const y = g.relu(g.conv(x, w, b, pad));
      const loss = g.mse(y, g.constant('t', randn(numel(y.shape), 5, 1), y.shape));
      const [gx] = gradients(g, loss, [x]);
      g.output(loss);
      g.output(gx);
      const feeds = { x: randn(numel(shape), 1, 2) };
      const lowering: OnnxLowering = { winograd: { minChannels: 1, ...variant } };
      const model = toOnnx(g, 'wino', lowering);
      assert.equal(plainConvs(model), 0, 'both the conv and its data gradient are lowered');
      if (variant.scatter === 'convT') assert.ok(opTypes(model).includes('ConvTranspose'));
      assert.ok(!initializerNames(model).includes('w'), 'the replaced weight is not written');

      const [refLoss, refGrad] = evaluate(g, feeds, [loss, gx]);
      const out = await runOrt(model, { x: { data: feeds.x, dims: shape } });
      const lerr = Math.abs(out[loss.name][0] - refLoss[0]) / Math.abs(refLoss[0]);
      assert.ok(lerr < 1e-5, `loss ${out[loss.name][0]} vs ${refLoss[0]} (rel ${lerr})`);
      const gerr = maxRelErr(out[gx.name], refGrad);
      assert.ok(gerr < 1e-5, `gradient: max relative error ${gerr}`);
      assert.ok(refGrad.some((v) => v !== 0));
    });
  }
}

test('Winograd is left out below minChannels, for strided convolutions and non-constant weights', () => {
  const g = new Graph();
  const x = g.input('x', [1, 4, 8, 8]);
  const a = g.conv(x, g.constant('w1', randn(8 * 4 * 9, 1), [8, 4, 3, 3]), null, 1); // 4 channels: below 8
  const c = g.add1('Conv', [a, g.constant('w2', randn(8 * 8 * 9, 2), [8, 8, 3, 3])], { pad: 1, stride: 2 }); // strided
  const d = g.conv(c, g.constant('w3', randn(8 * 8 * 9, 3), [8, 8, 3, 3]), null, 1); // 8 channels: lowered
  g.output(d);
  const types = opTypes(toOnnx(g, 'wino', { winograd: { minChannels: 8, tile: 2 } }));
  assert.equal(types.filter((t) => t === 'Conv').length, 2);
  assert.equal(types.filter((t) => t === 'SpaceToDepth').length, 1);
});

// the issue's bar: the whole loss and gradient within 1e-5 relative of the direct convolution, on real VGG
// weights (conv1_1 to conv3_2, 64 px) with the lowering the WebAssembly runtime uses (64 channels and up)
for (const variant of VARIANTS.filter((v) => v.tile === 4 || !v.gather)) {
  test(`Winograd ${label(variant)} on VGG: Gatys loss and gradient within 1e-5 of the direct convolution`, async (t) => {
    const fx = loadFixture('vgg');
    const weights = await loadVggWeights(path.resolve(fx.dir, fx.index.weights.file));
    const { content, style } = fx.index.layers;
    const lw = fx.index.loss_weights;
    const img = fx.array('image');
    const [, , h, w] = img.shape;
    const lg = buildLossGraph(
      { weights, contentLayers: content, styleLayers: style, contentWeight: lw.content, styleWeight: lw.style, tvWeight: lw.tv, pool: 'max' },
      h,
      w,
    );
    const feeds: Record<string, { data: Float32Array; dims: number[] }> = { image: { data: img.data, dims: img.shape } };
    for (const l of content) feeds[`content_target_${l}`] = { data: fx.array(`max/content_target_${l}`).data, dims: lg.contentTargets.get(l)!.shape as number[] };
    for (const l of style) feeds[`style_target_${l}`] = { data: fx.array(`max/style_target_gram_${l}`).data, dims: lg.styleTargets.get(l)!.shape as number[] };
    const lowered = toOnnx(lg.graph, 'wino', { winograd: { minChannels: 64, ...variant } });
    const convs = plainConvs;
    const direct = toOnnx(lg.graph);
    assert.ok(convs(lowered) <= 2 && convs(direct) >= 10, `convs left: ${convs(lowered)} of ${convs(direct)}`);
    const a = await runOrt(direct, feeds);
    const b = await runOrt(lowered, feeds);
    const lerr = Math.abs(b[lg.total][0] - a[lg.total][0]) / Math.abs(a[lg.total][0]);
    assert.ok(lerr < 1e-5, `total loss ${b[lg.total][0]} vs ${a[lg.total][0]} (rel ${lerr})`);
    const gerr = maxRelErr(b[lg.grad], a[lg.grad]);
    t.diagnostic(`loss rel ${lerr.toExponential(2)}, gradient max rel ${gerr.toExponential(2)}`);
    assert.ok(gerr < 1e-5, `gradient: max relative error ${gerr}`);
  });
}

