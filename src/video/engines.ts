// How one frame is stylised, given the previous result warped onto it: the Gatys engine (an optimisation
// warm-started from the warped previous result, content where the mask drops it, with the temporal term)
// and the fast engine (a network pass per batch of frames, blended with the warped previous output).
import { StyleloomError } from '../errors.js';
import { fromCaffe, toCaffe } from '../image/caffe.js';
import { preserveColors } from '../image/color.js';
import type { RgbImage } from '../image/types.js';
import type { LossSpec } from '../loss/gatys.js';
import { BestIterate } from '../optim/index.js';
import type { OptimizerKind } from '../optim/types.js';
import type { SessionOptions } from '../runtime/session.js';
import { fastStylizeBatch, type LoadedFastModel } from '../fast/stylize-fast.js';
import { lbfgsHistoryFor } from '../transfer/stylize.js';
import { createNodeOptimizer } from '../transfer/node-optimizer.js';
import { createFrameEvaluator, type FrameLoss, type TensorImage } from './frame-loss.js';
import { combineReferences, type Reference } from './references.js';
import { planesToRgb, rgbToPlanes } from './warp.js';

/** The earlier results a frame is tied to (nearest first; see references.ts). */
export type Previous = Reference[];

export interface GatysEngineOptions {
  spec: LossSpec;
  styles: TensorImage[];
  width: number;
  height: number;
  iters: number;
  frameIters: number;
  optimizer: OptimizerKind;
  lr: number;
  originalColors: boolean;
  session: SessionOptions;
}

export type IterReport = (iter: number, iters: number, loss: FrameLoss, ms: number) => void;

export interface GatysEngine {
  frame(content: RgbImage, prev: Previous | null, onIter?: IterReport): Promise<RgbImage>;
  release(): Promise<void>;
}

function checkFinite(loss: FrameLoss, iter: number, optimizer: OptimizerKind): void {
  if (Number.isFinite(loss.total)) return;
  const hint = optimizer === 'adam' ? 'lower --lr' : 'use --optimizer adam with a small --lr, or lower --style-weight or --temporal-weight';
  throw new StyleloomError('E_DIVERGED', `the loss of a frame became ${loss.total} at iteration ${iter}; the optimisation diverged — ${hint}`);
}

/** The Gatys engine: one loss graph for the clip's frame size, fed per frame. */
export async function createGatysEngine(o: GatysEngineOptions): Promise<GatysEngine> {
  const ev = await createFrameEvaluator(o.spec, o.width, o.height, o.styles, o.session);
  const hw = o.width * o.height;
  return {
    async frame(content, prev, onIter) {
      const c = toCaffe(content);
      let x: Float32Array;
      let temporal: { target: Float32Array; mask: Float32Array } | null = null;
      if (prev?.length) {
        const { target, mask } = combineReferences(prev, toCaffe);
        x = new Float32Array(c.length);
        for (let k = 0; k < c.length; k++) {
          const m = mask[k % hw];
          x[k] = m * target[k] + (1 - m) * c[k];
        }
        temporal = { target, mask };
      } else x = c.slice();
      const iters = prev?.length ? o.frameIters : o.iters;
      await ev.setFrame(c, temporal);
      const optimizer = await createNodeOptimizer(o.optimizer, { lr: o.lr, historySize: lbfgsHistoryFor(x.length) }, x.length, o.session.threads);
      const best = new BestIterate<FrameLoss>((l) => l.total);
      try {
        for (let k = 0; k < iters; k++) {
          const t = performance.now();
          const { loss, grad } = await ev.evaluate(x);
          checkFinite(loss, k + 1, o.optimizer);
          best.offer(x, loss);
          await optimizer.step(x, loss.total, grad);
          onIter?.(k + 1, iters, loss, performance.now() - t);
        }
      } finally {
        await optimizer.release?.();
      }
      // the best iterate evaluated, the one after the last step included (no line search: see stylize.ts)
      const { loss } = await ev.evaluate(x);
      best.offer(x, loss);
      const img = fromCaffe(best.get()!.x, o.width, o.height);
      return o.originalColors ? preserveColors(img, content) : img;
    },
    release: () => ev.release(),
  };
}

/** Frames of one batch through the network (RGB, the frames' size). */
export function fastBatch(model: LoadedFastModel, frames: RgbImage[], o: Pick<SessionOptions, 'threads' | 'device' | 'spinning'> & { originalColors: boolean }): Promise<RgbImage[]> {
  return fastStylizeBatch(frames, model, { threads: o.threads, device: o.device, spinning: o.spinning, originalColors: o.originalColors });
}

/** (1 − w·C) · net + w·C · T: the network's output blended with the earlier outputs warped along the flow (references.ts). */
export function blendWithPrevious(net: RgbImage, prev: Previous, weight: number): RgbImage {
  const a = rgbToPlanes(net);
  const { target, mask } = combineReferences(prev, rgbToPlanes);
  const hw = net.width * net.height;
  for (let k = 0; k < a.length; k++) {
    const w = weight * mask[k % hw];
    a[k] = (1 - w) * a[k] + w * target[k];
  }
  return planesToRgb(a, net.width, net.height);
}
