// The ONNX lowerings of a convolution's weight gradient (conv-grad-onnx.ts: im2col Gemm, per-tap Gemms, a conv
// over x, a conv over dy) and of a stride-1 ConvTranspose as a flipped-weight Conv, each against the float64 reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { Graph, numel } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import type { OnnxLowering } from '../src/graph/ops/index.js';
import { createRunner } from '../src/runtime/session.js';
import { randn } from './helpers/rand.js';
import { maxRelErr } from './helpers/fixtures.js';

const nodesOf = (model: Uint8Array) => onnxProto.onnx.ModelProto.decode(model).graph!.node!;
/** The kernel shapes of the model's Conv nodes (a weight gradient as a conv has an image for its kernel). */
const convKernels = (model: Uint8Array) =>
  nodesOf(model)
    .filter((n) => n.opType === 'Conv')
    .map((n) => (n.attribute ?? []).find((a) => a.name === 'kernel_shape')!.ints!.map(Number).join('x'));

type Form = 'im2col' | 'taps' | 'conv';
interface Case {
  name: string;
  x: number[];
  w: number[];
  attrs: Record<string, number | number[]>;
  /** the lowering the weight gradient takes by default, and with im2colMaxFloats 0 */
  forms: [Form, Form];
}
const CASES: Case[] = [
  { name: '3x3 pad 1, batch 2', x: [2, 3, 5, 6], w: [4, 3, 3, 3], attrs: { pad: 1 }, forms: ['im2col', 'taps'] },
  { name: '3x3 stride 2, TF SAME pads, batch 2', x: [2, 2, 6, 7], w: [3, 2, 3, 3], attrs: { stride: 2, pads: [0, 1, 1, 1] }, forms: ['im2col', 'taps'] },
  { name: '3x3 stride 2, no pad, unused last row/col', x: [1, 2, 6, 6], w: [2, 2, 3, 3], attrs: { stride: 2, pad: 0 }, forms: ['im2col', 'taps'] },
  { name: '1x3, height 1 (the audio mode)', x: [1, 3, 1, 7], w: [4, 3, 1, 3], attrs: { pad: 0 }, forms: ['im2col', 'taps'] },
  { name: '2x3 non-square, asymmetric pads', x: [1, 2, 4, 5], w: [3, 2, 2, 3], attrs: { pads: [0, 1, 2, 1] }, forms: ['im2col', 'taps'] },
  { name: '9x9 pad 4, fewer outputs than inputs (the last layer: a conv over dy)', x: [2, 4, 9, 10], w: [3, 4, 9, 9], attrs: { pad: 4 }, forms: ['conv', 'conv'] },
  { name: '9x9 pad 4, more outputs than inputs (the first layer: a conv over x)', x: [2, 3, 9, 10], w: [5, 3, 9, 9], attrs: { pad: 4 }, forms: ['conv', 'conv'] },
  { name: '5x5 stride 2, fewer outputs, unused last row/col (a conv over x)', x: [1, 3, 8, 9], w: [2, 3, 5, 5], attrs: { stride: 2, pad: 0 }, forms: ['conv', 'conv'] },
  { name: '5x5 stride 2, pads 2', x: [2, 2, 7, 8], w: [3, 2, 5, 5], attrs: { stride: 2, pad: 2 }, forms: ['conv', 'conv'] },
];

function build(c: Case) {
  const g = new Graph();
  const x = g.input('x', c.x);
  const w = g.input('w', c.w);
  const y = g.add1('Conv', [x, w], c.attrs);
  const loss = g.mse(y, g.constant('t', randn(numel(y.shape), 5, 3), y.shape));
  g.output(loss);
  const grads = gradients(g, loss, [x, w]);
  for (const gv of grads) g.output(gv);
  return { g, loss, grads, feeds: { x: randn(numel(c.x), 1, 2), w: randn(numel(c.w), 2, 0.5) } };
}

async function runModel(model: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>) {
  const runner = await createRunner(model, { threads: 1 });
  try {
    return await runner.run(feeds);
  } finally {
    await runner.release();
  }
}

for (const c of CASES) {
  for (const [k, lowering] of [{}, { im2colMaxFloats: 0 }].entries() as Iterable<[number, OnnxLowering]>) {
    const form = c.forms[k];
    test(`weight gradient of a ${c.name} as ${form} matches the reference`, async () => {
      const { g, loss, grads, feeds } = build(c);
      const model = toOnnx(g, 'wgrad', lowering);
      const types = nodesOf(model).map((n) => n.opType);
      const gemms = types.filter((t) => t === 'Gemm').length;
      const kernelArea = c.w[2] * c.w[3];
      if (form === 'im2col') assert.equal(gemms, 1, 'one Gemm over the im2col matrix');
      if (form === 'taps') assert.equal(gemms, kernelArea, 'one Gemm per tap');
      if (form === 'conv') {
        assert.equal(gemms, 0);
        assert.ok(convKernels(model).some((k) => k !== `${c.w[2]}x${c.w[3]}`), 'a conv whose kernel is an image');
      }
      const ref = evaluate(g, feeds, [loss, ...grads]);
      const out = await runModel(model, { x: { data: feeds.x, dims: c.x }, w: { data: feeds.w, dims: c.w } });
      assert.ok(Math.abs(out[loss.name][0] - ref[0][0]) <= 1e-5 * Math.abs(ref[0][0]));
      const [gx, gw] = grads;
      assert.ok(maxRelErr(out[gw.name], ref[2]) < 1e-5, `dW: max relative error ${maxRelErr(out[gw.name], ref[2])}`);
      assert.ok(maxRelErr(out[gx.name], ref[1]) < 1e-5, `dx: max relative error ${maxRelErr(out[gx.name], ref[1])}`);
    });
  }
}

test('a stride-1 ConvTranspose lowers to a Conv with the weight flipped in the graph, and matches the reference', async () => {
  for (const [pads, k] of [[[0, 0, 0, 0], 9], [[1, 0, 2, 1], 3], [[4, 4, 4, 4], 9]] as [number[], number][]) {
    const g = new Graph();
    const x = g.input('x', [2, 3, 6, 7]);
    const w = g.input('w', [3, 4, k, k]);
    const y = g.add1('ConvTranspose', [x, w], { stride: 1, pads });
    const loss = g.mse(y, g.constant('t', randn(numel(y.shape), 8, 3), y.shape));
    g.output(y);
    g.output(loss);
    const grads = gradients(g, loss, [x, w]);
    for (const gv of grads) g.output(gv);
    const model = toOnnx(g, 'convT');
    assert.ok(!nodesOf(model).some((n) => n.opType === 'ConvTranspose'), `pads ${pads}: no ConvTranspose left`);
    const feeds = { x: randn(2 * 3 * 6 * 7, 3, 2), w: randn(3 * 4 * k * k, 4, 0.5) };
    const ref = evaluate(g, feeds, [y, ...grads]);
    const out = await runModel(model, { x: { data: feeds.x, dims: [...x.shape] }, w: { data: feeds.w, dims: [...w.shape] } });
    assert.ok(maxRelErr(out[y.name], ref[0]) < 1e-5, `pads ${pads}: output`);
    assert.ok(maxRelErr(out[grads[0].name], ref[1]) < 1e-5, `pads ${pads}: dx`);
    assert.ok(maxRelErr(out[grads[1].name], ref[2]) < 1e-5, `pads ${pads}: dW`);
  }
});
