// The training crops: with --crop-scale below 1 each crop covers a drawn share of the photo's short side (checked
// on a ramp photo whose values give each crop's extent), the same seed gives the same crops, and 1 keeps whole-side crops.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { BatchQueue, scanPhotos, type PhotoSet } from '../src/train/dataset.js';
import { Rng } from '../src/util/rng.js';
import { tempDir } from './helpers/cli.js';

let dir: string;
let set: PhotoSet;
const W = 400;
const H = 200;

before(async () => {
  dir = tempDir('styleloom-crops-');
  // red = x / 400 * 255 (one grey level per 1.57 px), green = y / 200 * 255: a crop's extent is read off its values
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      px[(y * W + x) * 3] = Math.round((x / (W - 1)) * 255);
      px[(y * W + x) * 3 + 1] = Math.round((y / (H - 1)) * 255);
    }
  await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toFile(path.join(dir, 'ramp.png'));
  set = await scanPhotos(dir);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The share of the photo's height one crop spans (its green range), for each crop of `n` batches. */
async function crops(minScale: number, seed: number, n: number, size = 16): Promise<{ spans: number[]; data: Float32Array[] }> {
  const q = new BatchQueue(set, new Rng(seed), 2, size, () => {}, 2, minScale);
  const spans: number[] = [];
  const data: Float32Array[] = [];
  for (let b = 0; b < n; b++) {
    const batch = await q.next();
    data.push(batch.data);
    for (let i = 0; i < 2; i++) {
      const g = batch.data.subarray(i * 3 * size * size + size * size, i * 3 * size * size + 2 * size * size);
      const rows = [0, size - 1].map((y) => g.slice(y * size, (y + 1) * size).reduce((a, v) => a + v, 0) / size);
      // centre-to-centre of the first and last row covers (size - 1) / size of the crop
      spans.push(((rows[1] - rows[0]) / 255) * (size / (size - 1)));
    }
  }
  await q.close();
  return { spans, data };
}

test('crop scale 0.3: every crop spans 0.3..1 of the short side, sizes vary, the same seed gives the same bits', async () => {
  const a = await crops(0.3, 5, 12);
  for (const s of a.spans) assert.ok(s > 0.27 && s < 1.02, `a crop spans ${s.toFixed(3)} of the short side`);
  assert.ok(Math.min(...a.spans) < 0.5 && Math.max(...a.spans) > 0.8, `spans ${a.spans.map((s) => s.toFixed(2)).join(' ')}`);
  const b = await crops(0.3, 5, 12);
  a.data.forEach((d, k) => assert.deepEqual(b.data[k], d, `batch ${k} differs with the same seed`));
});

test('crop scale 1: each crop is the whole short side', async () => {
  const { spans } = await crops(1, 5, 4);
  for (const s of spans) assert.ok(Math.abs(s - 1) < 0.03, `a crop spans ${s.toFixed(3)} of the short side`);
});
