// The ops of the feed-forward style networks (strided/asymmetric Conv, ConvTranspose, InstanceNorm,
// ReflectPad, ZeroPad/Crop, Tanh, Affine, Clip): gradients against finite differences and ONNX lowering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, numel, type Value } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner } from '../src/runtime/session.js';
import { randn } from './helpers/rand.js';
import { maxRelErr } from './helpers/fixtures.js';
import { subpixelWeight } from '../src/fast/network.js';

/** Builds a tensor from input x; may declare more graph inputs (parameters), which are differentiated too. */
type Build = (g: Graph, x: Value) => Value;

const W = (g: Graph, shape: number[], seed: number) => g.constant(`w${seed}`, randn(numel(shape), seed, 0.5), shape);

/** Loss mean((op(x) - t)^2) with a fixed random target; gradients with respect to every graph input. */
function setup(shape: number[], build: Build, seed: number) {
  const g = new Graph();
  const x = g.input('x', shape);
  const y = build(g, x);
  const loss = g.mse(y, g.constant('t', randn(numel(y.shape), seed + 1, 3), y.shape));
  g.output(loss);
  const ins = [...g.inputs];
  const grads = gradients(g, loss, ins);
  for (const gv of grads) g.output(gv);
  const feeds: Record<string, Float32Array> = {};
  ins.forEach((v, k) => {
    // parameters of InstanceNorm etc.: around 1 so that scales are not tiny
    feeds[v.name] = k === 0 ? randn(numel(v.shape), seed, 2) : randn(numel(v.shape), seed + 10 + k, 0.5).map((a) => a + 1);
  });
  return { g, ins, loss, grads, feeds };
}

function finiteDifference(g: Graph, loss: Value, feeds: Record<string, Float32Array>, name: string, eps = 1e-4): Float64Array {
  const all: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(feeds)) all[k] = Float64Array.from(v);
  const xp = all[name];
  const out = new Float64Array(xp.length);
  for (let k = 0; k < xp.length; k++) {
    const v = xp[k];
    xp[k] = v + eps;
    const [fp] = evaluate(g, all, [loss]);
    xp[k] = v - eps;
    const [fm] = evaluate(g, all, [loss]);
    xp[k] = v;
    out[k] = (fp[0] - fm[0]) / (2 * eps);
  }
  return out;
}

const conv = (g: Graph, x: Value, w: Value, attrs: Record<string, number | number[]>) => g.add1('Conv', [x, w], attrs);

const cases: [string, number[], Build][] = [
  ['conv 3x3 stride 2, TF SAME pads (0,0,1,1), even size', [1, 2, 6, 8], (g, x) => conv(g, x, W(g, [3, 2, 3, 3], 21), { stride: 2, pads: [0, 0, 1, 1] })],
  ['conv 3x3 stride 2, pads 1, odd size', [1, 2, 5, 7], (g, x) => conv(g, x, W(g, [3, 2, 3, 3], 22), { stride: 2, pads: [1, 1, 1, 1] })],
  ['conv 3x3 stride 2, no pad, unused last row/col', [1, 2, 6, 6], (g, x) => conv(g, x, W(g, [2, 2, 3, 3], 23), { stride: 2, pad: 0 })],
  ['conv 3x3 stride 1, asymmetric pads', [1, 2, 4, 5], (g, x) => conv(g, x, W(g, [2, 2, 3, 3], 24), { pads: [0, 1, 2, 1] })],
  [
    'conv transpose 3x3 stride 2, TF SAME (pads 0,0,1,1)',
    [1, 3, 3, 4],
    (g, x) => g.add1('ConvTranspose', [x, W(g, [3, 2, 3, 3], 25)], { stride: 2, pads: [0, 0, 1, 1] }),
  ],
  [
    'conv transpose 3x3 stride 2, output padding',
    [1, 2, 3, 2],
    (g, x) => g.add1('ConvTranspose', [x, W(g, [2, 3, 3, 3], 26)], { stride: 2, pads: [1, 1, 1, 1], outPad: [1, 1] }),
  ],
  [
    'instance norm (batch 2; scale and shift are inputs too)',
    [2, 3, 3, 4],
    (g, x) => g.add1('InstanceNorm', [x, g.input('scale', [3]), g.input('shift', [3])], { eps: 1e-3 }),
  ],
  ['reflect pad', [1, 2, 4, 5], (g, x) => g.add1('ReflectPad', [x], { pads: [1, 2, 3, 1] })],
  ['zero pad', [1, 2, 3, 3], (g, x) => g.add1('ZeroPad', [x], { pads: [2, 0, 1, 3] })],
  ['crop', [1, 2, 5, 6], (g, x) => g.add1('Crop', [x], { pads: [1, 2, 0, 1] })],
  ['tanh', [1, 2, 3, 4], (g, x) => g.add1('Tanh', [g.scale(x, 0.5)])],
  ['affine', [1, 2, 3, 3], (g, x) => g.add1('Affine', [x], { scale: 150, shift: 127.5 })],
  ['clip', [1, 2, 4, 4], (g, x) => g.add1('Clip', [x], { min: -1, max: 1.5 })],
  ['depth to space (DCR, block 2)', [1, 8, 2, 3], (g, x) => g.add1('DepthToSpace', [x], { block: 2 })],
  ['space to depth (block 2)', [1, 2, 4, 6], (g, x) => g.add1('SpaceToDepth', [x], { block: 2 })],
  [
    'reflect pad, stride-2 conv, instance norm, relu, transposed conv, tanh, affine, crop',
    [1, 2, 6, 7],
    (g, x) => {
      const p = g.add1('ReflectPad', [x], { pads: [1, 0, 1, 1] });
      const c = conv(g, p, W(g, [3, 2, 3, 3], 27), { stride: 2, pads: [0, 0, 1, 1] });
      const n = g.relu(g.add1('InstanceNorm', [c, W(g, [3], 28), W(g, [3], 29)], { eps: 1e-3 }));
      const u = g.add1('ConvTranspose', [n, W(g, [3, 2, 3, 3], 30)], { stride: 2, pads: [0, 0, 1, 1] });
      const t = g.add1('Affine', [g.add1('Tanh', [u])], { scale: 1.5, shift: 0.5 });
      return g.add1('Crop', [t], { pads: [1, 0, 0, 1] });
    },
  ],
];

for (const [name, shape, build] of cases) {
  test(`gradient of ${name} matches finite differences`, () => {
    const { g, ins, loss, grads, feeds } = setup(shape, build, 7);
    const analytic = evaluate(g, feeds, grads);
    ins.forEach((v, k) => {
      const fd = finiteDifference(g, loss, feeds, v.name);
      const err = maxRelErr(analytic[k], fd);
      assert.ok(err < 1e-6, `${name}, d/d${v.name}: max |analytic - fd| / max |fd| = ${err}`);
      assert.ok(Math.max(...fd.map(Math.abs)) > 0, `d/d${v.name} is not trivially zero`);
    });
  });

  test(`ONNX lowering of ${name} (forward and backward) matches the reference`, async () => {
    const { g, loss, grads, feeds } = setup(shape, build, 9);
    const ref = evaluate(g, feeds, [loss, ...grads]);
    const runner = await createRunner(toOnnx(g), { threads: 1 });
    const tensors = Object.fromEntries(g.inputs.map((v) => [v.name, { data: feeds[v.name], dims: v.shape }]));
    const out = await runner.run(tensors);
    await runner.release();
    assert.ok(Math.abs(out[loss.name][0] - ref[0][0]) <= 1e-5 * Math.abs(ref[0][0]), `loss ${out[loss.name][0]} vs ${ref[0][0]}`);
    grads.forEach((gv, k) => {
      const err = maxRelErr(out[gv.name], ref[k + 1]);
      assert.ok(err < 1e-5, `${gv.name}: err ${err}`);
    });
  });
}

test('shape rules: strided conv, transposed conv and pads', () => {
  const g = new Graph();
  const x = g.input('x', [1, 3, 33, 47]);
  const w = W(g, [4, 3, 3, 3], 40);
  assert.deepEqual(conv(g, x, w, { stride: 2, pads: [1, 1, 1, 1] }).shape, [1, 4, 17, 24]);
  const y = g.input('y', [1, 4, 9, 12]);
  assert.deepEqual(g.add1('ConvTranspose', [y, W(g, [4, 2, 3, 3], 41)], { stride: 2, pads: [0, 0, 1, 1] }).shape, [1, 2, 18, 24]);
  assert.deepEqual(g.add1('ReflectPad', [x], { pads: [1, 0, 2, 1] }).shape, [1, 3, 36, 48]);
  assert.throws(() => g.add1('ReflectPad', [g.input('z', [1, 1, 2, 5])], { pads: [2, 0, 0, 0] }), /too large/);
  assert.deepEqual(conv(g, x, w, { pad: 1 }).shape, [1, 4, 33, 47]); // the original attrs still mean the same
});

test('reflect pad does not repeat the edge (numpy/PyTorch "reflect")', () => {
  const g = new Graph();
  const x = g.input('x', [1, 1, 1, 4]);
  const y = g.add1('ReflectPad', [x], { pads: [0, 2, 0, 3] });
  const [out] = evaluate(g, { x: [1, 2, 3, 4] }, [y]);
  assert.deepEqual([...out], [3, 2, 1, 2, 3, 4, 3, 2, 1]);
});

test('space to depth inverts depth to space', () => {
  const g = new Graph();
  const x = g.input('x', [2, 12, 2, 3]);
  const y = g.add1('SpaceToDepth', [g.add1('DepthToSpace', [x], { block: 2 })], { block: 2 });
  const x0 = randn(numel(x.shape), 3);
  const [out] = evaluate(g, { x: x0 }, [y]);
  assert.deepEqual([...out], [...Float64Array.from(x0)]);
});

for (const [k, s, n] of [[3, 2, 3], [2, 2, 3], [3, 3, 2], [5, 4, 2]] as const) {
  test(`sub-pixel conv + DepthToSpace equals the transposed conv (k ${k}, stride ${s}, TF SAME output ${s}n)`, () => {
    const [cin, cout] = [3, 2];
    const g = new Graph();
    const x = g.input('x', [1, cin, n, n + 1]);
    const w = randn(cin * cout * k * k, 50 + k, 0.5);
    // TF 'SAME' for output s·n: total padding max(k − s, 0), the smaller half first (0 here)
    const total = Math.max(k - s, 0);
    const [p0, p1] = [Math.floor(total / 2), total - Math.floor(total / 2)];
    assert.equal(p0, 0);
    const ref = g.add1('ConvTranspose', [x, g.constant('w', w, [cin, cout, k, k])], { stride: s, pads: [p0, p0, p1, p1] });
    const sw = subpixelWeight(w, cin, cout, k, s);
    const D = sw.shape[2] - 1;
    const phases = g.add1('Conv', [x, g.constant('ws', sw.data, sw.shape)], { pads: [D, D, 0, 0] });
    const sub = g.add1('DepthToSpace', [phases], { block: s });
    assert.deepEqual(sub.shape, ref.shape);
    const [a, b] = evaluate(g, { x: randn(numel(x.shape), 4, 2) }, [ref, sub]);
    assert.ok(maxRelErr(b, a) < 1e-12, `err ${maxRelErr(b, a)}`);
  });
}
