// Colour preservation (output chroma = content chroma within 8-bit round-off) and colour matching
// (style statistics moved to the content's), on their own and through stylize().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { colorStats, matchColors, preserveColors, rgbToYcbcr } from '../src/image/color.js';
import { readImage, resizeLongSide } from '../src/image/io.js';
import { stylize } from '../src/transfer/stylize.js';
import type { RgbImage } from '../src/image/types.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';

const img = (f: string) => readImage(path.join(ASSETS, 'images', f));

/** Max |chroma(a) - chroma(b)| over pixels where `a` was not clipped (channels strictly inside 0..255). */
function chromaError(a: RgbImage, b: RgbImage): { max: number; checked: number } {
  let max = 0;
  let checked = 0;
  for (let k = 0; k < a.data.length; k += 3) {
    if ([0, 1, 2].some((i) => a.data[k + i] === 0 || a.data[k + i] === 255)) continue;
    const [, cb1, cr1] = rgbToYcbcr(a.data[k], a.data[k + 1], a.data[k + 2]);
    const [, cb2, cr2] = rgbToYcbcr(b.data[k], b.data[k + 1], b.data[k + 2]);
    max = Math.max(max, Math.abs(cb1 - cb2), Math.abs(cr1 - cr2));
    checked++;
  }
  return { max, checked };
}

test('preserveColors: chroma from the content, luminance from the stylised image (within round-off)', async () => {
  const content = await resizeLongSide(await img('chelsea.png'), 64);
  const stylised = await resizeLongSide(await img('starry_night.jpg'), 64).then((s) => ({ ...s, height: content.height, data: s.data.slice(0, content.data.length) }));
  const out = preserveColors(stylised, content);
  const { max, checked } = chromaError(out, content);
  assert.ok(checked > 0.8 * content.width * content.height, `only ${checked} unclipped pixels`);
  assert.ok(max <= 1.0, `chroma differs by up to ${max} levels`);
  let lumaErr = 0;
  for (let k = 0; k < out.data.length; k += 3) {
    if ([0, 1, 2].some((i) => out.data[k + i] === 0 || out.data[k + i] === 255)) continue;
    lumaErr = Math.max(lumaErr, Math.abs(rgbToYcbcr(out.data[k], out.data[k + 1], out.data[k + 2])[0] - rgbToYcbcr(stylised.data[k], stylised.data[k + 1], stylised.data[k + 2])[0]));
  }
  assert.ok(lumaErr <= 1.0, `luma differs by up to ${lumaErr}`);
});

test("matchColors: the style's colour mean and covariance become the content's", async () => {
  const content = await resizeLongSide(await img('chelsea.png'), 96);
  const style = await resizeLongSide(await img('starry_night.jpg'), 96);
  const before = colorStats(style);
  const target = colorStats(content);
  const after = colorStats(matchColors(style, content));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(after.mean[i] - target.mean[i]) < 1.5, `mean ${i}: ${after.mean[i]} vs ${target.mean[i]}`);
  const scale = Math.max(...target.cov.map(Math.abs));
  const err = Math.max(...after.cov.map((v, k) => Math.abs(v - target.cov[k])));
  const errBefore = Math.max(...before.cov.map((v, k) => Math.abs(v - target.cov[k])));
  assert.ok(err < 0.05 * scale, `covariance error ${err} of ${scale}`);
  assert.ok(errBefore > 4 * err, 'the statistics actually moved');
});

test('stylize({ originalColors }) keeps the content chroma; colorMatch runs', async () => {
  // 16 iterations: the best iterate of 8 has barely left the content (chroma change ~2); the colours
  // that 8 iterations used to change were the saturated pixels of an overshooting last L-BFGS step.
  const base = { content: path.join(ASSETS, 'images', 'chelsea.png'), styles: [path.join(ASSETS, 'images', 'starry_night.jpg')], weights: VGG_PARTIAL, size: 40, iters: 16, threads: 1 };
  const r = await stylize({ ...base, originalColors: true });
  const content = await resizeLongSide(await img('chelsea.png'), 40);
  const { max } = chromaError(r.image, content);
  assert.ok(max <= 1.0, `chroma differs by up to ${max}`);
  const plain = await stylize(base);
  assert.ok(chromaError(plain.image, content).max > 5, 'without the flag the colours change');
  const matched = await stylize({ ...base, colorMatch: true });
  assert.notDeepEqual(matched.image.data, plain.image.data);
});
