// Caffe-space conversion: content.png decodes to exactly the fixture's content.f32, the round trip
// is lossless, and rounding back to 8 bits is half-to-even and clipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAFFE_MEAN_BGR, fromCaffe, roundHalfEven, toCaffe } from '../src/image/caffe.js';
import { readImage } from '../src/image/io.js';
import { StyleloomError } from '../src/errors.js';

const SHARED = process.env.STYLELOOM_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared');
const VGG = join(SHARED, 'fixtures/vgg');

function readF32(p: string): Float32Array {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

test('content.png -> toCaffe equals fixtures/vgg/content.f32 bit for bit', async () => {
  const img = await readImage(join(VGG, 'content.png'));
  assert.equal(img.width, 64);
  assert.equal(img.height, 64);
  const x = toCaffe(img);
  const ref = readF32(join(VGG, 'content.f32'));
  assert.equal(x.length, ref.length);
  const a = new Uint32Array(x.buffer);
  const b = new Uint32Array(ref.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`element ${i}: ${x[i]} != ${ref[i]}`);
  }
});

test('fromCaffe(toCaffe(img)) round-trips every 8-bit value in every channel', () => {
  const width = 256;
  const height = 3;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x + 85 * (y + c)) % 256;
    }
  }
  const img = { data, width, height };
  assert.deepEqual(fromCaffe(toCaffe(img), width, height), img);
});

test('toCaffe layout: planar BGR minus the mean', () => {
  // 2x1 image: pixel 0 = (R, G, B) = (10, 20, 30), pixel 1 = (200, 100, 0)
  const x = toCaffe({ data: new Uint8Array([10, 20, 30, 200, 100, 0]), width: 2, height: 1 });
  const expect = [30 - 103.939, 0 - 103.939, 20 - 116.779, 100 - 116.779, 10 - 123.68, 200 - 123.68];
  assert.deepEqual(Array.from(x), expect.map((v) => Math.fround(v)));
  assert.deepEqual([...CAFFE_MEAN_BGR], [103.939, 116.779, 123.68]);
});

test('roundHalfEven matches Python round / numpy rint', () => {
  const cases: [number, number][] = [
    [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, -0], [-1.5, -2], [-2.5, -2],
    [2.4999999999999996, 2], [2.5000000000000004, 3], [254.5, 254], [255.5, 256], [7, 7], [-7.2, -7],
  ];
  for (const [x, r] of cases) assert.equal(roundHalfEven(x) + 0, r + 0, `round(${x})`);
});

test('fromCaffe rounds (float64 sum, half to even) and clips to 0..255', () => {
  // With these means an exact .5 tie cannot arise from a float32 x (the mean's low bits never
  // cancel), so ties are covered by roundHalfEven above; here: near-ties, clipping, NaN.
  const vals = [2.5, 3.5, 2.4999, 2.5001, -0.4, -3, 254.5, 255.4, 300, 127.49, Number.NaN];
  const want = [2, 3, 2, 3, 0, 0, 255, 255, 255, 127, 0]; // what float32 storage leaves of each
  const n = vals.length;
  const x = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    x[i] = -CAFFE_MEAN_BGR[0];
    x[n + i] = 10 - CAFFE_MEAN_BGR[1];
    x[2 * n + i] = vals[i] - CAFFE_MEAN_BGR[2];
  }
  const img = fromCaffe(x, n, 1);
  for (let i = 0; i < n; i++) {
    const sum = x[2 * n + i] + CAFFE_MEAN_BGR[2]; // float64, as numpy does
    const ref = Number.isNaN(sum) ? 0 : Math.min(255, Math.max(0, roundHalfEven(sum)));
    assert.equal(img.data[i * 3], ref, `R for ${vals[i]} (float64 sum ${sum})`);
    assert.equal(img.data[i * 3], want[i], `R for ${vals[i]}`);
    assert.equal(img.data[i * 3 + 1], 10);
    assert.equal(img.data[i * 3 + 2], 0);
  }
});

test('fromCaffe rejects a tensor of the wrong size', () => {
  assert.throws(
    () => fromCaffe(new Float32Array(10), 2, 2),
    (e: unknown) => e instanceof StyleloomError && e.code === 'E_USAGE',
  );
});
