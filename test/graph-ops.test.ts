// Gradient of every op against central finite differences (float64 reference evaluator), and the
// ONNX lowering of every op and its backward against the reference, on tiny shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, numel, type Value } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner } from '../src/runtime/session.js';
import { randn } from './helpers/rand.js';
import { maxRelErr } from './helpers/fixtures.js';

type Build = (g: Graph, x: Value) => Value; // returns a tensor; the test reduces it to a scalar

/** Scalar test loss: mean((op(x) - t)^2) with a fixed random target t, so every output element matters. */
function setup(shape: number[], build: Build, seed: number) {
  const g = new Graph();
  const x = g.input('x', shape);
  const y = build(g, x);
  const loss = y.shape.length === 0 ? y : g.mse(y, g.constant('t', randn(numel(y.shape), seed + 1, 3), y.shape));
  g.output(loss);
  const [gx] = gradients(g, loss, [x]);
  g.output(gx);
  return { g, x, loss, gx, x0: randn(numel(shape), seed, 2) };
}

function finiteDifference(g: Graph, loss: Value, x0: Float32Array, eps = 1e-4): Float64Array {
  const out = new Float64Array(x0.length);
  const xp = Float64Array.from(x0);
  for (let k = 0; k < x0.length; k++) {
    const v = xp[k];
    xp[k] = v + eps;
    const [fp] = evaluate(g, { x: xp }, [loss]);
    xp[k] = v - eps;
    const [fm] = evaluate(g, { x: xp }, [loss]);
    xp[k] = v;
    out[k] = (fp[0] - fm[0]) / (2 * eps);
  }
  return out;
}

const W = (g: Graph, co: number, ci: number, k: number, seed: number) => g.constant(`w${seed}`, randn(co * ci * k * k, seed, 0.5), [co, ci, k, k]);
const B = (g: Graph, co: number, seed: number) => g.constant(`b${seed}`, randn(co, seed, 1), [co]);

const cases: [string, number[], Build][] = [
  ['conv 3x3 pad 1', [1, 2, 5, 6], (g, x) => g.conv(x, W(g, 3, 2, 3, 11), B(g, 3, 12), 1)],
  ['conv 3x3 pad 0', [1, 2, 5, 6], (g, x) => g.conv(x, W(g, 3, 2, 3, 13), null, 0)],
  ['conv 1x1', [1, 3, 4, 4], (g, x) => g.conv(x, W(g, 3, 3, 1, 14), B(g, 3, 15), 0)],
  ['relu', [1, 2, 4, 5], (g, x) => g.relu(x)],
  ['max pool (odd sizes)', [1, 2, 5, 7], (g, x) => g.maxPool2(x)],
  ['avg pool (odd sizes)', [1, 2, 5, 7], (g, x) => g.avgPool2(x)],
  ['avg pool (even sizes)', [1, 2, 4, 6], (g, x) => g.avgPool2(x)],
  ['gram', [1, 3, 4, 5], (g, x) => g.gram(x)],
  ['total variation', [1, 3, 4, 5], (g, x) => g.tv(x)],
  ['scale', [1, 2, 3, 3], (g, x) => g.scale(x, -2.5)],
  ['add (value used twice)', [1, 2, 3, 3], (g, x) => g.sum([x, g.relu(x), g.scale(x, 3)])],
  ['conv-relu-pool-gram chain', [1, 3, 6, 6], (g, x) => g.gram(g.maxPool2(g.relu(g.conv(x, W(g, 4, 3, 3, 16), B(g, 4, 17), 1))))],
];

for (const [name, shape, build] of cases) {
  test(`gradient of ${name} matches finite differences`, () => {
    const { g, loss, gx, x0 } = setup(shape, build, 7);
    const [analytic] = evaluate(g, { x: x0 }, [gx]);
    const fd = finiteDifference(g, loss, x0);
    const err = maxRelErr(analytic, fd);
    assert.ok(err < 1e-6, `${name}: max |analytic - fd| / max |fd| = ${err}`);
    assert.ok(Math.max(...fd.map(Math.abs)) > 0, 'gradient is not trivially zero');
  });

  test(`ONNX lowering of ${name} (forward and backward) matches the reference`, async () => {
    const { g, loss, gx, x0 } = setup(shape, build, 9);
    const [refLoss, refGrad] = evaluate(g, { x: x0 }, [loss, gx]);
    const runner = await createRunner(toOnnx(g), { threads: 1 });
    const out = await runner.run({ x: { data: x0, dims: shape } });
    await runner.release();
    assert.ok(Math.abs(out[loss.name][0] - refLoss[0]) <= 1e-5 * Math.abs(refLoss[0]), `loss ${out[loss.name][0]} vs ${refLoss[0]}`);
    assert.ok(maxRelErr(out[gx.name], refGrad) < 1e-5, `grad err ${maxRelErr(out[gx.name], refGrad)}`);
  });
}

test('relu derivative at exactly 0 is 0', () => {
  const g = new Graph();
  const x = g.input('x', [1, 1, 1, 3]);
  const loss = g.mse(g.relu(x), g.constant('t', new Float32Array(3), [1, 1, 1, 3]));
  const [gx] = gradients(g, loss, [x]);
  const [d] = evaluate(g, { x: [0, 1, -1] }, [gx]);
  assert.deepEqual([...d], [0, 2 / 3, 0]);
});
