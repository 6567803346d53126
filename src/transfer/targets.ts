// Computes the fixed targets of the loss once: content features P_l of the content image and the
// blended style Grams A_l = sum_k b_k/sum(b) G_l(style_k), each with a forward-only graph.
import { buildTargetGraph } from '../loss/gatys.js';
import { toOnnx } from '../graph/onnx-export.js';
import type { VggWeights } from '../model/vgg19.js';
import { createRunner, type SessionOptions } from '../runtime/session.js';
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
  session: SessionOptions,
): Promise<Record<string, Float32Array>> {
  const g = buildTargetGraph(weights, image.height, image.width, contentLayers, styleLayers, pool);
  const runner = await createRunner(toOnnx(g, 'targets'), session);
  try {
    return await runner.run({ image: { data: image.data, dims: [1, 3, image.height, image.width] } });
  } finally {
    await runner.release();
  }
}

export async function computeTargets(
  weights: VggWeights,
  content: { data: Float32Array; height: number; width: number },
  styles: { data: Float32Array; height: number; width: number }[],
  blend: number[],
  contentLayers: string[],
  styleLayers: string[],
  pool: PoolKind,
  session: SessionOptions,
): Promise<Targets> {
  const out: Targets = { content: new Map(), style: new Map() };
  if (contentLayers.length > 0) {
    const r = await runFeatures(weights, content, contentLayers, [], pool, session);
    for (const l of contentLayers) out.content.set(l, r[`content_${l}`]);
  }
  const total = blend.reduce((a, b) => a + b, 0);
  for (let k = 0; k < styles.length; k++) {
    if (blend[k] === 0) continue;
    const r = await runFeatures(weights, styles[k], [], styleLayers, pool, session);
    for (const l of styleLayers) {
      const g = r[`gram_${l}`];
      let acc = out.style.get(l);
      if (!acc) out.style.set(l, (acc = new Float32Array(g.length)));
      const c = blend[k] / total;
      for (let i = 0; i < g.length; i++) acc[i] += c * g[i];
    }
  }
  return out;
}
