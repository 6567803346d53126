// The earlier results a frame is tied to: the previous frame, and with long-term consistency (Ruder et al.
// 2016, §3.2) frames further back, each warped onto this frame along its own flow and weighted by
// c_long_j = max(c_j − Σ_{k<j} c_k, 0), so each pixel follows the nearest earlier frame where it is visible.
import type { RgbImage } from '../image/types.js';
import type { Flow } from './flow.js';
import { warpPlanar } from './warp.js';

/** One earlier result: `back` is the flow from the current frame to it, `mask` its consistency mask. */
export interface Reference {
  /** How many frames back (1 = the previous frame). */
  distance: number;
  out: RgbImage;
  back: Flow;
  mask: Float32Array;
}

/** The references combined into one warped image and one per-pixel weight. */
export interface Combined {
  /** Σ_j c_long_j · warp_j / C where C > 0 (0 elsewhere), in the planes `planes` gave. */
  target: Float32Array;
  /** C = Σ_j c_long_j (with 0/1 masks: 1 where some reference is reliable). */
  mask: Float32Array;
}

/**
 * Combines `refs` (nearest first). Σ_j mean(c_long_j (x − w_j)²) = mean(C (x − T)²) + a constant, so
 * one weighted term with this target T and weight C has the same gradient as Ruder's sum of terms.
 * `planes` turns an image into 3 planes (Caffe space for the loss, RGB for the fast blend).
 */
export function combineReferences(refs: Reference[], planes: (img: RgbImage) => Float32Array): Combined {
  const { width, height } = refs[0].out;
  const hw = width * height;
  const target = new Float32Array(3 * hw);
  const mask = new Float32Array(hw);
  const covered = new Float32Array(hw); // Σ_{k<j} c_k
  for (const r of refs) {
    const w = warpPlanar(planes(r.out), 3, r.back);
    for (let p = 0; p < hw; p++) {
      const c = Math.max(r.mask[p] - covered[p], 0);
      covered[p] += r.mask[p];
      if (c === 0) continue;
      mask[p] += c;
      for (let ch = 0; ch < 3; ch++) target[ch * hw + p] += c * w[ch * hw + p];
    }
  }
  for (let p = 0; p < hw; p++) {
    if (mask[p] > 0 && mask[p] !== 1) for (let ch = 0; ch < 3; ch++) target[ch * hw + p] /= mask[p];
  }
  return { target, mask };
}
