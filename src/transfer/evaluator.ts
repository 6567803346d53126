// The loss evaluator of one scale: loss terms and d(loss)/d(image) of the whole image in one onnxruntime
// graph, or, for images too large for that, tile by tile (TiledEvaluator in tiled.ts); guided by regions
// (masks) when the spec has them.
import type { LossSpec } from '../loss/gatys.js';
import { nodeRuntime, type SessionOptions } from '../runtime/session.js';
import type { ResolvedOptions } from './options.js';
import { computeTargets, type TargetGuide } from './targets.js';
import { TiledEvaluator } from './tiled.js';
import { createUntiledEvaluator, type LossEvaluator, type TensorImage } from './whole-image.js';

export { createUntiledEvaluator, type LossEvaluator, type TensorImage } from './whole-image.js';

/** Images with more pixels than this are evaluated in tiles unless `tile` says otherwise. */
export const AUTO_TILE_PIXELS = 1_500_000;
export const AUTO_TILE_SIZE = 768;

/** The evaluator of one scale: tiled when `tile` says so (or, by default, above AUTO_TILE_PIXELS), else untiled. */
export async function createEvaluator(
  spec: LossSpec,
  content: TensorImage,
  styles: TensorImage[],
  o: ResolvedOptions,
  session: SessionOptions,
  layers: { content: string[]; style: string[] },
  guide: TargetGuide = {},
): Promise<LossEvaluator> {
  const { width, height } = content;
  const tile = o.tile ?? (width * height > AUTO_TILE_PIXELS ? AUTO_TILE_SIZE : 0);
  if (tile > 0) return TiledEvaluator.create({ ...spec, tile, session }, content, styles, o.styleBlendWeights, guide);
  const run = { ...session, runtime: nodeRuntime };
  const targets = await computeTargets(spec.weights, content, styles, o.styleBlendWeights, o.contentWeight ? layers.content : [], o.styleWeight ? layers.style : [], o.pool, run, guide);
  return createUntiledEvaluator(spec, width, height, targets, run);
}
