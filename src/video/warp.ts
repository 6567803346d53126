// Backward warping along a flow (bilinear) and the consistency mask of Ruder et al. 2016 ("Artistic style
// transfer for videos", §3.1): pixels whose forward and backward flows disagree (disocclusions), motion
// boundaries, and pixels whose source lies outside the previous frame get weight 0, the rest 1.
import type { RgbImage } from '../image/types.js';
import type { Flow } from './flow.js';

/**
 * `src` (planar: `channels` planes of w x h, e.g. the Caffe tensor) sampled at p + flow(p) for every pixel
 * p, bilinearly, the coordinates clamped to the frame (pixels whose source lies outside are the mask's business).
 */
export function warpPlanar(src: Float32Array, channels: number, flow: Flow): Float32Array {
  const { width: w, height: h } = flow;
  const hw = w * h;
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const sx = Math.min(w - 1, Math.max(0, x + flow.data[2 * p]));
      const sy = Math.min(h - 1, Math.max(0, y + flow.data[2 * p + 1]));
      const x0 = Math.max(0, Math.min(w - 2, Math.floor(sx)));
      const y0 = Math.max(0, Math.min(h - 2, Math.floor(sy)));
      const fx = w > 1 ? sx - x0 : 0;
      const fy = h > 1 ? sy - y0 : 0;
      const i00 = y0 * w + x0;
      const x1 = w > 1 ? 1 : 0;
      const y1 = h > 1 ? w : 0;
      for (let c = 0; c < channels; c++) {
        const o = c * hw;
        const a = src[o + i00] * (1 - fx) + src[o + i00 + x1] * fx;
        const b = src[o + i00 + y1] * (1 - fx) + src[o + i00 + y1 + x1] * fx;
        out[o + p] = a * (1 - fy) + b * fy;
      }
    }
  return out;
}

/** The flow field itself warped: f sampled at p + by(p) (bilinear), as two planes back to interleaved. */
function warpFlow(f: Flow, by: Flow): Float32Array {
  const hw = f.width * f.height;
  const planes = new Float32Array(2 * hw);
  for (let p = 0; p < hw; p++) {
    planes[p] = f.data[2 * p];
    planes[hw + p] = f.data[2 * p + 1];
  }
  const w = warpPlanar(planes, 2, by);
  const out = new Float32Array(2 * hw);
  for (let p = 0; p < hw; p++) {
    out[2 * p] = w[p];
    out[2 * p + 1] = w[hw + p];
  }
  return out;
}

export interface ConsistencyParts {
  /** 1 = reliable, 0 = not (the product of the three checks below). */
  mask: Float32Array;
  /** Counts of pixels each check removed (a pixel may fail several). */
  outside: number;
  disoccluded: number;
  motionBoundary: number;
}

/**
 * The reliability of warping the previous frame onto the current one along `back` (current → previous),
 * checked against `fwd` (previous → current), after Ruder et al.: with w̃(p) = fwd(p + back(p)),
 * disoccluded where |w̃ + back|² > 0.01 (|w̃|² + |back|²) + 0.5; a motion boundary where
 * |∇back_x|² + |∇back_y|² > 0.01 |back|² + 0.002; and out of the frame where p + back(p) leaves it.
 */
export function consistencyMask(back: Flow, fwd: Flow): ConsistencyParts {
  const { width: w, height: h } = back;
  const hw = w * h;
  const wt = warpFlow(fwd, back);
  const mask = new Float32Array(hw);
  let outside = 0;
  let disoccluded = 0;
  let motionBoundary = 0;
  const b = back.data;
  // central differences inside, one-sided at the edges, per component
  const grad = (p: number, x: number, y: number, k: 0 | 1) => {
    const l = x > 0 ? p - 1 : p;
    const r = x < w - 1 ? p + 1 : p;
    const u = y > 0 ? p - w : p;
    const d = y < h - 1 ? p + w : p;
    const gx = (b[2 * r + k] - b[2 * l + k]) / Math.max(1, (r - l));
    const gy = (b[2 * d + k] - b[2 * u + k]) / Math.max(1, (d - u) / w);
    return gx * gx + gy * gy;
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const bx = b[2 * p];
      const by = b[2 * p + 1];
      let ok = true;
      const sx = x + bx;
      const sy = y + by;
      if (!(sx >= 0 && sx <= w - 1 && sy >= 0 && sy <= h - 1)) {
        outside++;
        ok = false;
      }
      const tx = wt[2 * p];
      const ty = wt[2 * p + 1];
      const bb = bx * bx + by * by;
      if ((tx + bx) ** 2 + (ty + by) ** 2 > 0.01 * (tx * tx + ty * ty + bb) + 0.5) {
        disoccluded++;
        ok = false;
      }
      if (grad(p, x, y, 0) + grad(p, x, y, 1) > 0.01 * bb + 0.002) {
        motionBoundary++;
        ok = false;
      }
      mask[p] = ok ? 1 : 0;
    }
  return { mask, outside, disoccluded, motionBoundary };
}

/** Interleaved 8-bit RGB -> float planes (R, G, B), 0..255. */
export function rgbToPlanes(img: RgbImage): Float32Array {
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) out[c * hw + i] = img.data[3 * i + c];
  return out;
}

/** Float planes (R, G, B) -> interleaved 8-bit RGB, rounded and clamped. */
export function planesToRgb(planes: Float32Array, width: number, height: number): RgbImage {
  const hw = width * height;
  const data = new Uint8Array(3 * hw);
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) data[3 * i + c] = Math.max(0, Math.min(255, Math.round(planes[c * hw + i])));
  return { data, width, height };
}

/** An RGB frame warped along `flow` (bilinear). */
export const warpRgb = (img: RgbImage, flow: Flow): RgbImage => planesToRgb(warpPlanar(rgbToPlanes(img), 3, flow), img.width, img.height);
