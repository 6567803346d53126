// The CLI's error contract, one test per bad input: exactly one `styleloom: ` line on stderr that
// says what is wrong and what to do, a non-zero exit (2 for usage), and no output file or temp file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { CHELSEA, STARRY, assertNoOutput, assertOneLineError, runCli, showRun, tempDir } from './helpers/cli.js';
import { buildSafetensors, convTensors, rawSafetensors } from './helpers/model-safetensors.js';

/** Bad inputs are written here once; every test writes its output into a directory of its own. */
const inputs = tempDir('styleloom-inputs-');

function input(name: string, bytes: Buffer | string): string {
  const p = path.join(inputs, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** The first `fraction` of a file's bytes. */
function truncatedCopy(src: string, name: string, fraction = 0.6): string {
  const b = fs.readFileSync(src);
  return input(name, b.subarray(0, Math.floor(b.length * fraction)));
}

let crcTable: Uint32Array | undefined;
function crc32(buf: Uint8Array): number {
  if (typeof (zlib as { crc32?: (b: Uint8Array) => number }).crc32 === 'function') return zlib.crc32(buf) >>> 0;
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG whose header claims width x height RGB pixels (8-bit), with a tiny IDAT unless `idat` is false. */
function pngClaiming(width: number, height: number, idat = true): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB; compression, filter, interlace 0
  const chunks = [pngChunk('IHDR', ihdr)];
  if (idat) chunks.push(pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(1 + 3 * 16))));
  chunks.push(pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), ...chunks]);
}

interface Case {
  content?: string;
  style?: string;
  /** null: no --weights flag. */
  weights?: string | null;
  extra?: string[];
  env?: Record<string, string | undefined>;
  /** Output path inside a fresh directory (default o.png). */
  outName?: string;
}

/** Runs a small (32 px, 2 iterations, 1 thread) job with one thing wrong; returns the result and --out. */
async function runCase(c: Case) {
  const dir = tempDir('styleloom-out-');
  const out = path.join(dir, c.outName ?? 'o.png');
  const args = ['--content', c.content ?? CHELSEA, '--style', c.style ?? STARRY];
  if (c.weights !== null) args.push('--weights', c.weights ?? VGG_PARTIAL);
  args.push('--size', '32', '--iters', '2', '--threads', '1', '--print-every', '0', ...(c.extra ?? []), '--out', out);
  const r = await runCli(args, { env: c.env });
  return { r, out, dir };
}

/** Runs the case and checks the whole contract; returns the error line. */
async function expectError(c: Case, code: number, match: (RegExp | string)[]): Promise<string> {
  const { r, out } = await runCase(c);
  const line = assertOneLineError(r, { code, match });
  assertNoOutput(out);
  return line;
}

/** Advice: every message says what to do (a `;`/`—` clause or commander's pointer to --help). */
const ADVICE = /;|—|must be|must not| \(see styleloom --help\)$/;

describe('input images', { concurrency: 2 }, () => {
  test('missing content file', async () => {
    const missing = path.join(inputs, 'no-such-photo.png');
    await expectError({ content: missing }, 1, [missing, /no such file/, /check the path/]);
  });

  test('missing style file', async () => {
    const missing = path.join(inputs, 'no-such-painting.jpg');
    await expectError({ style: missing }, 1, [missing, /no such file/, ADVICE]);
  });

  test('a text file is not an image', async () => {
    const txt = input('notes.png', 'this is not an image\n');
    await expectError({ content: txt }, 1, [txt, /not an image/, /convert/]);
  });

  test('truncated PNG (first 60%)', async () => {
    const png = truncatedCopy(CHELSEA, 'chelsea-truncated.png');
    await expectError({ content: png }, 1, [png, /truncated|corrupt/, ADVICE]);
  });

  test('truncated JPEG (first 60%)', async () => {
    const jpg = truncatedCopy(STARRY, 'starry-truncated.jpg');
    await expectError({ style: jpg }, 1, [jpg, /truncated|corrupt/, ADVICE]);
  });

  test('a PNG header claiming 100000x100000 pixels is refused before decoding', async () => {
    const bomb = input('bomb.png', pngClaiming(100000, 100000));
    const { r, out } = await runCase({ content: bomb });
    assertOneLineError(r, { code: 1, match: [bomb, /100000x100000/, /downscale/] });
    assertNoOutput(out);
    assert.ok(r.ms < 20_000, `took ${r.ms} ms`);
  });

  test('a PNG with IHDR 100000x100000 and no image data at all', async () => {
    const bomb = input('bomb-no-idat.png', pngClaiming(100000, 100000, false));
    await expectError({ style: bomb }, 1, [bomb, ADVICE]);
  });

  test('an image path that is a directory', async () => {
    await expectError({ content: inputs }, 1, [inputs, /directory/, ADVICE]);
  });
});

describe('flags and numbers', { concurrency: 2 }, () => {
  test('unknown flag exits 2', async () => {
    await expectError({ extra: ['--bogus-flag'] }, 2, [/--bogus-flag/, /--help/]);
  });

  test('missing --content exits 2', async () => {
    const dir = tempDir('styleloom-out-');
    const out = path.join(dir, 'o.png');
    const r = await runCli(['--style', STARRY, '--weights', VGG_PARTIAL, '--out', out]);
    assertOneLineError(r, { code: 2, match: [/--content/] });
    assertNoOutput(out);
  });

  test('unknown --optimizer exits 2', async () => {
    await expectError({ extra: ['--optimizer', 'sgd'] }, 2, [/--optimizer/, /sgd/, /lbfgs/]);
  });

  const bad: [string, string][] = [
    ['--size', '0'],
    ['--size', '-5'],
    ['--size', '1.5'],
    ['--size', 'abc'],
    ['--iters', '0'],
    ['--iters', '-3'],
    ['--lr', 'NaN'],
    ['--lr', '-1'],
    ['--lr', '0'],
    ['--lr', 'Infinity'],
    ['--content-weight', '-1'],
    ['--style-weight', 'NaN'],
    ['--style-weight', '-1000'],
    ['--tv-weight', '-1'],
    ['--threads', '0'],
    ['--seed', '-1'],
    ['--save-every', '-1'],
    ['--print-every', '-1'],
  ];
  for (const [flag, value] of bad) {
    test(`${flag} ${value} exits 2`, async () => {
      // `--flag=value` so that a negative number is never taken for a flag
      await expectError({ extra: [`${flag}=${value}`] }, 2, [flag, value, ADVICE]);
    });
  }

  test('--style-blend-weights with a negative weight exits 2', async () => {
    await expectError({ extra: ['--style-blend-weights=-1'] }, 2, [/blend weight/, /-1/]);
  });

  test('--style-blend-weights with the wrong count exits 2', async () => {
    await expectError({ extra: ['--style-blend-weights', '1,2,3'] }, 2, [/--style-blend-weights/, /3 values/, /one weight per style/]);
  });
});

describe('layers and weights', { concurrency: 2 }, () => {
  test('a layer the weights file lacks: the message lists the layers it has', async () => {
    await expectError({ extra: ['--content-layers', 'conv4_2'] }, 1, [
      'conv4_2',
      VGG_PARTIAL,
      /conv1_1,conv1_2,conv2_1,conv2_2,conv3_1,conv3_2,conv3_3,conv3_4/,
      /weights download/,
    ]);
  });

  test('a style layer the weights file lacks', async () => {
    await expectError({ extra: ['--style-layers', 'conv1_1,conv5_1'] }, 1, ['conv5_1', VGG_PARTIAL, /conv3_4/]);
  });

  test('a name that is no VGG-19 layer exits 2', async () => {
    await expectError({ extra: ['--content-layers', 'conv9_9'] }, 2, ['conv9_9', /conv1_1 \.\. conv5_4/]);
  });

  test('corrupt weights: absurd header length (first 8 bytes a huge u64)', async () => {
    const b = Buffer.alloc(64, 0x20);
    b.writeBigUInt64LE(0xffff_ffff_ffffn, 0);
    const file = input('huge-header.safetensors', b);
    await expectError({ weights: file }, 1, [file, /header length/, /download it again/]);
  });

  test('corrupt weights: truncated file (tensor offsets past the end)', async () => {
    const whole = buildSafetensors([...convTensors(0, 8, 3), ...convTensors(2, 8, 8)], { preprocess: 'caffe-bgr' });
    const file = input('truncated.safetensors', whole.subarray(0, whole.length - 100));
    await expectError({ weights: file }, 1, [file, /data section|truncated/, /download it again/]);
  });

  test('corrupt weights: truncated inside the header', async () => {
    const whole = buildSafetensors(convTensors(0, 8, 3), { preprocess: 'caffe-bgr' });
    const file = input('truncated-header.safetensors', whole.subarray(0, 40));
    await expectError({ weights: file }, 1, [file, /header length/, ADVICE]);
  });

  for (const dtype of ['I64', 'Q9']) {
    test(`corrupt weights: dtype ${dtype}`, async () => {
      const wBytes = 8 * 3 * 9 * 8;
      const header = {
        __metadata__: { preprocess: 'caffe-bgr' },
        'features.0.weight': { dtype, shape: [8, 3, 3, 3], data_offsets: [0, wBytes] },
        'features.0.bias': { dtype, shape: [8], data_offsets: [wBytes, wBytes + 64] },
      };
      const file = input(`dtype-${dtype}.safetensors`, rawSafetensors(header, new Uint8Array(wBytes + 64)));
      await expectError({ weights: file }, 1, [file, `"${dtype}"`, /F32/]);
    });
  }

  test('--weights names a missing file', async () => {
    const missing = path.join(inputs, 'no-such-weights.safetensors');
    await expectError({ weights: missing }, 1, [missing, /--weights/, /no such weights file/, /weights download/]);
  });

  test('STYLELOOM_WEIGHTS names a missing file', async () => {
    const missing = path.join(inputs, 'env-weights.safetensors');
    await expectError({ weights: null, env: { STYLELOOM_WEIGHTS: missing } }, 1, [missing, /STYLELOOM_WEIGHTS/]);
  });

  test('no weights anywhere: the message says how to get them', async () => {
    const cache = tempDir('styleloom-empty-cache-');
    await expectError({ weights: null, env: { STYLELOOM_WEIGHTS: undefined, STYLELOOM_CACHE: cache } }, 1, [
      /no VGG-19 weights/,
      path.join(cache, 'vgg19.safetensors'),
      /--weights/,
      /STYLELOOM_WEIGHTS/,
      /styleloom weights download/,
    ]);
  });
});

describe('run-time failures', { concurrency: 2 }, () => {
  test('Adam with --lr 1e30 diverges: names the term, suggests a lower --lr, exit 1, no output', async () => {
    const line = await expectError({ extra: ['--optimizer', 'adam', '--lr', '1e30', '--iters', '5'] }, 1, [
      /the (content|style|tv|total) loss became (NaN|-?Infinity) at iteration \d+/,
      /lower --lr/,
    ]);
    assert.match(line, /diverged/);
  });

  test('--style-weight 1e38 overflows the style term (L-BFGS): names it, suggests what to change', async () => {
    await expectError({ extra: ['--style-weight', '1e38', '--iters', '3', '--save-every', '1'] }, 1, [
      /the style loss became (NaN|-?Infinity)/,
      /--lr/,
      /--style-weight/,
    ]);
  });

  test('output directory missing: refused before anything is loaded', async () => {
    const dir = tempDir('styleloom-out-');
    const out = path.join(dir, 'nodir', 'x.png');
    // the content and the weights are missing too: the output check must come first
    const r = await runCli(['--content', path.join(dir, 'absent.png'), '--style', STARRY, '--weights', path.join(dir, 'absent.safetensors'), '--out', out]);
    assertOneLineError(r, { code: 1, match: [out, /nodir/, /does not exist/, /create it/] });
    assert.ok(!fs.existsSync(path.join(dir, 'nodir')), 'the missing directory must not be created');
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('unsupported output extension (.bmp) exits 2', async () => {
    await expectError({ outName: 'x.bmp' }, 2, [/x\.bmp/, /unsupported output extension/, /\.png/]);
  });

  test('output path that is a directory', async () => {
    const dir = tempDir('styleloom-out-');
    const out = path.join(dir, 'taken.png');
    fs.mkdirSync(out);
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '32', '--iters', '1', '--threads', '1', '--print-every', '0', '--out', out]);
    assertOneLineError(r, { code: 1, match: [out, ADVICE] });
    assert.deepEqual(fs.readdirSync(dir), ['taken.png'], 'no temp file left beside it');
    assert.deepEqual(fs.readdirSync(out), []);
  });

  test('--device cuda without CUDA: one E_DEVICE line, exit 1 (unless CUDA works here)', async () => {
    const { r, out } = await runCase({ extra: ['--device', 'cuda', '--iters', '1'] });
    if (r.code === 0) {
      assert.ok(fs.existsSync(out), `cuda run succeeded but wrote nothing\n${showRun(r)}`);
      return;
    }
    assertOneLineError(r, { code: 1, match: [/CUDA/, /--device cpu/] });
    assertNoOutput(out);
  });
});
