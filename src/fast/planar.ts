// The fast network's input and output: interleaved 8-bit RGB <-> planar float 0..255, with the content's
// chroma kept on request (YCbCr, BT.601 full range). Browser-safe.
import { rgbToYcbcr, ycbcrToRgb } from '../image/color.js';
import type { RgbImage } from '../image/types.js';

/** Interleaved 8-bit RGB -> planar float 0..255, written at `offset` of `dst` (one image of a batch). */
export function toPlanar(img: RgbImage, dst: Float32Array, offset: number): void {
  const hw = img.width * img.height;
  for (let i = 0; i < hw; i++) {
    dst[offset + i] = img.data[3 * i];
    dst[offset + hw + i] = img.data[3 * i + 1];
    dst[offset + 2 * hw + i] = img.data[3 * i + 2];
  }
}

const byte = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Planar float 0..255 -> 8-bit RGB; with `colors`, keeps its chroma (YCbCr, BT.601 full range) and the output's luminance. */
export function fromPlanar(src: Float32Array, offset: number, width: number, height: number, colors?: RgbImage): RgbImage {
  const hw = width * height;
  const data = new Uint8Array(hw * 3);
  for (let i = 0; i < hw; i++) {
    const r = src[offset + i];
    const g = src[offset + hw + i];
    const b = src[offset + 2 * hw + i];
    if (!colors) {
      data[3 * i] = byte(r);
      data[3 * i + 1] = byte(g);
      data[3 * i + 2] = byte(b);
      continue;
    }
    // same BT.601 conversion as the optimisation mode, but from the float output (rounded once)
    const [y] = rgbToYcbcr(r, g, b);
    const [, cb, cr] = rgbToYcbcr(colors.data[3 * i], colors.data[3 * i + 1], colors.data[3 * i + 2]);
    const [r2, g2, b2] = ycbcrToRgb(y, cb, cr);
    data[3 * i] = byte(r2);
    data[3 * i + 1] = byte(g2);
    data[3 * i + 2] = byte(b2);
  }
  return { data, width, height };
}
