// The ONNX lowering for backends with limits (OnnxLowering): max pooling's gradient without MaxPool's
// indices output (onnxruntime-web's WebGPU) gives the reference's loss and gradient on onnxruntime-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import { Graph, numel, type Value } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner } from '../src/runtime/session.js';
import { randn } from './helpers/rand.js';
import { maxRelErr } from './helpers/fixtures.js';

/** mse(build(x), t) and its gradient with respect to x, for an input of `shape`. */
function lossAndGradient(shape: number[], build: (g: Graph, x: Value) => Value) {
  const g = new Graph();
  const x = g.input('x', shape);
  const y = build(g, x);
  const loss = g.mse(y, g.constant('t', randn(numel(y.shape), 2, 3), y.shape));
  const [gx] = gradients(g, loss, [x]);
  g.output(loss);
  g.output(gx);
  return { g, loss, gx, feeds: { x: randn(numel(shape), 1, 2) } };
}

const CASES: [string, number[], (g: Graph, x: Value) => Value][] = [
  ['max pool, even sizes', [1, 3, 6, 8], (g, x) => g.maxPool2(x)],
  ['max pool, odd sizes (a dropped row and column)', [1, 2, 5, 7], (g, x) => g.maxPool2(x)],
  ['relu then max pool (windows of tied zeros)', [1, 4, 6, 6], (g, x) => g.maxPool2(g.relu(x))],
  [
    'conv, relu, max pool, gram',
    [1, 3, 8, 8],
    (g, x) => g.gram(g.maxPool2(g.relu(g.conv(x, g.constant('w', randn(4 * 3 * 9, 3, 0.3), [4, 3, 3, 3]), null, 1)))),
  ],
];

for (const [name, shape, build] of CASES) {
  test(`without MaxPool indices: ${name} matches the reference and the default lowering`, async () => {
    const { g, loss, gx, feeds } = lossAndGradient(shape, build);
    const model = toOnnx(g, 'pool', { maxPoolIndices: false });
    const nodes = onnxProto.onnx.ModelProto.decode(model).graph!.node!;
    assert.ok(!nodes.some((n) => n.opType === 'MaxUnpool'), 'no MaxUnpool');
    for (const n of nodes.filter((n) => n.opType === 'MaxPool')) assert.equal(n.output!.length, 1, 'MaxPool has one output');

    const [refLoss, refGrad] = evaluate(g, feeds, [loss, gx]);
    const outs: Record<string, Float32Array>[] = [];
    for (const bytes of [model, toOnnx(g, 'pool')]) {
      const runner = await createRunner(bytes, { threads: 1 });
      outs.push(await runner.run({ x: { data: feeds.x, dims: shape } }));
      await runner.release();
    }
    for (const out of outs) {
      assert.ok(Math.abs(out[loss.name][0] - refLoss[0]) <= 1e-5 * Math.abs(refLoss[0]), `loss ${out[loss.name][0]} vs ${refLoss[0]}`);
      const err = maxRelErr(out[gx.name], refGrad);
      assert.ok(err < 1e-5, `gradient: max relative error ${err}`);
    }
    assert.ok(refGrad.some((v) => v !== 0), 'the gradient is not trivially zero');
  });
}
