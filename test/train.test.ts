// styleloom train: two Adam steps of a tiny network against PyTorch's (test/fixtures/train-golden.json from
// tools/make-train-golden.py), the batched Gram's gradient, the loss falling on 32 px crops, --resume giving the
// same bytes as a straight run, the fast loader reading the network file, and every bad input as one line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Graph, numel } from '../src/graph/ir.js';
import { gradients } from '../src/graph/autodiff.js';
import { buildTargetGraph } from '../src/loss/gatys.js';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { parseSafetensors } from '../src/model/safetensors-format.js';
import { encodeSafetensors } from '../src/model/safetensors-write.js';
import { createRunner } from '../src/runtime/session.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { toCaffe } from '../src/image/caffe.js';
import { flattenParams, layerShapes, type Architecture } from '../src/train/architecture.js';
import { createTrainStep, trainingAdam } from '../src/train/trainer.js';
import { trainNetwork } from '../src/train/train.js';
import { loadFastCheckpoint } from '../src/fast/checkpoint.js';
import type { FastCheckpoint } from '../src/fast/checkpoint-format.js';
import { VGG_PARTIAL, maxRelErr, relErr } from './helpers/fixtures.js';
import { assertGradientsMatchFd } from './helpers/gradcheck.js';
import { randn } from './helpers/rand.js';
import { assertOneLineError, BIN, CHELSEA, cliEnv, IMAGES, runCli, showRun, STARRY, tempDir } from './helpers/cli.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const GOLDEN = path.resolve(here, '..', '..', 'test', 'fixtures', 'train-golden.json');
const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

interface Golden {
  layers: { name: string }[];
  size: number;
  batch: number;
  content_layers: string[];
  style_layers: string[];
  content_weight: number;
  style_weight: number;
  tv_weight: number;
  lr: number;
  params: Record<string, number[]>;
  crops: number[];
  style: { height: number; width: number; rgb: number[] };
  steps: { loss: Record<'content' | 'style' | 'tv' | 'total', number>; grads: Record<string, number[]> }[];
  final_params: Record<string, number[]>;
}

test('two Adam steps of a tiny network match PyTorch (loss, every gradient, updated weights within 1e-4)', async () => {
  const G = JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as Golden;
  const arch: Architecture = { name: 'johnson2016', width: 'custom', upsample: 'resize', channels: [4, 4, 4], residualBlocks: 1 };
  const shapes = layerShapes(arch);
  assert.deepEqual(shapes.map((l) => l.name), G.layers.map((l) => l.name));
  const net: FastCheckpoint = {
    dir: '', name: 'golden', params: 0,
    layers: shapes.map((l) => ({
      ...l, weightShape: [l.cout, l.cin, l.kernel, l.kernel],
      weight: Float32Array.from(G.params[`${l.name}.weight`]), scale: Float32Array.from(G.params[`${l.name}.scale`]), shift: Float32Array.from(G.params[`${l.name}.shift`]),
    })),
  };
  const flat = flattenParams(net);
  const weights = await loadVggWeights(VGG_PARTIAL);
  const spec = { weights, contentLayers: G.content_layers, styleLayers: G.style_layers, contentWeight: G.content_weight, styleWeight: G.style_weight, tvWeight: G.tv_weight, pool: 'max' as const };
  const style = { data: Uint8Array.from(G.style.rgb), width: G.style.width, height: G.style.height };
  const tg = buildTargetGraph(weights, style.height, style.width, [], G.style_layers, 'max');
  const tr = await createRunner(toOnnx(tg), { threads: 1 });
  const t = await tr.run({ image: { data: toCaffe(style), dims: [1, 3, style.height, style.width] } });
  await tr.release();
  const grams = new Map(G.style_layers.map((l) => [l, t[`gram_${l}`]]));
  const step = await createTrainStep(net, spec, G.batch, G.size, grams, { threads: 1 });
  const adam = trainingAdam(G.lr);
  const grad = new Float32Array(flat.length);
  const crops = Float32Array.from(G.crops);
  try {
    for (const ref of G.steps) {
      const loss = await step.evaluate(crops, grad);
      for (const k of ['content', 'style', 'tv', 'total'] as const) assert.ok(relErr(loss[k], ref.loss[k]) < 1e-4, `${k}: ${loss[k]} vs torch ${ref.loss[k]}`);
      let o = 0;
      for (const l of net.layers) {
        for (const part of ['weight', 'scale', 'shift'] as const) {
          const want = ref.grads[`${l.name}.${part}`];
          const err = maxRelErr(grad.subarray(o, o + want.length), want);
          assert.ok(err < 1e-4, `d/d ${l.name}.${part}: max error ${err} of max |torch|`);
          o += want.length;
        }
      }
      adam.step(flat, loss.total, grad);
    }
  } finally {
    await step.release();
  }
  for (const l of net.layers) {
    for (const part of ['weight', 'scale', 'shift'] as const) {
      const want = G.final_params[`${l.name}.${part}`];
      const err = maxRelErr(l[part], want);
      assert.ok(err < 1e-4, `${l.name}.${part} after two steps: ${err}`);
      assert.ok(maxRelErr(l[part], G.params[`${l.name}.${part}`]) > 1e-6, `${l.name}.${part} moved`);
    }
  }
});

test('Gram of a batch (one per image) and its gradient match finite differences', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3, 4, 5]);
  const gm = g.gram(x, 'gram');
  assert.deepEqual(gm.shape, [2, 3, 3]);
  const t = g.constant('t', randn(18, 3, 0.5), [2, 3, 3]);
  const loss = g.output(g.mse(gm, t, 'loss'));
  const [dx] = gradients(g, loss, [x]);
  assertGradientsMatchFd(g, loss, [x], [dx], { x: randn(numel(x.shape), 4) }, 'batched gram');
});

describe('training runs', { concurrency: 1 }, () => {
  let dir: string;
  let photos: string;
  const base = () => ({ style: STARRY, images: photos, weights: VGG_PARTIAL, size: 32, batch: 2, threads: 1, seed: 3 });
  before(() => {
    dir = tempDir('styleloom-train-');
    photos = path.join(dir, 'photos');
    fs.mkdirSync(path.join(photos, 'sub'), { recursive: true });
    PHOTOS.forEach((p, k) => fs.symlinkSync(path.join(IMAGES, p), path.join(photos, k % 2 ? 'sub' : '', p)));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the loss falls over a few iterations on 32 px crops; the network file loads in fast mode', async () => {
    const out = path.join(dir, 'falls.safetensors');
    const r = await trainNetwork({ ...base(), out, iters: 10, lr: 0.01, saveEvery: 0 }, { onWarning: () => {} });
    assert.equal(r.lossHistory.length, 10);
    assert.equal(r.photos, 4);
    const mean = (a: number[]) => a.reduce((p, v) => p + v, 0) / a.length;
    assert.ok(mean(r.lossHistory.slice(-3)) < 0.5 * mean(r.lossHistory.slice(0, 3)), `loss ${r.lossHistory.map((v) => v.toExponential(2)).join(' ')}`);
    const net = await loadFastCheckpoint(out);
    assert.equal(net.layers.length, 16);
    const meta = parseSafetensors(fs.readFileSync(out), out).metadata;
    assert.equal(JSON.parse(meta.training_set).length, 4);
    assert.match(meta.style_sha256, /^[0-9a-f]{64}$/);
    assert.equal(JSON.parse(meta.architecture).width, 'half');
    assert.ok(meta.licence.length > 0);
    const f = await runCli(['fast', '--model', out, '--content', CHELSEA, '--size', '48', '--out', path.join(dir, 'fast.png')]);
    assert.equal(f.code, 0, showRun(f));
  });

  test('--resume continues bit for bit, along the learning-rate schedule: 2 + 2 iterations give the same file as 4', async () => {
    const straight = path.join(dir, 'straight.safetensors');
    const split = path.join(dir, 'split.safetensors');
    const quiet = { onWarning: () => {} };
    const lrs: number[] = [];
    await trainNetwork({ ...base(), out: straight, iters: 4, saveEvery: 0, networkWidth: 'half', upsample: 'transposed', lrHalfLife: 2 }, { ...quiet, onProgress: (e) => lrs.push(e.lr) });
    // the default lr 1e-3 halving every 2 iterations: 1e-3, 1e-3/√2, 5e-4, 5e-4/√2
    assert.deepEqual(lrs.map((v) => v.toPrecision(6)), [1e-3, 1e-3 / Math.SQRT2, 5e-4, 5e-4 / Math.SQRT2].map((v) => v.toPrecision(6)));
    await trainNetwork({ ...base(), out: split, iters: 2, saveEvery: 2, upsample: 'transposed', lrHalfLife: 2 }, quiet);
    const ckpt = path.join(dir, 'split.ckpt.safetensors');
    assert.ok(fs.existsSync(ckpt));
    const r = await trainNetwork({ resume: ckpt, iters: 4, threads: 1 }, quiet);
    assert.equal(r.lossHistory.length, 4);
    // the same tensors bit for bit, the same metadata but for the seconds the training took
    const [a, b] = [split, straight].map((f) => parseSafetensors(fs.readFileSync(f), f));
    assert.deepEqual([...a.tensors.keys()], [...b.tensors.keys()]);
    for (const [name, t] of a.tensors) assert.ok(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(b.tensors.get(name)!.data.buffer, b.tensors.get(name)!.data.byteOffset, b.tensors.get(name)!.data.byteLength)), `${name} differs from the straight run`);
    const untimed = (m: Record<string, string>) => ({ ...m, training: JSON.stringify({ ...JSON.parse(m.training), seconds: 0 }) });
    assert.deepEqual(untimed(a.metadata), untimed(b.metadata));
    assert.ok(JSON.parse(a.metadata.training).seconds >= 0 && /threads/.test(JSON.parse(a.metadata.training).machine));
  });

  test('{lrHalfLife} changes the updates from the second iteration on: the same first step, then smaller ones', async () => {
    const quiet = { onWarning: () => {} };
    const run = async (name: string, iters: number, lrHalfLife: number) => {
      const out = path.join(dir, name);
      await trainNetwork({ ...base(), out, iters, saveEvery: 0, lrHalfLife, lr: 0.01 }, quiet);
      return parseSafetensors(fs.readFileSync(out), out).tensors;
    };
    const [c1, s1, c2, s2] = [await run('c1.safetensors', 1, 0), await run('s1.safetensors', 1, 0.25), await run('c2.safetensors', 2, 0), await run('s2.safetensors', 2, 0.25)];
    const bits = (t: { data: Float32Array | Uint16Array }) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    for (const [name, t] of c1) assert.ok(bits(t).equals(bits(s1.get(name)!)), `${name}: the first step should not depend on the schedule`);
    // at iteration 2 the lr is 0.01 · 0.5^4: the scheduled run moves the weights about 16x less in its second step
    let moveC = 0;
    let moveS = 0;
    for (const [name, t] of c2) {
      const a = t.data as Float32Array;
      const b = s2.get(name)!.data as Float32Array;
      const one = c1.get(name)!.data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        moveC += Math.abs(a[i] - one[i]);
        moveS += Math.abs(b[i] - one[i]);
      }
    }
    assert.ok(moveS > 0 && moveS < moveC / 8, `second step moved ${moveS} with the schedule, ${moveC} without`);
  });

  test('a network file whose metadata does not match its tensors is refused with one line', async () => {
    const good = path.join(dir, 'falls.safetensors');
    const st = parseSafetensors(fs.readFileSync(good), good);
    const meta = { ...st.metadata };
    // claim transposed-conv upsampling: the up layers' weights would then be [cin, cout, 3, 3]
    meta.architecture = JSON.stringify({ ...JSON.parse(meta.architecture), upsample: 'transposed' });
    meta.layers = JSON.stringify(JSON.parse(meta.layers).map(({ pad, ...l }: { kind: string; pad?: string }) => (l.kind === 'upconv' ? { ...l, kind: 'convT' } : { ...l, pad })));
    const bad = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, Buffer.concat(encodeSafetensors([...st.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), meta)));
    const r = await runCli(['fast', '--model', bad, '--content', CHELSEA, '--size', '32', '--out', path.join(dir, 'never.png')]);
    assertOneLineError(r, { code: 1, match: [/up1\.weight has shape \[32,64,3,3\].*does not match the tensors/] });
    assert.ok(!fs.existsSync(path.join(dir, 'never.png')));
  });

  test('Ctrl-C saves a checkpoint and leaves no network file; --resume goes on from it; a fixed option given with --resume is refused', async () => {
    const out = path.join(dir, 'int.safetensors');
    const args = ['train', '--style', STARRY, '--images', photos, '--weights', VGG_PARTIAL, '--size', '32', '--batch', '2', '--threads', '1', '--iters', '100000', '--print-every', '1', '--out', out];
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (!sent && /iter 3\/100000/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.notEqual(code, 0, stderr);
    const ckpt = path.join(dir, 'int.ckpt.safetensors');
    assert.match(stderr, /checkpoint saved to .*int\.ckpt\.safetensors: continue with styleloom train --resume/);
    assert.ok(!fs.existsSync(out), 'no network file after Ctrl-C');
    const done = JSON.parse(parseSafetensors(fs.readFileSync(ckpt), ckpt).metadata.state).iteration as number;
    assert.ok(done >= 3, `the checkpoint holds ${done} iterations`);
    const refused = await runCli(['train', '--resume', ckpt, '--iters', String(done + 2), '--style-weight', '5']);
    assertOneLineError(refused, { code: 2, match: [/--style-weight cannot be changed when resuming/] });
    assert.ok(!fs.existsSync(out));
    const r = await runCli(['train', '--resume', ckpt, '--iters', String(done + 2), '--threads', '1', '--json']);
    assert.equal(r.code, 0, showRun(r));
    assert.equal(JSON.parse(r.stdout).loss_history.length, done + 2);
    assert.ok(fs.existsSync(out));
  });

  describe('bad input: one line, non-zero exit, nothing at --out', { concurrency: 2 }, () => {
    const cli = (extra: string[], out: string) => runCli(['train', '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '32', '--batch', '2', '--iters', '2', '--threads', '1', '--out', out, ...extra]);
    const cases: [string, () => string[], RegExp][] = [
      ['an empty photo folder', () => ['--images', mk('empty')], /has no files/],
      ['a folder with no readable image', () => ['--images', mk('text', { 'notes.txt': 'hello', 'fake.jpg': 'not a jpeg' })], /none of its 2 files is an image/],
      ['a style that is not an image', () => ['--images', photos, '--style', mkFile('style.png', 'plain text')], /not an image sharp can read/],
      ['a batch and crop the memory cannot hold', () => ['--images', photos, '--size', '4096', '--batch', '512'], /needs about [\d.]+ GiB.*lower --batch or --size/],
      ['a corrupt --resume file', () => ['--resume', mkFile('corrupt.ckpt.safetensors', 'garbage that is no safetensors file')], /corrupt|not a safetensors/],
      ['a foreign --resume file', () => ['--resume', VGG_PARTIAL], /not a styleloom network file/],
    ];
    const mk = (name: string, files: Record<string, string> = {}) => {
      const d = path.join(dir, name);
      fs.mkdirSync(d, { recursive: true });
      for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, f), text);
      return d;
    };
    const mkFile = (name: string, text: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    for (const [what, args, match] of cases) {
      test(what, async () => {
        const out = path.join(dir, `${what.replace(/\W+/g, '-')}.safetensors`);
        const r = await cli(args(), out);
        assertOneLineError(r, { match: [match] });
        assert.notEqual(r.code, 0);
        assert.ok(!fs.existsSync(out), `${out} was written`);
      });
    }
  });
});
