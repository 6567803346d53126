// Parameter gradients of a whole tiny Johnson-style network (3 -> 4 channels, one stride-2 conv, one residual
// block, one upsampling, 16 px, batch 2): loss = Σ output·r for a fixed random r; the gradient of every weight,
// instance-norm scale and shift against central finite differences (float64 reference), and onnxruntime's
// run of the same graph against the reference. Both upsamplings: transposed conv and resize-convolution (zero- and reflection-padded). The training
// step's stability term (the network on noisy crops too): its value against two separate runs, its gradient against FD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numel } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { buildFastGraph } from '../src/fast/network.js';
import { evaluate } from '../src/graph/reference.js';
import { buildTrainGraph } from '../src/train/step-graph.js';
import { withNoise } from '../src/train/dataset.js';
import type { FastCheckpoint, FastLayer, FastLayerKind } from '../src/fast/checkpoint-format.js';
import { randn } from './helpers/rand.js';
import { assertGradientsMatchFd, assertOrtMatchesReference } from './helpers/gradcheck.js';

function tinyLayer(seed: number, name: string, kind: FastLayerKind, stride: number, cin: number, cout: number, relu: boolean, scale = 1): FastLayer {
  const weightShape: [number, number, number, number] = kind === 'convT' ? [cin, cout, 3, 3] : [cout, cin, 3, 3];
  return {
    name, kind, kernel: 3, stride, cin, cout, relu,
    weight: randn(numel(weightShape), seed, 0.3),
    weightShape,
    scale: randn(cout, seed + 1, 0.2).map((v) => scale * (1 + v)),
    shift: randn(cout, seed + 2, 0.1),
  };
}

type Up = 'convT' | 'upconv' | 'upconv-reflect';

function tinyNetwork(variant: Up): FastCheckpoint {
  const up = variant === 'convT' ? 'convT' : 'upconv';
  const layers = [
    tinyLayer(110, 'conv1', 'conv', 1, 3, 4, true),
    tinyLayer(120, 'conv2', 'conv', 2, 4, 4, true),
    tinyLayer(130, 'res1a', 'conv', 1, 4, 4, true),
    tinyLayer(140, 'res1b', 'conv', 1, 4, 4, false),
    tinyLayer(150, 'up1', up, 2, 4, 4, true),
    // a small output scale keeps tanh(x)·150 + 127.5 mostly inside the final clip to 0..255
    tinyLayer(160, 'out', 'conv', 1, 4, 3, false, 0.4),
  ].map((l): FastLayer => (variant === 'upconv-reflect' ? { ...l, pad: 'reflect' } : l));
  return { dir: '', name: `tiny-${variant}`, layers, params: layers.reduce((n, l) => n + l.weight.length + 2 * l.cout, 0) };
}

function setup(up: Up) {
  const { graph: g, input, output, params } = buildFastGraph(tinyNetwork(up), { batch: 2, height: 16, width: 16, params: 'input' });
  const r = g.constant('r', randn(numel(output.shape), 7), output.shape);
  const loss = g.output(g.add1('Dot', [output, r], {}, 'loss'));
  const grads = gradients(g, loss, params.map((p) => p.value));
  for (const gv of grads) g.output(gv);
  const feeds: Record<string, Float32Array> = { [input.name]: randn(numel(input.shape), 8, 60).map((v) => v + 127.5) };
  for (const p of params) feeds[p.value.name] = p.data;
  return { g, loss, grads, params, feeds };
}

for (const up of ['convT', 'upconv', 'upconv-reflect'] as const) {
  test(`tiny fast network (${up} upsampling): every parameter gradient matches finite differences`, () => {
    const { g, loss, grads, params, feeds } = setup(up);
    assert.equal(params.length, 18, 'weight, scale and shift of 6 layers');
    assert.ok(!g.nodes.some((n) => n.outputs.some((o) => o.name === 'conv1_dx')), 'no data gradient of the input photo is built');
    if (up !== 'upconv-reflect') return assertGradientsMatchFd(g, loss, params.map((p) => p.value), grads, feeds, `tiny ${up} network`);
    assert.equal(g.nodes.filter((n) => n.op === 'ReflectPad').length, 6, 'each conv pads by mirroring');
    // with mirrored borders a constant added to a channel before a conv shifts each output channel by a constant,
    // which the next instance norm removes: res1b's shift (added to the residual stream, into up1) has zero gradient
    const dead = params.findIndex((p) => p.value.name === 'res1b_shift');
    const [d] = evaluate(g, feeds, [grads[dead]]);
    assert.ok(Math.max(...d.map(Math.abs)) < 1e-9, `d/dres1b_shift = [${[...d]}], not zero`);
    const live = params.filter((_, k) => k !== dead);
    assertGradientsMatchFd(g, loss, live.map((p) => p.value), grads.filter((_, k) => k !== dead), feeds, `tiny ${up} network`);
  });

  test(`tiny fast network (${up} upsampling): onnxruntime's loss and parameter gradients match the reference`, async () => {
    const { g, loss, grads, params, feeds } = setup(up);
    // the reflect variant's zero gradient (above) has no scale to compare against: its rounding is all there is
    const live = grads.filter((_, k) => up !== 'upconv-reflect' || params[k].value.name !== 'res1b_shift');
    await assertOrtMatchesReference(g, loss, live, feeds, 1e-4);
  });
}

test('the stability term w·mean((f(x + noise) − f(x))²): value against two separate runs, parameter gradients against finite differences', async () => {
  const net = tinyNetwork('upconv');
  const w = 3;
  const spec = { weights: undefined as never, contentLayers: [], styleLayers: [], contentWeight: 0, styleWeight: 0, tvWeight: 0, pool: 'max' as const, stabilityWeight: w };
  const tg = buildTrainGraph(net, spec, 2, 16);
  assert.ok(tg.perturbed && tg.terms.stability && !tg.terms.content && !tg.terms.style && !tg.terms.tv);
  const x = randn(2 * 3 * 16 * 16, 8, 60).map((v) => Math.min(255, Math.max(0, v + 127.5)));
  const xn = withNoise(x, 8, 11);
  const feeds: Record<string, Float32Array> = { [tg.input.name]: x, [tg.perturbed.name]: xn };
  for (const p of tg.params) feeds[p.value.name] = p.data;
  // the same network with its weights as constants, run on x and on x + noise on their own
  const inf = buildFastGraph(net, { batch: 2, height: 16, width: 16 });
  const [fx] = evaluate(inf.graph, { [inf.input.name]: x }, [inf.output]);
  const [fxn] = evaluate(inf.graph, { [inf.input.name]: xn }, [inf.output]);
  let want = 0;
  for (let i = 0; i < fx.length; i++) want += (fxn[i] - fx[i]) ** 2;
  want = (w * want) / fx.length;
  assert.ok(want > 1, `the noise changes the output (term ${want})`);
  const byName = (n: string) => tg.graph.outputs.find((v) => v.name === n)!;
  const [got, total] = evaluate(tg.graph, feeds, [byName(tg.terms.stability), byName(tg.total)]);
  assert.ok(Math.abs(got[0] - want) <= 1e-9 * want, `stability ${got[0]} vs ${want} from two runs`);
  assert.equal(total[0], got[0]);
  const grads = tg.grads.map(byName);
  // the term is a difference of two near-equal outputs, so its gradient is small beside their curvature: a step of
  // 1e-4 leaves a 0.6% truncation error here (the float64 reference affords 1e-6, within 1e-6 of the analytic)
  assertGradientsMatchFd(tg.graph, byName(tg.total), tg.params.map((p) => p.value), grads, feeds, 'stability term', 1e-6, 1e-6);
  await assertOrtMatchesReference(tg.graph, byName(tg.total), grads, feeds, 1e-4);
});
