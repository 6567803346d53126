// Bad masks, one test each (issue 17): a mask that is not an image, of another aspect ratio than the
// content, entirely black; style masks that overlap, leave no pixel to a style, or differ in number from
// the styles. Each is one `styleloom: ` line naming the option, a non-zero exit and no output.
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { CHELSEA, GREAT_WAVE, STARRY, assertNoOutput, assertOneLineError, runCli, tempDir } from './helpers/cli.js';
import { leftHalf, maskPng, rightHalf } from './helpers/masks.js';

/** A run at 32 px with `args` added, writing into a directory of its own (which must stay empty). */
async function fails(args: string[], expect: { code: number; match: (RegExp | string)[] }, styles = [STARRY]) {
  const out = path.join(tempDir('styleloom-mask-err-'), 'out.png');
  const r = await runCli(['--content', CHELSEA, '--style', ...styles, '--weights', VGG_PARTIAL, '--size', '32', '--iters', '1', '--threads', '1', '--out', out, ...args]);
  assertOneLineError(r, expect);
  assertNoOutput(out);
}

test('--mask that is not an image', async () => {
  const file = path.join(tempDir('styleloom-mask-txt-'), 'mask.png');
  fs.writeFileSync(file, 'not a picture\n');
  await fails(['--mask', file], { code: 1, match: [file, /not an image/] });
});

test('--mask of another aspect ratio than the content says how to fix it', async () => {
  const file = await maskPng('square.png', (u) => (u < 0.5 ? 1 : 0), 60, 60);
  await fails(['--mask', file], { code: 2, match: ['--mask', '60x60', /aspect 1\.000/, /crop or pad it to the content's shape/] });
});

test('--mask entirely black: nothing to stylise', async () => {
  await fails(['--mask', await maskPng('black.png', () => 0)], { code: 1, match: ['--mask', /entirely black: nothing to stylise/] });
});

test('--style-mask masks that overlap beyond their soft edges', async () => {
  const wide = await maskPng('left-two-thirds.png', (u) => (u < 0.67 ? 1 : 0));
  await fails(['--style-mask', wide, await rightHalf()], { code: 1, match: ['--style-mask 1', 'and 2', /overlap on \d+ pixel/, /give each pixel to one style/] }, [STARRY, GREAT_WAVE]);
});

test('a --style-mask that leaves no pixel to its style', async () => {
  const faint = await maskPng('faint.png', () => 0.3);
  await fails(['--style-mask', await leftHalf(), faint], { code: 1, match: ['--style-mask 2', /leaves no pixel to style 2/] }, [STARRY, GREAT_WAVE]);
});

test('a --style-mask count that differs from the --style count', async () => {
  await fails(['--style-mask', await leftHalf()], { code: 2, match: [/--style-mask has 1 file\(s\) for 2 --style/, /one mask per style/] }, [STARRY, GREAT_WAVE]);
});

test('--mask together with --style-mask, and --mask-mode blend with --style-mask', async () => {
  const [l, r] = [await leftHalf(), await rightHalf()];
  await fails(['--mask', l, '--style-mask', l, r], { code: 2, match: [/either --mask .* or --style-mask/] }, [STARRY, GREAT_WAVE]);
  await fails(['--mask-mode', 'blend', '--style-mask', l, r], { code: 2, match: [/--mask-mode blend composites one --mask/] }, [STARRY, GREAT_WAVE]);
});

test('styleloom fast --mask: entirely black, or of another shape', async () => {
  const model = path.join(ASSETS, 'fast-style', 'wave');
  for (const [mask, code, re] of [[await maskPng('black.png', () => 0), 1, /entirely black: nothing to stylise/], [await maskPng('square.png', (u) => (u < 0.5 ? 1 : 0), 60, 60), 2, /crop or pad it/]] as const) {
    const out = path.join(tempDir('styleloom-mask-err-'), 'out.png');
    const r = await runCli(['fast', '--model', model, '--content', CHELSEA, '--size', '32', '--threads', '1', '--mask', mask, '--out', out]);
    assertOneLineError(r, { code, match: ['--mask', re] });
    assertNoOutput(out);
  }
});

test('--style-region of another shape than its style image, or entirely black', async () => {
  await fails(['--style-region', await leftHalf()], { code: 2, match: ['--style-region 1', /style image 1 is 1024x640/] });
  const black = await maskPng('black-1.6.png', () => 0, 80, 50);
  await fails(['--style-region', black], { code: 1, match: ['--style-region 1', /entirely black/] });
});
