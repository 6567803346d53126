// One compiled training step on onnxruntime: feeds a batch, the flat parameter vector's views and the style
// Grams, returns the loss terms and the gradient as one flat vector (parameter order), then Adam updates in place.
import { StyleloomError } from '../errors.js';
import type { FastCheckpoint } from '../fast/checkpoint-format.js';
import { toOnnx } from '../graph/onnx-export.js';
import { numel } from '../graph/ir.js';
import type { LossTerms } from '../loss/types.js';
import { Adam } from '../optim/adam.js';
import type { DeviceKind } from '../runtime/device.js';
import { createRunner, type Runner } from '../runtime/session.js';
import { buildTrainGraph, type TrainGraph, type TrainLossSpec } from './step-graph.js';

export interface TrainStep {
  readonly graph: TrainGraph;
  /**
   * Loss terms of the batch and d(total)/d(params) written into `grad` (flat, parameter order); `perturbed` (the
   * batch with noise) is required when the graph has a stability term.
   */
  evaluate(batch: Float32Array, grad: Float32Array, perturbed?: Float32Array): Promise<LossTerms>;
  release(): Promise<void>;
}

/**
 * Compiles the step of `net` (whose layers view into the flat parameter vector: flattenParams) for `batch` crops
 * of side `size`; `styleGrams` holds each style layer's [C, C] Gram of the style image.
 */
export async function createTrainStep(
  net: FastCheckpoint,
  spec: TrainLossSpec,
  batch: number,
  size: number,
  styleGrams: Map<string, Float32Array>,
  opts: { threads?: number; device?: DeviceKind; graph?: TrainGraph } = {},
): Promise<TrainStep> {
  const tg = opts.graph ?? buildTrainGraph(net, spec, batch, size);
  const targets: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const [layer, v] of tg.styleTargets) {
    const gram = styleGrams.get(layer);
    const per = numel(v.shape) / batch;
    if (!gram || gram.length !== per) throw new StyleloomError('E_INTERNAL', `style Gram of ${layer}: ${gram?.length} values, expected ${per}`);
    const tiled = new Float32Array(numel(v.shape));
    for (let b = 0; b < batch; b++) tiled.set(gram, b * per);
    targets[v.name] = { data: tiled, dims: v.shape };
  }
  const runner: Runner = await createRunner(toOnnx(tg.graph, 'train_step'), { threads: opts.threads, device: opts.device });
  const termNames = tg.terms;
  const wanted = [...Object.values(termNames).filter((x): x is string => x !== undefined), tg.total, ...tg.grads];
  return {
    graph: tg,
    async evaluate(data, grad, perturbed) {
      const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = { ...targets, [tg.input.name]: { data, dims: tg.input.shape } };
      if (tg.perturbed) {
        if (!perturbed || perturbed.length !== data.length) throw new StyleloomError('E_INTERNAL', `the stability term needs a perturbed batch of ${data.length} values, got ${perturbed?.length}`);
        feeds[tg.perturbed.name] = { data: perturbed, dims: tg.perturbed.shape };
      }
      for (const p of tg.params) feeds[p.value.name] = { data: p.data, dims: p.value.shape };
      const out = await runner.run(feeds, wanted);
      let o = 0;
      for (const name of tg.grads) {
        grad.set(out[name], o);
        o += out[name].length;
      }
      if (o !== grad.length) throw new StyleloomError('E_INTERNAL', `gradient has ${o} values for ${grad.length} parameters`);
      const term = (n?: string) => (n ? out[n][0] : 0);
      const terms: LossTerms = { content: term(termNames.content), style: term(termNames.style), tv: term(termNames.tv), total: out[tg.total][0] };
      if (termNames.stability) terms.stability = term(termNames.stability);
      return terms;
    },
    release: () => runner.release(),
  };
}

/** The learning rate of iteration `iter` (1-based): `lr` halving smoothly every `halfLife` iterations (0: constant). */
export const learningRateAt = (lr: number, halfLife: number, iter: number): number => (halfLife > 0 ? lr * 0.5 ** ((iter - 1) / halfLife) : lr);

/** Adam as torch.optim.Adam (betas 0.9, 0.999, eps 1e-8) on the flat parameter vector. */
export const trainingAdam = (lr: number): Adam => new Adam({ lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
