// The Gatys loop behind the library API: load images and weights, build each scale's loss evaluator
// once (evaluator.ts), then iterate (one loss+gradient evaluation + one optimiser step per iteration),
// coarse to fine, with progress, snapshots, resumable states, NaN detection and cancellation.
import { StyleloomError } from '../errors.js';
import { fromCaffe, toCaffe } from '../image/caffe.js';
import { matchColors, preserveColors } from '../image/color.js';
import type { RgbImage } from '../image/types.js';
import { resolveLayers } from '../model/vgg19.js';
import { loadVggWeights } from '../model/vgg19-file.js';
import { resolveWeightsPath } from '../model/weights.js';
import { BestIterate, type Optimizer } from '../optim/index.js';
import { createNodeOptimizer } from './node-optimizer.js';
import { randn } from '../util/rng.js';
import { loadAtLongSide, loadAtSize } from './images.js';
import { resizeTo } from '../image/io.js';
import { checkStyleLayerWeights, resolveOptions, type ResolvedOptions } from './options.js';
import { checkInitShape, checkRunImages, styleSideAt } from './image-checks.js';
import { decodeHeld, readInputs, type HeldImage } from './inputs.js';
import { checkInputs, checkResume, stateOptionsOf } from './resume.js';
import { STATE_VERSION } from './state-file.js';
import { VERSION } from '../version.js';
import { createEvaluator } from './evaluator.js';
import { checkFinite, IterateAverage, lbfgsHistoryFor, msPerIterOf, NOISE_STD, scaleSizes } from './loop-parts.js';

export { lbfgsHistoryFor, NOISE_STD, scaleSizes } from './loop-parts.js';
import { coveredEvaluator, coverInit, loadRunMasks, masksAtScale } from './masks.js';
import { compositeRgb } from '../image/mask.js';
import type { LossTerms, OptimizerState, ResumeState, StateReason, StylizeHooks, StylizeOptions, StylizeResult } from './types.js';

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
}

/** x0: the content, noise, or the init image (`init`, read at the start) at the content's size. */
async function initialImage(o: ResolvedOptions, content: RgbImage, init: HeldImage | null): Promise<Float32Array> {
  if (o.init === 'content') return toCaffe(content);
  if (o.init === 'noise') {
    const x = randn(3 * content.width * content.height, o.seed);
    const r = o.noiseRatio;
    const c = r < 1 ? toCaffe(content) : null;
    for (let k = 0; k < x.length; k++) x[k] = r * NOISE_STD * x[k] + (c ? (1 - r) * c[k] : 0);
    return x;
  }
  return toCaffe(await loadAtSize(init ? await decodeHeld(init) : o.init, content.width, content.height));
}

/**
 * Repaints `content` in the style of `styles` by optimising the pixels (Gatys et al.), coarse to fine
 * when `scales` > 1. Resolves to the image, its loss history and the final loss terms; rejects with a
 * StyleloomError.
 */
export async function stylize(options: StylizeOptions, hooks: StylizeHooks = {}): Promise<StylizeResult> {
  const o = resolveOptions(options);
  const { signal } = hooks;
  checkAborted(signal);
  const weightsPath = resolveWeightsPath({ flag: o.weights });
  const weights = await loadVggWeights(weightsPath);
  const layers = resolveLayers(weights, o.contentLayers, o.styleLayers);
  checkStyleLayerWeights(o.styleLayerWeights, layers.style);
  const sizes = scaleSizes(o.size, o.scales, o.minSize);
  const itersPerScale = o.scaleIters ?? sizes.map(() => o.iters);
  const totalIters = itersPerScale.reduce((a, b) => a + b, 0);
  const session = { threads: o.threads, device: o.device };
  const spec = { weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight: o.contentWeight, styleWeight: o.styleWeight, tvWeight: o.tvWeight, pool: o.pool, styleLayerWeights: o.styleLayerWeights };
  const asTensor = (img: RgbImage) => ({ data: toCaffe(img), width: img.width, height: img.height });
  const t0 = performance.now();
  const resume = options.resume ? checkResume(options.resume, o, sizes, itersPerScale) : undefined;
  const inputs = await readInputs(o);
  if (resume) checkInputs(resume, o, inputs.hashes);
  const contentImage = await decodeHeld(inputs.content);
  const styleImages = await Promise.all(inputs.styles.map(decodeHeld));
  const named = (src: unknown, what: string) => (typeof src === 'string' ? `${what} ${src}` : what);
  checkRunImages(
    {
      sizes,
      styleScale: o.styleScale,
      content: { what: named(o.content, 'the content image'), width: contentImage.width, height: contentImage.height },
      styles: styleImages.map((im, k) => ({ what: named(o.styles[k], `style image ${k + 1}`), width: im.width, height: im.height })),
    },
    [...layers.content, ...layers.style],
  );
  const masks = await loadRunMasks(o, inputs, contentImage, styleImages);
  const initImage = inputs.init && !resume ? await decodeHeld(inputs.init) : null;
  if (initImage) checkInitShape(initImage, contentImage, typeof o.init === 'string' ? o.init : '(pixels)');
  let done = resume?.iter ?? 0;
  let prev: { x: Float32Array; width: number; height: number } | null = null;
  const history: number[] = resume ? resume.lossHistory.slice() : [];
  // the resumable state of the loop, once there is one: handed to onState at saves, on cancellation, at the end
  const stateOptions = stateOptionsOf(o, weightsPath);
  let capture: ((reason: StateReason) => ResumeState) | null = null;
  const emitState = async (reason: StateReason) => {
    if (capture && hooks.onState) await hooks.onState(capture(reason));
  };
  const stopIfAborted = async () => {
    if (signal?.aborted) await emitState('abort');
    checkAborted(signal);
  };
  for (let si = resume?.scale ?? 0; si < sizes.length; si++) {
    const content = await loadAtLongSide(contentImage, sizes[si]);
    const loaded = await Promise.all(styleImages.map((s) => loadAtLongSide(s, styleSideAt(sizes[si], o.styleScale))));
    const styles = o.colorMatch ? loaded.map((s) => matchColors(s, content)) : loaded;
    await stopIfAborted();
    const { width, height } = content;
    if (resume && si === resume.scale && (resume.width !== width || resume.height !== height)) {
      throw new StyleloomError('E_INPUT', `cannot resume: the state's image is ${resume.width}x${resume.height} but the content at ${sizes[si]} px is ${width}x${height}; the content image changed since the state was saved`);
    }
    const sm = masks ? await masksAtScale(masks, width, height, styles) : null;
    const eo = sm?.targetBlend ? { ...o, styleBlendWeights: sm.targetBlend } : o;
    const plain = await createEvaluator({ ...spec, regions: sm?.regions }, asTensor(content), styles.map(asTensor), eo, session, layers, sm?.guide);
    const evaluator = sm?.coverage ? coveredEvaluator(plain, sm.coverage) : plain;
    let x: Float32Array = resume && si === resume.scale ? resume.x.slice() : prev ? await upscale(prev, width, height) : await initialImage(o, content, initImage);
    // pixels no region covers start (and stay) at the content; an upscaled scale gets them back sharp
    if (sm?.coverage && !(resume && si === resume.scale)) x = coverInit(x, toCaffe(content), sm.coverage);
    const finish = (v: Float32Array) => {
      const raw = fromCaffe(v, width, height);
      const img = sm?.blend ? compositeRgb(raw, content, sm.blend) : raw;
      return o.originalColors ? preserveColors(img, content) : img;
    };
    let release: Optimizer['release'];
    try {
      const optimizer = await createNodeOptimizer(o.optimizer, { lr: o.lr, historySize: lbfgsHistoryFor(x.length), lineSearch: o.lineSearch }, x.length, o.threads);
      release = optimizer.release?.bind(optimizer);
      const times: number[] = [];
      const ema = o.ema > 0 ? new IterateAverage(x, o.ema) : null;
      const current = () => (ema ? ema.value() : x);
      // the best iterate of this scale (see the end of the scale); not kept with ema
      const best = ema ? null : new BestIterate<LossTerms>((l) => l.total);
      let atScale = 0;
      if (resume && si === resume.scale) {
        optimizer.setState(resume.optimizer);
        if (resume.ema) ema?.setState(resume.ema);
        if (resume.best) best?.set({ x: resume.best.x, info: resume.best.loss });
        atScale = resume.scaleIter;
      }
      const bestState = () => {
        const b = best?.get();
        return b && { loss: b.info, x: b.x };
      };
      capture = (reason) => ({
        version: STATE_VERSION, software: `styleloom ${VERSION}`, reason, options: stateOptions, inputs: inputs.hashes, sizes, itersPerScale, scale: si, scaleIter: atScale,
        iter: done, width, height, lossHistory: history, x, optimizer: optimizer.getState() as OptimizerState, ema: ema?.getState(), best: bestState(),
      });
      for (let k = atScale; k < itersPerScale[si]; k++) {
        await stopIfAborted();
        const t = performance.now();
        const { loss, grad } = await evaluator.evaluate(x);
        checkFinite(loss, done + 1, o);
        history.push(loss.total);
        best?.offer(x, loss);
        await optimizer.step(x, loss.total, grad);
        ema?.update(x);
        const ms = performance.now() - t;
        times.push(ms);
        done += 1;
        atScale += 1;
        hooks.onProgress?.({ iter: done, iters: totalIters, loss, ms, elapsedMs: performance.now() - t0, scale: si, scales: sizes.length, width, height });
        if (o.saveEvery > 0 && done % o.saveEvery === 0 && done < totalIters) {
          if (hooks.onSnapshot) await hooks.onSnapshot(finish(current()), done);
          await emitState('save');
        }
      }
      await stopIfAborted();
      // The scale's result, handed to the next scale or returned. Without ema it is the best iterate the
      // scale evaluated, the one after its last update included (one more evaluation per scale): L-BFGS
      // has no line search, and a last step that overshoots (several to ~1000 times the loss) must not
      // be returned or refined further; the same rule holds for Adam. With ema it is the average, as
      // asked for: not an iterate the optimiser evaluated, and swapping in a raw iterate would undo the
      // smoothing; it is scored all the same, so that `loss` is always that of the returned image.
      const last = current();
      const { loss } = await evaluator.evaluate(last);
      checkFinite(loss, done + 1, o);
      best?.offer(last, loss);
      const out = best?.get() ?? { x: last, info: loss };
      prev = { x: out.x, width, height };
      if (si === sizes.length - 1) {
        await emitState('end');
        return {
          image: finish(out.x),
          lossHistory: history,
          loss: out.info,
          iters: totalIters,
          msPerIter: msPerIterOf(times),
          contentLayers: layers.content,
          styleLayers: layers.style,
          sizes,
        };
      }
    } finally {
      await evaluator.release();
      await release?.();
    }
  }
  throw new StyleloomError('E_INTERNAL', 'no scale was run');
}

/** The previous scale's image, resized (Lanczos, in 8 bits) to the next scale's size, in Caffe space. */
async function upscale(prev: { x: Float32Array; width: number; height: number }, width: number, height: number): Promise<Float32Array> {
  return toCaffe(await resizeTo(fromCaffe(prev.x, prev.width, prev.height), width, height));
}
