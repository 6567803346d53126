// The loss of one video frame, built once per frame size and fed per frame: the style Grams once for the
// clip, each frame's content features from one forward graph, and the Gatys loss graph with the temporal
// term (the warped previous result and its consistency mask are inputs, so no graph is rebuilt per frame).
import { buildLossGraph, buildTargetGraph, TERM_NAMES, type LossSpec } from '../loss/gatys.js';
import { toOnnx } from '../graph/onnx-export.js';
import { createRunner, nodeRuntime, type FloatTensor, type Runner, type SessionOptions } from '../runtime/session.js';
import type { LossTerms } from '../loss/types.js';
import { computeTargets } from '../transfer/targets.js';

/** Loss terms of a frame: the image's, plus the temporal term (0 on the first frame and without it). */
export interface FrameLoss extends LossTerms {
  temporal: number;
}

export type TensorImage = { data: Float32Array; width: number; height: number };

export interface FrameEvaluator {
  /** Sets the frame to match: its content (Caffe tensor) and, for a later frame, the warped previous result and mask. */
  setFrame(content: Float32Array, temporal: { target: Float32Array; mask: Float32Array } | null): Promise<void>;
  evaluate(x: Float32Array): Promise<{ loss: FrameLoss; grad: Float32Array }>;
  release(): Promise<void>;
}

/** The evaluator of frames of `width` x `height`, with the style targets of `styles` (Caffe tensors, equal blend). */
export async function createFrameEvaluator(spec: LossSpec, width: number, height: number, styles: TensorImage[], session: SessionOptions): Promise<FrameEvaluator> {
  const style = spec.styleWeight ? spec.styleLayers : [];
  const content = spec.contentWeight ? spec.contentLayers : [];
  const dummy = { data: new Float32Array(3 * width * height), width, height };
  const targets = await computeTargets(spec.weights, dummy, styles, styles.map(() => 1), [], style, spec.pool, { ...session, runtime: nodeRuntime });
  const lg = buildLossGraph(spec, height, width);
  const feeds: Record<string, FloatTensor> = {};
  for (const [l, v] of lg.styleTargets) feeds[v.name] = { data: targets.style.get(l)!, dims: v.shape };
  const dims = [1, 3, height, width];
  let contentRunner: Runner | null = null;
  let lossRunner: Runner | null = null;
  try {
    if (content.length) contentRunner = await createRunner(toOnnx(buildTargetGraph(spec.weights, height, width, content, [], spec.pool), 'frame_targets'), session);
    lossRunner = await createRunner(toOnnx(lg.graph, 'video_frame'), session);
  } catch (e) {
    await contentRunner?.release();
    throw e;
  }
  const loss = lossRunner;
  const noTarget = new Float32Array(3 * width * height);
  const noMask = new Float32Array(width * height);
  return {
    async setFrame(x, temporal) {
      if (contentRunner) {
        const out = await contentRunner.run({ image: { data: x, dims } });
        for (const [l, v] of lg.contentTargets) feeds[v.name] = { data: out[`content_${l}`], dims: v.shape };
      }
      if (lg.temporal) {
        feeds[lg.temporal.target] = { data: temporal?.target ?? noTarget, dims };
        feeds[lg.temporal.mask] = { data: temporal?.mask ?? noMask, dims: [1, 1, height, width] };
      }
    },
    async evaluate(x) {
      const out = await loss.run({ ...feeds, [lg.image]: { data: x, dims } });
      const terms: FrameLoss = { content: 0, style: 0, tv: 0, temporal: 0, total: out[lg.total][0] };
      for (const t of [...TERM_NAMES, 'temporal'] as const) {
        const name = lg.terms[t];
        if (name) terms[t] = out[name][0];
      }
      return { loss: terms, grad: out[lg.grad] };
    },
    async release() {
      await contentRunner?.release();
      await loss.release();
    },
  };
}
