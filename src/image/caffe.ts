// Conversion between 8-bit RGB images and Caffe-space tensors (1x3xHxW, BGR, 0..255 minus the
// ImageNet mean), exactly as peers/LOSS.md specifies: float64 arithmetic, float32 storage.

import { StyleloomError } from '../errors.js';
import type { RgbImage } from './types.js';

/** The ImageNet mean subtracted in Caffe space, in channel order (B, G, R). */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;

/** Round to the nearest integer, ties to even (Python's `round`, numpy's `rint`). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f; // exact for every finite double
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** RGB image -> 1x3xHxW Caffe tensor: x[c] = v - mean[c] with c = B, G, R (float64, then float32). */
export function toCaffe(img: RgbImage): Float32Array {
  const { data, width, height } = img;
  const hw = width * height;
  if (data.length !== hw * 3) {
    throw new StyleloomError(
      'E_USAGE',
      `toCaffe: image data has ${data.length} bytes but ${width}x${height} RGB needs ${hw * 3}; pass a consistent RgbImage`,
    );
  }
  const out = new Float32Array(3 * hw);
  for (let c = 0; c < 3; c++) {
    const mean = CAFFE_MEAN_BGR[c];
    const src = 2 - c; // B is RGB channel 2
    const base = c * hw;
    for (let i = 0; i < hw; i++) out[base + i] = data[i * 3 + src] - mean;
  }
  return out;
}

/** 1x3xHxW Caffe tensor -> RGB image: v = clip(roundHalfEven(x + mean), 0, 255); NaN becomes 0. */
export function fromCaffe(x: Float32Array, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new StyleloomError('E_USAGE', `fromCaffe: size ${width}x${height} is not valid; pass positive integers`);
  }
  const hw = width * height;
  if (x.length !== 3 * hw) {
    throw new StyleloomError(
      'E_USAGE',
      `fromCaffe: tensor has ${x.length} values but 1x3x${height}x${width} needs ${3 * hw}; pass the matching size`,
    );
  }
  const data = new Uint8Array(3 * hw);
  for (let c = 0; c < 3; c++) {
    const mean = CAFFE_MEAN_BGR[c];
    const dst = 2 - c;
    const base = c * hw;
    for (let i = 0; i < hw; i++) {
      const v = roundHalfEven(x[base + i] + mean);
      data[i * 3 + dst] = v > 255 ? 255 : v > 0 ? v : 0; // NaN fails both tests -> 0
    }
  }
  return { data, width, height };
}
