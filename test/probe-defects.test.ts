// Defects a hostile probe of the CLI found (issue 11), one test each: the one-line error, the exit
// status, the input left alone and nothing written. (Resume with changed inputs and L-BFGS overshoot
// are tested in resume.test.ts and stylize.test.ts; NaN weights in vgg19.test.ts.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { CHELSEA, STARRY, assertNoOutput, assertOneLineError, runCli, tempDir } from './helpers/cli.js';
import { buildSafetensors, convTensors } from './helpers/model-safetensors.js';
import { stylize } from '../src/transfer/stylize.js';
import { isErr } from './helpers/errors.js';

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const base = (out: string, extra: string[] = [], content = CHELSEA, style = STARRY) => [
  '--content', content, '--style', style, '--weights', VGG_PARTIAL, '--size', '32', '--iters', '2', '--threads', '1', '--print-every', '0', ...extra, '--out', out,
];

describe('an output that would destroy an input is refused', { concurrency: 2 }, () => {
  test('--out equal to --content: exit 2, the photo unchanged', async () => {
    const dir = tempDir('styleloom-probe-');
    const photo = path.join(dir, 'photo.png');
    fs.copyFileSync(CHELSEA, photo);
    const before = sha(photo);
    const r = await runCli(base(photo, [], photo));
    assertOneLineError(r, { code: 2, match: [/--out/, /is the input image/, /choose another output name/] });
    assert.equal(sha(photo), before, 'the content photo must not be overwritten');
    assert.deepEqual(fs.readdirSync(dir), ['photo.png'], 'no temp file left');
  });

  test('--out naming a style image by another path (./x/../style.png): exit 2', async () => {
    const dir = tempDir('styleloom-probe-');
    const painting = path.join(dir, 'painting.png');
    await sharp(STARRY).resize(64).png().toFile(painting);
    fs.mkdirSync(path.join(dir, 'x'));
    const before = sha(painting);
    const r = await runCli(base(path.join(dir, 'x', '..', 'painting.png'), [], CHELSEA, painting));
    assertOneLineError(r, { code: 2, match: [/is the input image/] });
    assert.equal(sha(painting), before);
  });

  test('styleloom grid and fast refuse it too', async () => {
    const dir = tempDir('styleloom-probe-');
    const photo = path.join(dir, 'photo.png');
    fs.copyFileSync(CHELSEA, photo);
    const before = sha(photo);
    const g = await runCli(['grid', '--content', photo, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '32', '--iters', '1', '--out', photo]);
    assertOneLineError(g, { code: 2, match: [/is the input image/] });
    const f = await runCli(['fast', '--model', path.join(dir, 'no-model'), '--content', photo, '--out', photo]);
    assertOneLineError(f, { code: 2, match: [/is the input image/] });
    assert.equal(sha(photo), before);
  });
});

describe('an output that cannot be written is reported before any work', { concurrency: 2 }, () => {
  test('--out /proc/x.png: "cannot create files", not "does not exist", at once', async () => {
    // a million iterations at 256 px would run for hours: only a check before the work can end it
    const t0 = Date.now();
    const r = await runCli(['--content', CHELSEA, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '256', '--iters', '1000000', '--print-every', '0', '--out', '/proc/styleloom-probe.png'], { timeoutMs: 60_000 });
    const line = assertOneLineError(r, { code: 1, match: [/\/proc\/styleloom-probe\.png/, /cannot create files in \/proc/, /choose another output path/] });
    assert.doesNotMatch(line, /does not exist/);
    assert.ok(Date.now() - t0 < 30_000, 'refused before the run');
  });

  test('--out in a directory without write permission (as a non-root user)', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, async () => {
    const dir = tempDir('styleloom-probe-');
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro, { mode: 0o555 });
    const r = await runCli(base(path.join(ro, 'o.png'), ['--iters', '1000000']), { timeoutMs: 60_000 });
    assertOneLineError(r, { code: 1, match: [/permission denied/] });
  });
});

describe('bad lists and images', { concurrency: 2 }, () => {
  test('--style-blend-weights 1,,2 is refused, not read as 1,2', async () => {
    const dir = tempDir('styleloom-probe-');
    const out = path.join(dir, 'o.png');
    const r = await runCli(base(out, ['--style-blend-weights', '1,,2']));
    assertOneLineError(r, { code: 2, match: [/--style-blend-weights/, /entry 2 of "1,,2" is empty/] });
    assertNoOutput(out);
  });

  test('a 2000x10 content image: one line naming the layer and the minimum side, exit 1', async () => {
    const dir = tempDir('styleloom-probe-');
    const thin = path.join(tempDir('styleloom-probe-in-'), 'thin.png');
    await sharp({ create: { width: 2000, height: 10, channels: 3, background: { r: 120, g: 30, b: 200 } } }).png().toFile(thin);
    const out = path.join(dir, 'o.png');
    const r = await runCli(base(out, ['--size', '512'], thin));
    const line = assertOneLineError(r, { code: 1, match: [thin, /2000x10/, /512x3 px \(long side 512\)/, /layer conv3_2 needs at least 4 px/, /--size/] });
    assert.doesNotMatch(line, /Conv|kernel/);
    assertNoOutput(out);
  });

  test('a thin style image at a small --style-scale is caught the same way', async () => {
    const dir = tempDir('styleloom-probe-');
    const out = path.join(dir, 'o.png');
    const r = await runCli(base(out, ['--style-scale', '0.1'])); // starry 1024x640 at 16 px long side: 16x10 is fine
    assert.equal(r.code, 0, r.stderr);
    const thin = path.join(dir, 'thin-style.png');
    await sharp({ create: { width: 400, height: 20, channels: 3, background: { r: 0, g: 90, b: 200 } } }).png().toFile(thin);
    const r2 = await runCli(base(path.join(dir, 'o2.png'), [], CHELSEA, thin));
    assertOneLineError(r2, { code: 1, match: [/style image 1/, /needs at least 4 px/] });
  });

  test('an --init image of another aspect ratio is refused instead of stretched', async () => {
    const dir = tempDir('styleloom-probe-');
    const square = path.join(tempDir('styleloom-probe-in-'), 'square.png');
    await sharp(CHELSEA).resize(100, 100, { fit: 'fill' }).png().toFile(square);
    const out = path.join(dir, 'o.png');
    const r = await runCli(base(out, ['--init', square]));
    assertOneLineError(r, { code: 2, match: [/--init image/, /100x100/, /451x300/, /stretched/, /crop it/] });
    assertNoOutput(out);
    // the same shape at another size is fine (it is resized, not stretched)
    const same = path.join(path.dirname(square), 'same.png');
    await sharp(CHELSEA).resize(226).png().toFile(same);
    const ok = await runCli(base(path.join(dir, 'ok.png'), ['--init', same]));
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('the library refuses weights holding NaN before any evaluation', async () => {
    const dir = tempDir('styleloom-probe-');
    const [w0, b0] = convTensors(0, 64, 3);
    const file = path.join(dir, 'nan.safetensors');
    fs.writeFileSync(file, buildSafetensors([{ ...w0, data: Array.from(w0.data!, (v, i) => (i === 3 ? NaN : v)) }, b0], { preprocess: 'caffe-bgr' }));
    await assert.rejects(stylize({ content: CHELSEA, styles: [STARRY], weights: file, size: 32, iters: 1, contentLayers: ['conv1_1'], styleLayers: ['conv1_1'] }), isErr('E_WEIGHTS', /holds NaN at element 3/));
  });
});
