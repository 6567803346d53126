// Spatial control (issue 17) through stylize() at tiny sizes: a white mask is the plain loss, pixels
// outside a hard mask keep the content (guided: exactly; blend: within one grey level past the feather),
// two styles on two halves each match their own, soft edges leave no seam, and the options that go
// with masks (multi-scale, original colours, fast mode) keep the uncovered pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { stylize, type RgbImage, type StylizeOptions } from '../src/index.js';
import { readImage, resizeTo } from '../src/image/io.js';
import { toCaffe } from '../src/image/caffe.js';
import { decodeMask, resizeMask } from '../src/image/mask.js';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { nodeRuntime } from '../src/runtime/session.js';
import { computeTargets } from '../src/transfer/targets.js';
import { featherSigma } from '../src/transfer/masks.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { leftHalf, maskPng, rightHalf, softLeft } from './helpers/masks.js';
import { readFile } from 'node:fs/promises';

const IMAGES = path.join(ASSETS, 'images');
const CHELSEA = path.join(IMAGES, 'chelsea.png');
const STARRY = path.join(IMAGES, 'starry_night.jpg');
const WAVE = path.join(IMAGES, 'great_wave.jpg');
const STYLE_LAYERS = ['conv1_1', 'conv2_1', 'conv3_1'];

const opts = (extra: Partial<StylizeOptions>): StylizeOptions => ({ content: CHELSEA, styles: [STARRY], weights: VGG_PARTIAL, size: 48, iters: 6, threads: 1, optimizer: 'adam', ...extra });

/** The content at the output's size (the run's own resize). */
async function contentAt(img: RgbImage): Promise<RgbImage> {
  const { resizeLongSide } = await import('../src/image/io.js');
  return resizeLongSide(await readImage(CHELSEA), Math.max(img.width, img.height));
}

/** The mask file at the output's size, as the run resizes it. */
async function maskAt(file: string, img: RgbImage) {
  return resizeMask(await decodeMask(await readFile(file), file), img.width, img.height);
}

/** Max |a - b| over the pixels where keep(pixel index) holds, and how many there are. */
function maxDiff(a: RgbImage, b: RgbImage, keep: (k: number) => boolean): { max: number; n: number } {
  let max = 0;
  let n = 0;
  for (let k = 0; k < a.width * a.height; k++) {
    if (!keep(k)) continue;
    n++;
    for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(a.data[3 * k + c] - b.data[3 * k + c]));
  }
  return { max, n };
}

test('an all-white mask gives the plain run: same loss history (guided Gram with m = 1 is the Gram)', async (t) => {
  const white = await maskPng('white.png', () => 1);
  const [plain, masked] = [await stylize(opts({})), await stylize(opts({ mask: white }))];
  plain.lossHistory.forEach((v, k) => assert.ok(Math.abs(masked.lossHistory[k] - v) <= 1e-6 * v, `iteration ${k + 1}: ${masked.lossHistory[k]} vs ${v}`));
});

test('guided mode: outside a hard mask the output is the content (0 grey levels), inside it is stylised', async (t) => {
  const file = await leftHalf();
  const r = await stylize(opts({ mask: file }));
  const content = await contentAt(r.image);
  const m = await maskAt(file, r.image);
  const outside = maxDiff(r.image, content, (k) => m.data[k] === 0);
  const inside = maxDiff(r.image, content, (k) => m.data[k] === 1);
  t.diagnostic(`guided: max |out - content| outside ${outside.max}, inside ${inside.max} levels`);
  assert.ok(outside.n > 0.4 * m.data.length && inside.n > 0.4 * m.data.length, `${outside.n} / ${inside.n} pixels`);
  assert.ok(outside.max <= 1, `outside the mask the output differs from the content by up to ${outside.max} levels`);
  assert.ok(inside.max >= 20, `inside the mask it changed by at most ${inside.max} levels: not stylised`);
});

test('blend mode: past the feathered edge the output is within one grey level of the content', async (t) => {
  const file = await leftHalf();
  const r = await stylize(opts({ mask: file, maskMode: 'blend' }));
  const content = await contentAt(r.image);
  const w = r.image.width;
  const edge = w / 2;
  const reach = Math.ceil(3 * featherSigma(w, r.image.height)) + 3; // the Gaussian's 3σ plus Lanczos' lobes
  const outside = maxDiff(r.image, content, (k) => k % w >= edge + reach);
  const inside = maxDiff(r.image, content, (k) => k % w < edge - reach);
  t.diagnostic(`blend: max |out - content| past the feather ${outside.max}, inside ${inside.max} levels`);
  assert.ok(outside.max <= 1, `past the feather the output differs from the content by up to ${outside.max} levels`);
  assert.ok(inside.max >= 20, `inside it changed by at most ${inside.max} levels`);
});

/** Σ_l |A_l − B_l|² / |B_l|² over the style layers. */
function gramDistance(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let d = 0;
  for (const l of STYLE_LAYERS) {
    const x = a.get(l)!;
    const y = b.get(l)!;
    let num = 0;
    let den = 0;
    for (let i = 0; i < x.length; i++) {
      num += (x[i] - y[i]) ** 2;
      den += y[i] ** 2;
    }
    d += num / den;
  }
  return d;
}

test('two styles on two halves: each half\'s guided Gram is nearer its own style\'s Gram than the other\'s', async (t) => {
  const [left, right] = [await leftHalf(), await rightHalf()];
  const r = await stylize(opts({ styles: [STARRY, WAVE], styleMasks: [left, right], iters: 20 }));
  const weights = await loadVggWeights(VGG_PARTIAL);
  const session = { threads: 1 };
  const tensor = (img: RgbImage) => ({ data: toCaffe(img), width: img.width, height: img.height });
  const gramsOf = async (img: RgbImage, region?: Awaited<ReturnType<typeof maskAt>>) =>
    (await computeTargets(weights, tensor(img), [tensor(img)], [1], [], STYLE_LAYERS, 'max', { ...session, runtime: nodeRuntime }, { styleRegions: [region ?? null] })).style;
  const { resizeLongSide } = await import('../src/image/io.js');
  const style = async (f: string) => gramsOf(await resizeLongSide(await readImage(f), 48));
  const [gStarry, gWave] = [await style(STARRY), await style(WAVE)];
  const [gLeft, gRight] = [await gramsOf(r.image, await maskAt(left, r.image)), await gramsOf(r.image, await maskAt(right, r.image))];
  const d = { leftOwn: gramDistance(gLeft, gStarry), leftOther: gramDistance(gLeft, gWave), rightOwn: gramDistance(gRight, gWave), rightOther: gramDistance(gRight, gStarry) };
  t.diagnostic(`Gram distances ${JSON.stringify(d)}`);
  assert.ok(d.leftOwn < d.leftOther, `left half: ${JSON.stringify(d)}`);
  assert.ok(d.rightOwn < d.rightOther, `right half: ${JSON.stringify(d)}`);
});

test('style masks with --style-blend-weights weigh the regions (a weight of 0 leaves that region to the content loss)', async () => {
  const [left, right] = [await leftHalf(), await rightHalf()];
  const r = await stylize(opts({ styles: [STARRY, WAVE], styleMasks: [left, right], styleBlendWeights: [2, 0], iters: 3 }));
  for (const v of r.lossHistory) assert.ok(Number.isFinite(v) && v > 0, `loss ${v}`);
});

/** Mean over rows and channels of |out[i, j+1] − out[i, j]|, per column j. */
function columnSteps(img: RgbImage): number[] {
  const { width: w, height: h } = img;
  return Array.from({ length: w - 1 }, (_, j) => {
    let s = 0;
    for (let i = 0; i < h; i++) for (let c = 0; c < 3; c++) s += Math.abs(img.data[3 * (i * w + j + 1) + c] - img.data[3 * (i * w + j) + c]);
    return s / (3 * h);
  });
}

test('a soft edge leaves no seam: the steps across the ramp are no larger than those of the stylised part', async (t) => {
  const file = await softLeft(0.3);
  const r = await stylize(opts({ mask: file, size: 64, iters: 10 }));
  const content = await contentAt(r.image);
  const m = await maskAt(file, r.image);
  const w = r.image.width;
  const steps = columnSteps(r.image);
  const base = columnSteps(content);
  const col = (j: number) => m.data[j]; // the mask depends on the column only
  // the excess over the content's own steps, in the ramp and in the fully stylised part
  const excess = steps.map((s, j) => s - base[j]);
  const ramp = excess.filter((_, j) => col(j) > 0.05 && col(j + 1) < 0.95);
  const styled = excess.filter((_, j) => col(j) === 1 && col(j + 1) === 1);
  assert.ok(ramp.length >= 8 && styled.length >= 8, `${ramp.length} ramp / ${styled.length} stylised columns of ${w}`);
  const maxRamp = Math.max(...ramp);
  const maxStyled = Math.max(...styled);
  t.diagnostic(`largest column step above the content's: ${maxRamp.toFixed(2)} across the ramp, ${maxStyled.toFixed(2)} in the stylised part`);
  assert.ok(maxRamp <= maxStyled, `largest step across the soft edge ${maxRamp.toFixed(2)} levels above the content's vs ${maxStyled.toFixed(2)} inside the stylised part`);
});

test('with multi-scale and --original-colors the uncovered pixels keep the content', async () => {
  const file = await leftHalf();
  const r = await stylize(opts({ mask: file, scales: 2, minSize: 32, scaleIters: [3, 3], originalColors: true }));
  const content = await contentAt(r.image);
  const m = await maskAt(file, r.image);
  const outside = maxDiff(r.image, content, (k) => m.data[k] === 0);
  assert.ok(outside.max <= 1, `outside the mask: up to ${outside.max} levels`);
});

test('fast mode: --mask composites the network output over the content', async () => {
  const { fastStylize } = await import('../src/fast/stylize-fast.js');
  const file = await leftHalf();
  const model = path.join(ASSETS, 'fast-style', 'wave');
  const out = await fastStylize(CHELSEA, model, { size: 48, threads: 1, mask: file });
  const plain = await fastStylize(CHELSEA, model, { size: 48, threads: 1 });
  const content = await resizeTo(await readImage(CHELSEA), out.width, out.height);
  const m = await maskAt(file, out);
  assert.ok(maxDiff(out, content, (k) => m.data[k] === 0).max === 0, 'outside: the content');
  assert.ok(maxDiff(out, plain, (k) => m.data[k] === 1).max === 0, 'inside: the network output');
});
