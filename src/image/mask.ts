// Masks as images: decoded to one value in [0, 1] per pixel (a PNG's alpha channel when it has
// transparency, else the luminance: white 1, black 0, grey between), resized, feathered, and used to
// composite two RGB images (m·a + (1 − m)·b).
import sharp from 'sharp';
import { optionError, StyleloomError } from '../errors.js';
import type { MaskPlane } from '../loss/regions.js';
import { longSideDims, readImage, readInput } from './io.js';
import type { RgbImage } from './types.js';

export type { MaskPlane } from '../loss/regions.js';

/** The luminance of an RGB image as a mask (Rec. 601 weights, /255). */
export function maskFromRgb(img: RgbImage): MaskPlane {
  const n = img.width * img.height;
  const data = new Float32Array(n);
  for (let k = 0; k < n; k++) data[k] = (0.299 * img.data[3 * k] + 0.587 * img.data[3 * k + 1] + 0.114 * img.data[3 * k + 2]) / 255;
  return { data, width: img.width, height: img.height };
}

/**
 * Decode a mask file's bytes (errors as readImage's, naming `name`): its alpha channel if the image has
 * any transparent pixel, else its luminance.
 */
export async function decodeMask(bytes: Buffer, name: string): Promise<MaskPlane> {
  const rgb = await readImage(bytes, { name });
  const meta = await sharp(bytes).metadata();
  if (meta.hasAlpha) {
    const { data, info } = await sharp(bytes, { autoOrient: true }).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
    if (info.width === rgb.width && info.height === rgb.height && data.some((v) => v < 255)) {
      const out = new Float32Array(data.length);
      for (let k = 0; k < data.length; k++) out[k] = data[k] / 255;
      return { data: out, width: info.width, height: info.height };
    }
  }
  return maskFromRgb(rgb);
}

/** A mask given as a file path, file bytes (`{ file, bytes }`, as a run holds its inputs) or RGB pixels (their luminance). */
export async function decodeHeldMask(src: string | RgbImage | { file: string; bytes: Buffer }, name: string): Promise<MaskPlane> {
  if (typeof src === 'string') return decodeMask(await readInput(src, name), name);
  return 'bytes' in src ? decodeMask(src.bytes, name) : maskFromRgb(src);
}

/**
 * Throws E_USAGE when a mask's aspect ratio differs from its image's by more than 1% (it would be
 * stretched), unless the mask resized to the image's long side is within a pixel of it (small images
 * whose sides were rounded).
 */
export function checkMaskAspect(m: { width: number; height: number }, img: { width: number; height: number }, what: string, of: string): void {
  const a = m.width / m.height;
  const c = img.width / img.height;
  const d = longSideDims(m.width, m.height, Math.max(img.width, img.height));
  const rounding = Math.abs(d.width - img.width) <= 1 && Math.abs(d.height - img.height) <= 1;
  if (Math.abs(a - c) / c > 0.01 && !rounding) {
    throw optionError(
      'E_USAGE',
      `${what} is ${m.width}x${m.height} (aspect ${a.toFixed(3)}) but ${of} is ${img.width}x${img.height} (aspect ${c.toFixed(3)}); it would be stretched — crop or pad it to ${of}'s shape (it is resized to fit)`,
    );
  }
}

const toBytes = (m: MaskPlane) => Buffer.from(Uint8Array.from(m.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));

async function fromSharp(p: sharp.Sharp, what: string): Promise<MaskPlane> {
  const { data, info } = await p.toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new StyleloomError('E_INTERNAL', `${what} gave ${info.channels} channels; please report`);
  const out = new Float32Array(data.length);
  for (let k = 0; k < data.length; k++) out[k] = data[k] / 255;
  return { data: out, width: info.width, height: info.height };
}

/** The mask resized to exactly width x height (Lanczos-3 on 8 bits; the mask itself when already that size). */
export async function resizeMask(m: MaskPlane, width: number, height: number): Promise<MaskPlane> {
  if (m.width === width && m.height === height) return m;
  const p = sharp(toBytes(m), { raw: { width: m.width, height: m.height, channels: 1 } }).resize(width, height, { kernel: 'lanczos3', fit: 'fill' });
  return fromSharp(p, 'mask resize');
}

/** The mask blurred with a Gaussian of `sigma` px (a feathered edge); sigma < 0.3 returns it unchanged. */
export async function featherMask(m: MaskPlane, sigma: number): Promise<MaskPlane> {
  if (sigma < 0.3) return m;
  return fromSharp(sharp(toBytes(m), { raw: { width: m.width, height: m.height, channels: 1 } }).blur(sigma), 'mask feather');
}

/** m·a + (1 − m)·b per pixel, rounded (all three of one size). */
export function compositeRgb(a: RgbImage, b: RgbImage, m: MaskPlane): RgbImage {
  if (a.width !== b.width || a.height !== b.height || m.width !== a.width || m.height !== a.height) {
    throw new StyleloomError('E_INTERNAL', `composite of ${a.width}x${a.height}, ${b.width}x${b.height} and a ${m.width}x${m.height} mask; please report`);
  }
  const out = new Uint8Array(a.data.length);
  for (let k = 0; k < m.data.length; k++) {
    const w = m.data[k];
    for (let c = 0; c < 3; c++) out[3 * k + c] = Math.round(w * a.data[3 * k + c] + (1 - w) * b.data[3 * k + c]);
  }
  return { data: out, width: a.width, height: a.height };
}

/** The same in Caffe space (planar 3 x H x W float32): m·a + (1 − m)·b, into a new array. */
export function compositePlanar(a: Float32Array, b: Float32Array, m: MaskPlane): Float32Array {
  const hw = m.width * m.height;
  const out = new Float32Array(a.length);
  for (let c = 0; c < 3; c++)
    for (let k = 0; k < hw; k++) {
      const w = m.data[k];
      out[c * hw + k] = w * a[c * hw + k] + (1 - w) * b[c * hw + k];
    }
  return out;
}
