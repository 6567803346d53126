// The loss evaluator of one scale: loss terms and d(loss)/d(image) of the whole image in one onnxruntime
// graph, or, for images too large for that, tile by tile (TiledEvaluator in tiled.ts); guided by regions
// (masks) when the spec has them.
import { toOnnx } from '../graph/onnx-export.js';
import { buildLossGraph, TERM_NAMES, type LossSpec } from '../loss/gatys.js';
import { createRunner, type FloatTensor, type SessionOptions } from '../runtime/session.js';
import type { ResolvedOptions } from './options.js';
import { computeTargets, type TargetGuide, type Targets } from './targets.js';
import { TiledEvaluator } from './tiled.js';
import type { LossTerms } from './types.js';

/** Loss terms and gradient at an image. */
export interface LossEvaluator {
  evaluate(x: Float32Array): Promise<{ loss: LossTerms; grad: Float32Array }>;
  release(): Promise<void>;
}

/** Images with more pixels than this are evaluated in tiles unless `tile` says otherwise. */
export const AUTO_TILE_PIXELS = 1_500_000;
export const AUTO_TILE_SIZE = 768;

export type TensorImage = { data: Float32Array; width: number; height: number };

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
  const targets = await computeTargets(spec.weights, content, styles, o.styleBlendWeights, o.contentWeight ? layers.content : [], o.styleWeight ? layers.style : [], o.pool, session, guide);
  return createUntiledEvaluator(spec, width, height, targets, session);
}

/** The whole image in one loss+gradient graph, with the targets fed in as inputs; one run per evaluation. */
export async function createUntiledEvaluator(spec: LossSpec, width: number, height: number, targets: Targets, session: SessionOptions): Promise<LossEvaluator> {
  const lg = buildLossGraph(spec, height, width);
  const feeds: Record<string, FloatTensor> = {};
  for (const [l, v] of lg.contentTargets) feeds[v.name] = { data: targets.content.get(l)!, dims: v.shape };
  for (const [l, v] of lg.styleTargets) feeds[v.name] = { data: targets.style.get(l)!, dims: v.shape };
  const runner = await createRunner(toOnnx(lg.graph, 'gatys'), session);
  const dims = [1, 3, height, width];
  return {
    async evaluate(x) {
      const out = await runner.run({ ...feeds, [lg.image]: { data: x, dims } });
      const loss: LossTerms = { content: 0, style: 0, tv: 0, total: out[lg.total][0] };
      for (const t of TERM_NAMES) {
        const name = lg.terms[t];
        if (name) loss[t] = out[name][0];
      }
      return { loss, grad: out[lg.grad] };
    },
    release: () => runner.release(),
  };
}
