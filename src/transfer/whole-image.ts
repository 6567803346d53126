// The loss evaluator of a whole image in one loss+gradient graph, the targets fed in as inputs (one
// session run per evaluation). Browser-safe: the session comes from the runtime passed in (node or web).
import { toOnnx } from '../graph/onnx-export.js';
import { buildLossGraph, TERM_NAMES, type LossSpec } from '../loss/gatys.js';
import type { FloatTensor, RuntimeSession } from '../runtime/types.js';
import type { Targets } from './targets.js';
import type { LossTerms } from './types.js';

/** Each layer's weighted share of the content and style terms (evaluators built with spec.layerTerms). */
export interface LayerTerms {
  content: Record<string, number>;
  style: Record<string, number>;
}

/** Loss terms and gradient at an image. */
export interface LossEvaluator {
  evaluate(x: Float32Array): Promise<{ loss: LossTerms; grad: Float32Array; layers?: LayerTerms }>;
  release(): Promise<void>;
}

export type TensorImage = { data: Float32Array; width: number; height: number };

/** The whole image in one loss+gradient graph, with the targets fed in as inputs; one run per evaluation. */
export async function createUntiledEvaluator(spec: LossSpec, width: number, height: number, targets: Targets, session: RuntimeSession): Promise<LossEvaluator> {
  const lg = buildLossGraph(spec, height, width);
  const feeds: Record<string, FloatTensor> = {};
  for (const [l, v] of lg.contentTargets) feeds[v.name] = { data: targets.content.get(l)!, dims: v.shape };
  for (const [l, v] of lg.styleTargets) feeds[v.name] = { data: targets.style.get(l)!, dims: v.shape };
  const runner = await session.runtime.createRunner(toOnnx(lg.graph, 'gatys', session.runtime.lowering), session);
  const dims = [1, 3, height, width];
  return {
    async evaluate(x) {
      const out = await runner.run({ ...feeds, [lg.image]: { data: x, dims } });
      const loss: LossTerms = { content: 0, style: 0, tv: 0, total: out[lg.total][0] };
      for (const t of TERM_NAMES) {
        const name = lg.terms[t];
        if (name) loss[t] = out[name][0];
      }
      const lt = lg.layerTerms;
      const read = (m: Map<string, string>) => Object.fromEntries([...m].map(([l, name]) => [l, out[name][0]]));
      return { loss, grad: out[lg.grad], layers: lt && { content: read(lt.content), style: read(lt.style) } };
    },
    release: () => runner.release(),
  };
}
