// The short-term temporal term of video style transfer (Ruder et al. 2016): temporal_weight ·
// mean(c ∘ (x − warp(prev))²), with the previous stylised frame warped onto this one and the consistency
// mask c both graph inputs, so that one graph per frame size serves every frame.
import type { Graph, Value } from '../graph/ir.js';

export interface TemporalTerm {
  /** Input: the previous stylised frame warped onto this one, shaped like the image. */
  target: Value;
  /** Input: the per-pixel weight c (1 x 1 x H x W; 1 = reliable, 0 = occluded or unreliable). */
  mask: Value;
  /** Output: the weighted term. */
  term: Value;
}

/** Adds the temporal term on image `x` (1 x C x H x W) with weight `weight` and outputs it. */
export function addTemporalTerm(g: Graph, x: Value, weight: number): TemporalTerm {
  const [n, , h, w] = x.shape;
  const target = g.input('temporal_target', x.shape);
  const mask = g.input('temporal_mask', [n, 1, h, w]);
  const term = g.output(g.scale(g.add1('WeightedMse', [x, target, mask], {}, 'temporal_mse'), weight, 'loss_temporal'));
  return { target, mask, term };
}
