// Test helper: mask PNGs of the chelsea photo's shape (90 x 60, aspect 1.5 like 451 x 300), written to a
// temp directory: hard halves, a soft ramp, black, and anything else a test paints with f(x, y) in [0, 1].
import path from 'node:path';
import sharp from 'sharp';
import { tempDir } from './cli.js';

export const MASK_W = 90;
export const MASK_H = 60;
const dir = tempDir('styleloom-masks-');

/** A grey PNG of w x h whose pixel (x, y) is round(255 · f(x / w, y / h)), x and y at pixel centres. */
export async function maskPng(name: string, f: (u: number, v: number) => number, w = MASK_W, h = MASK_H): Promise<string> {
  const data = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = Math.round(255 * Math.min(1, Math.max(0, f((x + 0.5) / w, (y + 0.5) / h))));
  const file = path.join(dir, name);
  await sharp(data, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
  return file;
}

export const leftHalf = () => maskPng('left.png', (u) => (u < 0.5 ? 1 : 0));
export const rightHalf = () => maskPng('right.png', (u) => (u < 0.5 ? 0 : 1));
/** White on the left, black on the right, a linear ramp across the middle `width` (fraction of the width). */
export const softLeft = (width = 0.25) => maskPng(`soft-left-${width}.png`, (u) => (0.5 + width / 2 - u) / width);
