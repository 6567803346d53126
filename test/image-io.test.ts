// Image I/O: decoding real and crafted files to 8-bit RGB, one-line E_INPUT errors for bad inputs,
// Python-compatible resize sizes, and atomic, lossless PNG output with E_OUTPUT/E_USAGE errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import sharp from 'sharp';
import {
  DEFAULT_MAX_PIXELS,
  encodeImage,
  formatForPath,
  longSideDims,
  readImage,
  resizeLongSide,
  resizeTo,
  writeImage,
} from '../src/image/io.js';
import { StyleloomError } from '../src/errors.js';
import type { RgbImage } from '../src/image/types.js';

const SHARED = process.env.STYLELOOM_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared');
const IMAGES = join(SHARED, 'assets/images');
const CHELSEA = join(IMAGES, 'chelsea.png');
const STARRY = join(IMAGES, 'starry_night.jpg');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'styleloom-io-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function fails(code: string, re: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StyleloomError, `not a StyleloomError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), 'message is one line');
    return true;
  };
}

async function sharpRaw(p: string): Promise<Uint8Array> {
  return new Uint8Array(await sharp(p).removeAlpha().raw().toBuffer());
}

function png(pixels: number[], width: number, height: number, channels: 1 | 3 | 4): Promise<Buffer> {
  return sharp(Buffer.from(pixels), { raw: { width, height, channels } }).png().toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A structurally valid PNG whose IHDR claims width x height (8-bit RGB) with a tiny IDAT. */
function craftedPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(4))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

test('decodes chelsea.png: 451x300 RGB, same pixels as sharp raw', async () => {
  const img = await readImage(CHELSEA);
  assert.equal(img.width, 451);
  assert.equal(img.height, 300);
  assert.equal(img.data.length, 451 * 300 * 3);
  assert.equal(Object.getPrototypeOf(img.data), Uint8Array.prototype);
  assert.deepEqual(img.data, await sharpRaw(CHELSEA));
});

test('decodes starry_night.jpg: 1024x640 RGB, same pixels as sharp raw, plausible colours', async () => {
  const img = await readImage(STARRY);
  assert.equal(img.width, 1024);
  assert.equal(img.height, 640);
  assert.deepEqual(img.data, await sharpRaw(STARRY));
  const mean = [0, 0, 0];
  for (let i = 0; i < img.data.length; i++) mean[i % 3] += img.data[i] / (1024 * 640);
  // a dark blue night: blue channel above red on average, nothing saturated overall
  assert.ok(mean[2] > mean[0], `mean RGB ${mean.map((v) => v.toFixed(1)).join(',')}`);
  for (const m of mean) assert.ok(m > 20 && m < 200);
});

test('decodes from a Buffer; names the buffer in errors', async () => {
  const img = await readImage(readFileSync(CHELSEA));
  assert.equal(img.width, 451);
  await assert.rejects(readImage(Buffer.from('not an image'), { name: 'upload' }), fails('E_INPUT', /^upload: not an image/));
});

test('alpha is flattened on white; grey becomes 3 equal channels', async () => {
  // RGBA: opaque red, transparent (black), half-transparent black
  const rgba = await readImage(await png([255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128], 3, 1, 4));
  assert.deepEqual(Array.from(rgba.data.subarray(0, 6)), [255, 0, 0, 255, 255, 255]);
  for (const v of rgba.data.subarray(6)) assert.ok(Math.abs(v - 127) <= 1, `half-transparent black -> ${v}`);
  const grey = await readImage(await png([0, 100, 255], 3, 1, 1));
  assert.deepEqual(Array.from(grey.data), [0, 0, 0, 100, 100, 100, 255, 255, 255]);
});

test('EXIF orientation is applied', async () => {
  // 2x1 image tagged "rotate 90 CW" must come out 1x2.
  const buf = await sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
    .jpeg({ quality: 100 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  const img = await readImage(buf);
  assert.equal(img.width, 1);
  assert.equal(img.height, 2);
});

test('16-bit PNG decodes to 8 bits', async () => {
  const buf = await sharp(Buffer.from([0, 128, 255, 255, 128, 0]), { raw: { width: 2, height: 1, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
  assert.equal((await sharp(buf).metadata()).depth, 'ushort');
  const img = await readImage(buf);
  assert.deepEqual(Array.from(img.data), [0, 128, 255, 255, 128, 0]);
});

test('missing file: E_INPUT "no such file"', async (t) => {
  const p = join(tempDir(t), 'content.png');
  await assert.rejects(readImage(p), fails('E_INPUT', /content\.png: no such file; check the path$/));
});

test('a directory: E_INPUT "is a directory"', async (t) => {
  const d = tempDir(t);
  await assert.rejects(readImage(d), fails('E_INPUT', /: is a directory, not an image; name an image file$/));
});

test('a text file or an empty file: E_INPUT "not an image"', async (t) => {
  const d = tempDir(t);
  writeFileSync(join(d, 'notes.txt'), 'These are my notes.\n');
  await assert.rejects(
    readImage(join(d, 'notes.txt')),
    fails('E_INPUT', /notes\.txt: not an image sharp can read \(PNG, JPEG, WebP, TIFF, GIF, AVIF\); convert it first$/),
  );
  writeFileSync(join(d, 'empty.png'), '');
  await assert.rejects(readImage(join(d, 'empty.png')), fails('E_INPUT', /empty\.png: the file is empty/));
});

for (const [label, src, name] of [
  ['PNG', CHELSEA, 'x.png'],
  ['JPEG', STARRY, 'x.jpg'],
] as const) {
  test(`truncated ${label} (first 60%): E_INPUT "truncated or corrupt"`, async (t) => {
    const bytes = readFileSync(src);
    const p = join(tempDir(t), name);
    writeFileSync(p, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await assert.rejects(
      readImage(p),
      fails('E_INPUT', new RegExp(`${name.replace('.', '\\.')}: the image data is truncated or corrupt; re-export the file$`)),
    );
  });
}

test('corrupt PNG data (bytes flipped mid-stream): E_INPUT', async (t) => {
  const bytes = Buffer.from(readFileSync(CHELSEA));
  for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 64; i++) bytes[i] ^= 0x5a;
  const p = join(tempDir(t), 'bad.png');
  writeFileSync(p, bytes);
  await assert.rejects(readImage(p), fails('E_INPUT', /bad\.png: the image data is truncated or corrupt/));
});

test('PNG whose header claims 100000x100000: E_INPUT with the dimensions and the limit', async (t) => {
  const p = join(tempDir(t), 'huge.png');
  writeFileSync(p, craftedPng(100000, 100000));
  const meta = await sharp(p, { limitInputPixels: false }).metadata();
  assert.equal(meta.width, 100000, 'the crafted header is valid');
  await assert.rejects(
    readImage(p),
    fails('E_INPUT', new RegExp(`huge\\.png: 100000x100000 pixels is more than the limit of ${DEFAULT_MAX_PIXELS}; downscale it first$`)),
  );
  await assert.rejects(readImage(CHELSEA, { maxPixels: 1000 }), fails('E_INPUT', /451x300 pixels is more than the limit of 1000/));
  await assert.rejects(readImage(CHELSEA, { maxPixels: 0 }), fails('E_USAGE', /maxPixels/));
});

test('long-side sizes round like Python (half to even)', () => {
  assert.deepEqual(longSideDims(1024, 640, 256), { width: 256, height: 160 });
  assert.deepEqual(longSideDims(451, 300, 256), { width: 256, height: 170 });
  assert.deepEqual(longSideDims(1024, 640, 300), { width: 300, height: 188 }); // 187.5 -> 188
  assert.deepEqual(longSideDims(12, 5, 6), { width: 6, height: 2 }); // 2.5 -> 2 (Math.round: 3)
  assert.deepEqual(longSideDims(300, 451, 1000), { width: 665, height: 1000 });
  assert.deepEqual(longSideDims(1000, 1, 10), { width: 10, height: 1 }); // never 0
});

test('resizeLongSide: starry night to 256 is 256x160 and keeps the picture', async () => {
  const img = await readImage(STARRY);
  const small = await resizeLongSide(img, 256);
  assert.equal(small.width, 256);
  assert.equal(small.height, 160);
  assert.equal(small.data.length, 256 * 160 * 3);
  // compare with a box-averaged 4x downscale: Lanczos must be close on average
  let err = 0;
  for (let y = 0; y < 160; y++) {
    for (let x = 0; x < 256; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) s += img.data[((4 * y + dy) * 1024 + 4 * x + dx) * 3 + c];
        err += Math.abs(s / 16 - small.data[(y * 256 + x) * 3 + c]);
      }
    }
  }
  assert.ok(err / (256 * 160 * 3) < 12, `mean abs difference to box filter ${err / (256 * 160 * 3)}`);
  assert.equal(await resizeLongSide(small, 256), small, 'no-op at the target size');
  await assert.rejects(resizeLongSide(small, 0), fails('E_USAGE', /size 0/));
  await assert.rejects(resizeLongSide(small, 2.5), fails('E_USAGE', /size 2\.5/));
});

test('resizeTo: exact size, constant image stays constant', async () => {
  const flat: RgbImage = { data: new Uint8Array(10 * 7 * 3).fill(77), width: 10, height: 7 };
  const r = await resizeTo(flat, 23, 4);
  assert.equal(r.width, 23);
  assert.equal(r.height, 4);
  assert.ok(r.data.every((v) => v === 77));
  assert.equal(await resizeTo(flat, 10, 7), flat);
});

test('formatForPath: extensions and E_USAGE for others', () => {
  assert.equal(formatForPath('a/b.PNG'), 'png');
  assert.equal(formatForPath('b.jpg'), 'jpeg');
  assert.equal(formatForPath('b.jpeg'), 'jpeg');
  assert.equal(formatForPath('b.webp'), 'webp');
  assert.throws(() => formatForPath('out.bmp'), fails('E_USAGE', /^out\.bmp: unsupported output extension; use \.png, \.jpg or \.webp$/));
  assert.throws(() => formatForPath('out'), fails('E_USAGE', /unsupported output extension/));
});

test('writeImage PNG round trip is lossless and leaves only the file', async (t) => {
  const d = tempDir(t);
  const img = await resizeLongSide(await readImage(CHELSEA), 64);
  const p = join(d, 'out.png');
  await writeImage(p, img);
  assert.deepEqual(await readImage(p), img);
  await writeImage(p, img); // overwrite
  assert.deepEqual(readdirSync(d), ['out.png']);
});

test('writeImage JPEG and WebP are close to the input', async (t) => {
  const d = tempDir(t);
  const img = await resizeLongSide(await readImage(CHELSEA), 64);
  for (const name of ['out.jpg', 'out.webp']) {
    await writeImage(join(d, name), img, { quality: 95 });
    const back = await readImage(join(d, name));
    assert.equal(back.width, img.width);
    let err = 0;
    for (let i = 0; i < img.data.length; i++) err += Math.abs(back.data[i] - img.data[i]);
    assert.ok(err / img.data.length < 6, `${name}: mean abs error ${err / img.data.length}`);
  }
  assert.deepEqual(readdirSync(d).sort(), ['out.jpg', 'out.webp']);
  await assert.rejects(writeImage(join(d, 'q.jpg'), img, { quality: 0 }), fails('E_USAGE', /quality 0/));
});

test('metadata: PNG text chunks and JPEG EXIF description', async () => {
  const img: RgbImage = { data: new Uint8Array([1, 2, 3, 4, 5, 6]), width: 2, height: 1 };
  const md = { Software: 'styleloom 0.1.0', Settings: 'size=256 iters=200', Title: 'Café ☕' };
  const p = await encodeImage(img, 'png', { metadata: md });
  const comments = (await sharp(p).metadata()).comments ?? [];
  assert.deepEqual(
    Object.fromEntries(comments.map((c) => [c.keyword, c.text])),
    md,
  );
  assert.deepEqual((await readImage(p)).data, img.data, 'text chunks leave the pixels alone');
  const j = await encodeImage(img, 'jpeg', { metadata: md });
  const exif = (await sharp(j).metadata()).exif?.toString('latin1') ?? '';
  assert.ok(exif.includes('"Software":"styleloom 0.1.0"'), 'EXIF ImageDescription holds the JSON');
  await assert.rejects(encodeImage(img, 'png', { metadata: { '': 'x' } }), fails('E_USAGE', /metadata key/));
});

test('writeImage: missing directory -> E_OUTPUT, nothing written', async (t) => {
  const d = tempDir(t);
  const img: RgbImage = { data: new Uint8Array(3), width: 1, height: 1 };
  const p = join(d, 'out', 'x.png');
  await assert.rejects(writeImage(p, img), fails('E_OUTPUT', /out\/x\.png: directory .*out does not exist; create it first$/));
  assert.deepEqual(readdirSync(d), []);
  await assert.rejects(writeImage(join(d, 'x.bmp'), img), fails('E_USAGE', /x\.bmp: unsupported output extension/));
  assert.deepEqual(readdirSync(d), []);
});

test('writeImage onto a directory: E_OUTPUT, no temp file left', async (t) => {
  const d = tempDir(t);
  mkdirSync(join(d, 'taken.png'));
  const img: RgbImage = { data: new Uint8Array(3), width: 1, height: 1 };
  await assert.rejects(writeImage(join(d, 'taken.png'), img), fails('E_OUTPUT', /taken\.png: /));
  assert.deepEqual(readdirSync(d), ['taken.png']);
  assert.deepEqual(readdirSync(join(d, 'taken.png')), []);
});

test('PNG compression level: lossless at every level, smaller at 9 than at 0', async () => {
  const img = await readImage(join(IMAGES, 'chelsea.png'));
  const sizes: number[] = [];
  for (const level of [0, 1, 9]) {
    const png = await encodeImage(img, 'png', { pngCompression: level });
    sizes.push(png.length);
    assert.deepEqual((await readImage(png)).data, img.data, `level ${level}`);
  }
  assert.ok(sizes[2] < sizes[0], `level 9 ${sizes[2]} bytes, level 0 ${sizes[0]}`);
});
