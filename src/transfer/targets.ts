// Computes the fixed targets of the loss once: content features P_l of the content image and the
// blended style Grams A_l = sum_k b_k/sum(b) G_l(style_k), each with a forward-only graph; with regions,
// one blended target per region (its own styles), each style's Gram guided by its style region if any.
// Browser-safe: the sessions come from the runtime the caller passes (node or web).
import { buildTargetGraph, styleKey } from '../loss/gatys.js';
import type { MaskPlane } from '../loss/regions.js';
import { toOnnx } from '../graph/onnx-export.js';
import type { VggWeights } from '../model/vgg19.js';
import type { RuntimeSession } from '../runtime/types.js';
import type { PoolKind } from '../loss/types.js';

export interface Targets {
  content: Map<string, Float32Array>;
  style: Map<string, Float32Array>;
}

async function runFeatures(
  weights: VggWeights,
  image: { data: Float32Array; height: number; width: number },
  contentLayers: string[],
  styleLayers: string[],
  pool: PoolKind,
  session: RuntimeSession,
  region?: MaskPlane,
): Promise<Record<string, Float32Array>> {
  const g = buildTargetGraph(weights, image.height, image.width, contentLayers, styleLayers, pool, region);
  const runner = await session.runtime.createRunner(toOnnx(g, 'targets', session.runtime.lowering), session);
  try {
    return await runner.run({ image: { data: image.data, dims: [1, 3, image.height, image.width] } });
  } finally {
    await runner.release();
  }
}

/** How style Grams become targets: the part of each style image to use, and which styles each region of the content gets. */
export interface TargetGuide {
  /** Per style image, its style region (a mask at the style image's size), or null for all of it. */
  styleRegions?: (MaskPlane | null)[];
  /** Per region of the content, the styles blended into its target (keys `layer/region`); absent: one target per layer. */
  groups?: number[][];
}

export async function computeTargets(
  weights: VggWeights,
  content: { data: Float32Array; height: number; width: number },
  styles: { data: Float32Array; height: number; width: number }[],
  blend: number[],
  contentLayers: string[],
  styleLayers: string[],
  pool: PoolKind,
  session: RuntimeSession,
  guide: TargetGuide = {},
): Promise<Targets> {
  const out: Targets = { content: new Map(), style: new Map() };
  if (contentLayers.length > 0) {
    const r = await runFeatures(weights, content, contentLayers, [], pool, session);
    for (const l of contentLayers) out.content.set(l, r[`content_${l}`]);
  }
  const groups = guide.groups ?? [styles.map((_, k) => k)];
  for (let k = 0; k < styles.length; k++) {
    if (blend[k] === 0 || styleLayers.length === 0) continue;
    const r = await runFeatures(weights, styles[k], [], styleLayers, pool, session, guide.styleRegions?.[k] ?? undefined);
    groups.forEach((members, gi) => {
      if (!members.includes(k)) return;
      const total = members.reduce((a, m) => a + blend[m], 0);
      for (const l of styleLayers) {
        const g = r[`gram_${l}`];
        const key = guide.groups ? styleKey(l, gi) : styleKey(l);
        let acc = out.style.get(key);
        if (!acc) out.style.set(key, (acc = new Float32Array(g.length)));
        const c = blend[k] / total;
        for (let i = 0; i < g.length; i++) acc[i] += c * g[i];
      }
    });
  }
  return out;
}
