// The ops of src/graph/ops/, one harness keyed by op name: the gradient of every op with a backward rule
// against central finite differences (float64 reference evaluator), and the ONNX lowering of every op and
// its backward against the reference, on tiny shapes; then op-specific checks (edge cases, shape rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, numel, type Value } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { evaluate } from '../src/graph/reference.js';
import { OPS, OP_FAMILIES, type DifferentiableOpName, type GradientOnlyOpName, type OpName } from '../src/graph/ops/index.js';
import { randn } from './helpers/rand.js';
import { assertGradientsMatchFd, assertOrtMatchesReference } from './helpers/gradcheck.js';

/** Builds a tensor (or a scalar) from input x; may declare more graph inputs, which are differentiated too unless `given`. */
type Build = (g: Graph, x: Value) => Value;
/** name, shape of x, build, and the names of inputs that are fed but get no gradient (e.g. Dot's second operand). */
type FdCase = readonly [name: string, shape: number[], build: Build, given?: readonly string[]];
type Cases = readonly [FdCase, ...FdCase[]];

const W = (g: Graph, shape: number[], seed: number) => g.constant(`w${seed}`, randn(numel(shape), seed, 0.5), shape);
const B = (g: Graph, co: number, seed: number) => g.constant(`b${seed}`, randn(co, seed, 1), [co]);
const conv = (g: Graph, x: Value, w: Value, attrs: Record<string, number | number[]>) => g.add1('Conv', [x, w], attrs);

/**
 * At least one case for every op with a backward rule: the type is computed from the op table, so a new op with
 * a backward rule does not compile until it has a case here. Each case must contain the op it is filed under.
 */
const FD_CASES: Record<DifferentiableOpName, Cases> = {
  Conv: [
    ['conv 3x3 pad 1', [1, 2, 5, 6], (g, x) => g.conv(x, W(g, [3, 2, 3, 3], 11), B(g, 3, 12), 1)],
    ['conv 3x3 pad 0', [1, 2, 5, 6], (g, x) => g.conv(x, W(g, [3, 2, 3, 3], 13), null, 0)],
    ['conv 1x1', [1, 3, 4, 4], (g, x) => g.conv(x, W(g, [3, 3, 1, 1], 14), B(g, 3, 15), 0)],
    ['conv 3x3 stride 2, TF SAME pads (0,0,1,1), even size', [1, 2, 6, 8], (g, x) => conv(g, x, W(g, [3, 2, 3, 3], 21), { stride: 2, pads: [0, 0, 1, 1] })],
    ['conv 3x3 stride 2, pads 1, odd size', [1, 2, 5, 7], (g, x) => conv(g, x, W(g, [3, 2, 3, 3], 22), { stride: 2, pads: [1, 1, 1, 1] })],
    ['conv 3x3 stride 2, no pad, unused last row/col', [1, 2, 6, 6], (g, x) => conv(g, x, W(g, [2, 2, 3, 3], 23), { stride: 2, pad: 0 })],
    ['conv 3x3 stride 1, asymmetric pads', [1, 2, 4, 5], (g, x) => conv(g, x, W(g, [2, 2, 3, 3], 24), { pads: [0, 1, 2, 1] })],
    ['conv 1x3, height 1 (the audio mode\'s 1-D conv), pad 0', [1, 3, 1, 7], (g, x) => g.conv(x, W(g, [4, 3, 1, 3], 32), null, 0)],
    ['conv 2x3 non-square kernel, pad 1', [1, 2, 4, 5], (g, x) => g.conv(x, W(g, [3, 2, 2, 3], 33), null, 1)],
    // training: the weight and bias are graph inputs, differentiated like the data
    ['conv 3x3 pad 1, weight and bias as inputs', [1, 2, 5, 6], (g, x) => g.conv(x, g.input('w', [3, 2, 3, 3]), g.input('b', [3]), 1)],
    ['conv 3x3 pad 1, weight input, data fixed (no dx)', [2, 2, 4, 5], (g, x) => g.conv(x, g.input('w', [3, 2, 3, 3]), null, 1), ['x']],
    ['conv 9x9 pad 4, weight input (the first layer of a fast network)', [1, 3, 9, 10], (g, x) => g.conv(x, g.input('w', [2, 3, 9, 9]), null, 4)],
    ['conv 3x3 stride 2, TF SAME pads, weight and bias inputs, batch 2', [2, 2, 6, 7], (g, x) => g.add1('Conv', [x, g.input('w', [3, 2, 3, 3]), g.input('b', [3])], { stride: 2, pads: [0, 1, 1, 1] })],
    ['conv 3x3 stride 2, no pad, unused last row/col, weight input', [1, 2, 6, 6], (g, x) => conv(g, x, g.input('w', [2, 2, 3, 3]), { stride: 2, pad: 0 })],
    ['conv 3x3 stride 1, asymmetric pads, weight input', [1, 2, 4, 5], (g, x) => conv(g, x, g.input('w', [2, 2, 3, 3]), { pads: [0, 1, 2, 1] })],
  ],
  ConvTranspose: [
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
      'conv transpose 3x3 stride 2, TF SAME, weight input',
      [1, 3, 3, 4],
      (g, x) => g.add1('ConvTranspose', [x, g.input('w', [3, 2, 3, 3])], { stride: 2, pads: [0, 0, 1, 1] }),
    ],
    [
      'conv transpose 3x3 stride 2, output padding, weight input, batch 2',
      [2, 2, 3, 2],
      (g, x) => g.add1('ConvTranspose', [x, g.input('w', [2, 3, 3, 3])], { stride: 2, pads: [1, 1, 1, 1], outPad: [1, 1] }),
    ],
  ],
  MaxPool2: [['max pool (odd sizes)', [1, 2, 5, 7], (g, x) => g.maxPool2(x)]],
  AvgPool2: [
    ['avg pool (odd sizes)', [1, 2, 5, 7], (g, x) => g.avgPool2(x)],
    ['avg pool (even sizes)', [1, 2, 4, 6], (g, x) => g.avgPool2(x)],
  ],
  Relu: [['relu', [1, 2, 4, 5], (g, x) => g.relu(x)]],
  Tanh: [['tanh', [1, 2, 3, 4], (g, x) => g.add1('Tanh', [g.scale(x, 0.5)])]],
  Clip: [['clip', [1, 2, 4, 4], (g, x) => g.add1('Clip', [x], { min: -1, max: 1.5 })]],
  Scale: [['scale', [1, 2, 3, 3], (g, x) => g.scale(x, -2.5)]],
  Affine: [['affine', [1, 2, 3, 3], (g, x) => g.add1('Affine', [x], { scale: 150, shift: 127.5 })]],
  Add: [['add (value used twice)', [1, 2, 3, 3], (g, x) => g.sum([x, g.relu(x), g.scale(x, 3)])]],
  InstanceNorm: [
    [
      'instance norm (batch 2; scale and shift are inputs too)',
      [2, 3, 3, 4],
      (g, x) => g.add1('InstanceNorm', [x, g.input('scale', [3]), g.input('shift', [3])], { eps: 1e-3 }),
    ],
  ],
  ReflectPad: [['reflect pad', [1, 2, 4, 5], (g, x) => g.add1('ReflectPad', [x], { pads: [1, 2, 3, 1] })]],
  ZeroPad: [['zero pad', [1, 2, 3, 3], (g, x) => g.add1('ZeroPad', [x], { pads: [2, 0, 1, 3] })]],
  Crop: [['crop', [1, 2, 5, 6], (g, x) => g.add1('Crop', [x], { pads: [1, 2, 0, 1] })]],
  DepthToSpace: [['depth to space (DCR, block 2)', [1, 8, 2, 3], (g, x) => g.add1('DepthToSpace', [x], { block: 2 })]],
  Upsample2: [['nearest upsample 2x', [1, 2, 3, 4], (g, x) => g.add1('Upsample2', [x])]],
  SpaceToDepth: [['space to depth (block 2)', [1, 2, 4, 6], (g, x) => g.add1('SpaceToDepth', [x], { block: 2 })]],
  Gram: [['gram', [1, 3, 4, 5], (g, x) => g.gram(x)]],
  GuidedGram: [
    [
      'guided gram (mask fed at run time, no gradient; normalisation attribute)',
      [1, 3, 4, 5],
      (g, x) => g.add1('GuidedGram', [x, g.input('mask', [1, 1, 4, 5])], { n: 7.5 }),
      ['mask'],
    ],
    [
      'guided gram with a constant soft mask, zero in one corner, inside an mse',
      [1, 2, 3, 4],
      (g, x) => g.mse(g.add1('GuidedGram', [x, g.constant('m', Float32Array.from({ length: 12 }, (_, k) => (k < 3 ? 0 : k / 12)), [1, 1, 3, 4])], { n: 2 }), W(g, [2, 2], 32)),
    ],
  ],
  Mse: [
    [
      'mse against a target fed at run time, scaled (incoming gradient not 1)',
      [1, 2, 3, 3],
      (g, x) => g.scale(g.mse(x, g.input('target', [1, 2, 3, 3])), 0.5),
      ['target'],
    ],
  ],
  SqDiff: [
    ['mean squared difference of x and a second input, both differentiated, scaled', [1, 2, 3, 3], (g, x) => g.scale(g.sqDiff(x, g.input('other', [1, 2, 3, 3])), 0.7)],
    ['mean squared difference of two branches of x (the gradients of both halves add up)', [2, 2, 3, 3], (g, x) => g.sqDiff(g.scale(x, 2), g.add1('Tanh', [x]))],
  ],
  WeightedMse: [
    [
      'weighted mse (the temporal term: target and per-pixel weight fed at run time, weight broadcast over channels), scaled',
      [1, 3, 4, 5],
      (g, x) => g.scale(g.add1('WeightedMse', [x, g.input('warped', [1, 3, 4, 5]), g.input('weight', [1, 1, 4, 5])]), 3),
      ['warped', 'weight'],
    ],
    [
      'weighted mse with a constant 0/1 mask (batch 2, one weight plane per image)',
      [2, 2, 3, 3],
      (g, x) => g.add1('WeightedMse', [x, W(g, [2, 2, 3, 3], 34), g.constant('c', Float32Array.from({ length: 18 }, (_, k) => (k % 4 === 0 ? 0 : 1)), [2, 1, 3, 3])]),
    ],
  ],
  Tv: [['total variation', [1, 3, 4, 5], (g, x) => g.tv(x)]],
  Dot: [
    ['dot with a constant', [1, 2, 3, 4], (g, x) => g.add1('Dot', [x, W(g, [1, 2, 3, 4], 31)])],
    [
      'dot with a tensor fed at run time (the tiled style term), inside a loss (ScaleBy by a computed scalar)',
      [1, 2, 3, 4],
      (g, x) => g.mse(g.add1('Dot', [x, g.input('b', [1, 2, 3, 4])]), g.scalar('t0', 0.5)),
      ['b'],
    ],
  ],
};

/**
 * The ops without a backward rule of their own, each with the op whose cases exercise it (its backward emits
 * it). The type is computed from the op table, so a new gradient-only op does not compile until it is listed.
 */
const GRADIENT_ONLY: Record<GradientOnlyOpName, DifferentiableOpName> = {
  ConvWeightGrad: 'Conv',
  ConvBiasGrad: 'Conv',
  MaxUnpool2: 'MaxPool2',
  AvgPool2Grad: 'AvgPool2',
  ReluGrad: 'Relu',
  TanhGrad: 'Tanh',
  ClipGrad: 'Clip',
  InstanceNormGrad: 'InstanceNorm',
  ReflectPadGrad: 'ReflectPad',
  GramGrad: 'Gram',
  GuidedGramGrad: 'GuidedGram',
  MseGrad: 'Mse',
  WeightedMseGrad: 'WeightedMse',
  TvGrad: 'Tv',
  ScaleBy: 'Dot',
};

/** Compositions of several ops (the loss network and the feed-forward network in miniature). */
const CHAINS: Cases = [
  ['conv-relu-pool-gram chain', [1, 3, 6, 6], (g, x) => g.gram(g.maxPool2(g.relu(g.conv(x, W(g, [4, 3, 3, 3], 16), B(g, 4, 17), 1))))],
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
  [
    'resize-convolution (nearest upsample, then a conv), weight and instance-norm parameters as inputs',
    [1, 2, 3, 4],
    (g, x) => {
      const c = g.conv(g.add1('Upsample2', [x]), g.input('w', [3, 2, 3, 3]), null, 1);
      return g.add1('InstanceNorm', [c, g.input('scale', [3]), g.input('shift', [3])], { eps: 1e-3 });
    },
  ],
];

/**
 * Scalar test loss: the built value itself if it is a scalar, else mean((op(x) - t)^2) with a fixed random
 * target t, so every output element matters. Gradients with respect to every graph input not `given`.
 */
function setup([, shape, build, given = []]: FdCase, seed: number) {
  const g = new Graph();
  const x = g.input('x', shape);
  const y = build(g, x);
  const loss = y.shape.length === 0 ? y : g.mse(y, g.constant('t', randn(numel(y.shape), seed + 1, 3), y.shape));
  g.output(loss);
  const wrt = g.inputs.filter((v) => !given.includes(v.name));
  const grads = gradients(g, loss, wrt);
  for (const gv of grads) g.output(gv);
  const feeds: Record<string, Float32Array> = {};
  g.inputs.forEach((v, k) => {
    // parameters of InstanceNorm etc.: around 1 so that scales are not tiny
    feeds[v.name] = k === 0 ? randn(numel(v.shape), seed, 2) : randn(numel(v.shape), seed + 10 + k, 0.5).map((a) => a + 1);
  });
  return { g, wrt, loss, grads, feeds };
}

const opCases = Object.entries(FD_CASES) as [DifferentiableOpName, Cases][];

for (const c of [...opCases.flatMap(([, cases]) => cases), ...CHAINS]) {
  const name = c[0];
  test(`gradient of ${name} matches finite differences`, () => {
    const { g, wrt, loss, grads, feeds } = setup(c, 7);
    assertGradientsMatchFd(g, loss, wrt, grads, feeds, name);
  });

  test(`ONNX lowering of ${name} (forward and backward) matches the reference`, async () => {
    const { g, loss, grads, feeds } = setup(c, 9);
    await assertOrtMatchesReference(g, loss, grads, feeds);
  });
}

/** The ops in the graph of a case after differentiation (forward and backward nodes). */
const opsOf = (c: FdCase): Set<OpName> => new Set(setup(c, 7).g.nodes.map((n) => n.op));

test('the op table is the union of the families, each op in exactly one', () => {
  const names = Object.values(OP_FAMILIES).flatMap((family) => Object.keys(family));
  assert.equal(new Set(names).size, names.length, 'an op is in two families');
  assert.deepEqual([...names].sort(), Object.keys(OPS).sort());
});

test('the ops with finite-difference cases are exactly those with a backward rule', () => {
  for (const op of Object.keys(OPS) as OpName[]) {
    const differentiable = OPS[op].backward !== undefined;
    assert.equal(op in FD_CASES, differentiable, `${op}: backward rule ${differentiable}, FD case ${op in FD_CASES}`);
    assert.equal(op in GRADIENT_ONLY, !differentiable, `${op}: listed as gradient-only but has a backward rule`);
  }
});

test('each case contains the op it is filed under', () => {
  for (const [op, cases] of opCases) for (const c of cases) assert.ok(opsOf(c).has(op), `case "${c[0]}" has no ${op} node`);
});

test('each gradient-only op is exercised by a case of the op it is filed under', () => {
  for (const [op, by] of Object.entries(GRADIENT_ONLY) as [GradientOnlyOpName, DifferentiableOpName][]) {
    assert.ok(FD_CASES[by].some((c) => opsOf(c).has(op)), `no case of ${by} emits ${op}`);
  }
});

test('relu derivative at exactly 0 is 0', () => {
  const g = new Graph();
  const x = g.input('x', [1, 1, 1, 3]);
  const loss = g.mse(g.relu(x), g.constant('t', new Float32Array(3), [1, 1, 1, 3]));
  const [gx] = gradients(g, loss, [x]);
  const [d] = evaluate(g, { x: [0, 1, -1] }, [gx]);
  assert.deepEqual([...d], [0, 2 / 3, 0]);
});

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
