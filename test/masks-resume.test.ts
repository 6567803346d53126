// Masks and resume (issue 17): a masked run stopped and resumed from its serialised state equals the
// uninterrupted run bit for bit; the state records each mask's SHA-256 and path, and refuses a changed
// mask file, or a resume that drops the masks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseState, resumeOptions, serializeState, StyleloomError, stylize, type StylizeOptions } from '../src/index.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { leftHalf, maskPng, rightHalf } from './helpers/masks.js';
import { tempDir } from './helpers/cli.js';

const CHELSEA = path.join(ASSETS, 'images', 'chelsea.png');
const STARRY = path.join(ASSETS, 'images', 'starry_night.jpg');
const WAVE = path.join(ASSETS, 'images', 'great_wave.jpg');

const small = (extra: Partial<StylizeOptions>): StylizeOptions => ({ content: CHELSEA, styles: [STARRY, WAVE], weights: VGG_PARTIAL, size: 32, threads: 1, optimizer: 'adam', ...extra });

async function stateAfter(o: StylizeOptions): Promise<Buffer> {
  let bytes: Buffer | undefined;
  await stylize(o, { onState: (s) => void (s.reason === 'end' && (bytes = serializeState(s))) });
  return bytes!;
}

test('style masks: 3 iterations + resume for 3 more equals 6 iterations bit for bit; the state holds the masks', async () => {
  const styleMasks = [await leftHalf(), await rightHalf()];
  const full = await stylize(small({ styleMasks, iters: 6 }));
  const s = parseState(await stateAfter(small({ styleMasks, iters: 3 })), 'm.state');
  assert.deepEqual(s.options.styleMasks, styleMasks.map((f) => path.resolve(f)));
  assert.equal(s.inputs.styleMasks?.length, 2);
  assert.ok(s.inputs.styleMasks!.every((h) => /^[0-9a-f]{64}$/.test(h!)), 'one SHA-256 per mask');
  const resumed = await stylize(resumeOptions(s, { iters: 6 }));
  assert.ok(Buffer.from(resumed.image.data).equals(Buffer.from(full.image.data)), 'same image bytes');
  assert.deepEqual(resumed.lossHistory, full.lossHistory);
});

test('a changed mask file, or a resume without the masks, is refused with one line', async () => {
  const dir = tempDir('styleloom-mask-resume-');
  const file = path.join(dir, 'mask.png');
  fs.copyFileSync(await leftHalf(), file);
  const s = parseState(await stateAfter(small({ styles: [STARRY], mask: file, iters: 2 })), 'm.state');
  assert.ok(/^[0-9a-f]{64}$/.test(s.inputs.mask!));
  fs.copyFileSync(await maskPng('left-wider.png', (u) => (u < 0.6 ? 1 : 0)), file);
  await assert.rejects(stylize(resumeOptions(s, { iters: 4 })), (e: unknown) => {
    assert.ok(e instanceof StyleloomError && e.code === 'E_INPUT' && !e.message.includes('\n'), String(e));
    assert.match(e.message, /cannot resume: the mask .*mask\.png changed since the state was saved/);
    return true;
  });
  const { mask: _m, ...without } = resumeOptions(s, { iters: 4 });
  await assert.rejects(stylize(without), (e: unknown) => e instanceof StyleloomError && /state was made with 1 mask file\(s\), these options have 0; pass the same mask/.test(e.message));
});
