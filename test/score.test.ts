// scoreImage() and `styleloom score`: the content image scored against itself has content loss 0 and the
// loss stylize starts from (init content, same pixels); per-layer shares sum to the terms; the --json line
// and the table; bad inputs give one line and a non-zero exit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scoreImage } from '../src/transfer/score.js';
import { stylize } from '../src/transfer/stylize.js';
import { readImage } from '../src/image/io.js';
import { VGG_PARTIAL, relErr } from './helpers/fixtures.js';
import { CHELSEA, STARRY, assertOneLineError, runCli, showRun, tempDir } from './helpers/cli.js';

const common = { size: 40, weights: VGG_PARTIAL, threads: 1 };
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

test('the content scored against itself: content loss 0, the loss stylize starts from with init content', async () => {
  const s = await scoreImage({ ...common, content: CHELSEA, styles: [STARRY], image: CHELSEA, styleLayerWeights: [1, 2, 1] });
  assert.equal(s.width, 40);
  assert.ok(Math.abs(s.loss.content) < 1e-6, `content loss ${s.loss.content}`);
  assert.ok(s.loss.style > 0 && s.loss.tv > 0);
  const run = await stylize({ ...common, content: CHELSEA, styles: [STARRY], init: 'content', iters: 1, styleLayerWeights: [1, 2, 1] });
  assert.ok(relErr(s.loss.total, run.lossHistory[0]) < 1e-6, `score total ${s.loss.total} vs stylize's first loss ${run.lossHistory[0]}`);
  assert.ok(relErr(s.loss.style + s.loss.tv, run.lossHistory[0]) < 1e-5);
  assert.deepEqual(Object.keys(s.layers.style), run.styleLayers);
  assert.ok(relErr(sum(s.layers.style), s.loss.style) < 1e-5, 'the style layers sum to the style term');
  assert.deepEqual(s.layers.content, { [run.contentLayers[0]]: s.loss.content });
});

test('another image (decoded pixels: the content mirrored): positive content loss; the weights scale their terms', async () => {
  const c = await readImage(CHELSEA);
  const data = new Uint8Array(c.data.length);
  for (let y = 0; y < c.height; y++)
    for (let x = 0; x < c.width; x++)
      for (let k = 0; k < 3; k++) data[(y * c.width + x) * 3 + k] = c.data[(y * c.width + (c.width - 1 - x)) * 3 + k];
  const mirrored = { data, width: c.width, height: c.height };
  const base = { ...common, content: CHELSEA, styles: [STARRY], image: mirrored, contentLayers: ['conv2_2'] };
  const a = await scoreImage(base);
  const b = await scoreImage({ ...base, contentWeight: 3, tvWeight: 0 });
  assert.ok(a.loss.content > 0);
  assert.ok(relErr(b.loss.content, 3 * a.loss.content) < 1e-5);
  assert.equal(b.loss.tv, 0);
  assert.ok(relErr(b.loss.style, a.loss.style) < 1e-6);
});

describe('styleloom score', { concurrency: 2 }, () => {
  const args = ['score', '--content', CHELSEA, '--style', STARRY, '--weights', VGG_PARTIAL, '--size', '32', '--threads', '1'];

  test('--json prints one line that parses', async () => {
    const r = await runCli([...args, '--image', CHELSEA, '--json']);
    assert.equal(r.code, 0, showRun(r));
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, showRun(r));
    const j = JSON.parse(lines[0]);
    assert.equal(j.image, CHELSEA);
    assert.equal(j.width, 32);
    assert.ok(Math.abs(j.loss.content) < 1e-6 && j.loss.style > 0 && j.loss.tv > 0 && j.loss.total > 0);
    assert.deepEqual(Object.keys(j.style_layers), ['conv1_1', 'conv2_1', 'conv3_1']);
  });

  test('without --json: a table of the terms and layers', async () => {
    const r = await runCli([...args, '--image', CHELSEA, '--style-layers', 'conv1_1,conv2_1']);
    assert.equal(r.code, 0, showRun(r));
    for (const row of ['content', 'style', '  conv1_1', '  conv2_1', 'tv', 'total']) assert.match(r.stdout, new RegExp(`^${row} +\\d`, 'm'), r.stdout);
  });

  const dir = tempDir('styleloom-score-');
  test('a missing --image file', async () => {
    const missing = path.join(dir, 'no-such-result.png');
    assertOneLineError(await runCli([...args, '--image', missing]), { code: 1, match: [missing, /no such file/] });
  });
  test('--image is not an image', async () => {
    const txt = path.join(dir, 'notes.png');
    fs.writeFileSync(txt, 'this is not an image\n');
    assertOneLineError(await runCli([...args, '--image', txt]), { code: 1, match: [txt, /not an image/] });
  });
  test('--image is a directory', async () => {
    assertOneLineError(await runCli([...args, '--image', dir]), { code: 1, match: [/is a directory/] });
  });
  test('a missing --content file', async () => {
    const missing = path.join(dir, 'no-such-photo.png');
    assertOneLineError(await runCli(['score', '--content', missing, '--style', STARRY, '--image', CHELSEA, '--weights', VGG_PARTIAL]), { code: 1, match: [missing] });
  });
  test('no --image', async () => {
    assertOneLineError(await runCli(args), { code: 2, match: ['--image'] });
  });
  test('an image of another shape than the content', async () => {
    assertOneLineError(await runCli([...args, '--image', STARRY]), { code: 2, match: ['--image', /stretched/] });
  });
});
