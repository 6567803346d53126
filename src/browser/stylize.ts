// stylize() in the browser: the node library's Gatys loop (same options, validated by the same option
// table; same loss graphs, targets and optimisers; coarse to fine with scales) on onnxruntime-web.
import { optionError, StyleloomError } from '../errors.js';
import { fromCaffe, toCaffe } from '../image/caffe.js';
import { matchColors, preserveColors } from '../image/color.js';
import { longSideDims } from '../image/dims.js';
import type { RgbImage } from '../image/types.js';
import { resolveLayers } from '../model/vgg19.js';
import { BestIterate, createOptimizer } from '../optim/index.js';
import { createWebRuntime, webgpuLimits, type WebBackend } from '../runtime/web.js';
import { checkRunImages, styleSideAt } from '../transfer/image-checks.js';
import { checkFinite, IterateAverage, lbfgsHistoryFor, msPerIterOf, NOISE_STD, scaleSizes } from '../transfer/loop-parts.js';
import { checkStyleLayerWeights, resolveOptions } from '../transfer/options.js';
import { computeTargets } from '../transfer/targets.js';
import type { LossTerms, ProgressEvent, StylizeOptions } from '../transfer/types.js';
import { createUntiledEvaluator } from '../transfer/whole-image.js';
import { randn } from '../util/rng.js';
import { checkMemory } from './memory.js';
import { atLongSide, resizeRgb, toRgb, type PixelSource } from './pixels.js';
import { loadWeights, type WeightsSource } from './weights.js';

/** Options the browser does not run (they need the file system, tiling or masks). */
const NODE_ONLY = ['tile', 'saveEvery', 'resume', 'mask', 'styleMasks', 'styleRegions', 'maskMode', 'device'] as const;

type Unsupported = (typeof NODE_ONLY)[number] | 'content' | 'styles' | 'init' | 'weights';

/** The node library's options (same names, ranges, defaults), with browser inputs. */
export interface BrowserStylizeOptions extends Omit<StylizeOptions, Unsupported> {
  content: PixelSource;
  styles: PixelSource[];
  /** VGG-19 safetensors: a URL (range requests where allowed, cached), an ArrayBuffer or a File. */
  weights: WeightsSource;
  init?: 'content' | 'noise';
  /** 'auto' (default: WebGPU where there is an adapter, else WebAssembly), 'wasm' or 'webgpu'. */
  backend?: WebBackend;
  /** Where onnxruntime-web's files are (default: beside styleloom.js). */
  wasmPaths?: string;
  /** WebAssembly's Winograd convolutions (default true; false: direct convolutions, as node runs them). */
  winograd?: boolean;
}

export interface BrowserProgressEvent extends ProgressEvent {
  /** The image as it is now (after this iteration's update), for a live preview. */
  current(): RgbImage;
}

export interface BrowserStylizeHooks {
  onProgress?: (e: BrowserProgressEvent) => void;
  signal?: AbortSignal;
}

export interface BrowserStylizeResult {
  image: RgbImage;
  loss: LossTerms;
  lossHistory: number[];
  msPerIter: number;
  iters: number;
  width: number;
  height: number;
  /** Long side of each scale that was run. */
  sizes: number[];
  contentLayers: string[];
  styleLayers: string[];
  backend: 'wasm' | 'webgpu';
  threads: number;
  /** Bytes of weights read, and whether they came from the browser's cache. */
  weightsBytes: number;
  weightsCached: boolean;
  /** Planned peak memory of the run, bytes (see memory.ts). */
  memoryBytes: number;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
}

/** Validates through the option table (resolveOptions), then refuses what the browser does not run. */
function browserOptions(options: BrowserStylizeOptions) {
  if (!options || typeof options !== 'object') throw new StyleloomError('E_USAGE', 'stylize() takes an options object: { content, styles, weights, ... }');
  const { content, styles, weights, backend: _b, wasmPaths: _w, winograd: _wg, ...rest } = options;
  for (const k of NODE_ONLY) {
    if ((rest as Record<string, unknown>)[k] !== undefined) throw optionError('E_USAGE', `{${k}} is not available in the browser; run it with the styleloom command or server`);
  }
  if (weights === undefined || weights === null || (weights as unknown) === '') throw optionError('E_USAGE', 'VGG-19 weights are required ({weights}: a URL, an ArrayBuffer or a File)');
  const o = resolveOptions({ ...rest, content: content ? 'pixels' : '', styles: Array.isArray(styles) ? styles.map(() => 'pixels') : styles } as StylizeOptions);
  if (o.init !== 'content' && o.init !== 'noise') throw optionError('E_USAGE', '{init} must be content or noise in the browser');
  return o;
}

const yieldToPage = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * Repaints `content` in the style of `styles` by optimising its pixels (Gatys et al.) in this browser.
 * Pixels given at the working size (long side `size`) are used as they are. Rejects with a StyleloomError.
 */
export async function stylize(options: BrowserStylizeOptions, hooks: BrowserStylizeHooks = {}): Promise<BrowserStylizeResult> {
  const o = browserOptions(options);
  const { signal } = hooks;
  checkAborted(signal);
  const runtime = await createWebRuntime({ backend: options.backend, threads: o.threads, wasmPaths: options.wasmPaths, winograd: options.winograd });
  const contentRaw = await toRgb(options.content, 'the content image');
  const stylesRaw = await Promise.all(options.styles.map((s, k) => toRgb(s, `style image ${k + 1}`)));
  const lw = await loadWeights(options.weights, o.contentLayers, o.styleLayers);
  const layers = resolveLayers(lw.weights, o.contentLayers, o.styleLayers);
  checkStyleLayerWeights(o.styleLayerWeights, layers.style);
  const sizes = scaleSizes(o.size, o.scales, o.minSize);
  const itersPerScale = o.scaleIters ?? sizes.map(() => o.iters);
  const totalIters = itersPerScale.reduce((a, b) => a + b, 0);
  checkRunImages(
    {
      sizes,
      styleScale: o.styleScale,
      content: { what: 'the content image', width: contentRaw.width, height: contentRaw.height },
      styles: stylesRaw.map((im, k) => ({ what: `style image ${k + 1}`, width: im.width, height: im.height })),
    },
    [...layers.content, ...layers.style],
  );
  const spec = { weights: lw.weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight: o.contentWeight, styleWeight: o.styleWeight, tvWeight: o.tvWeight, pool: o.pool, styleLayerWeights: o.styleLayerWeights };
  // refused before any resizing or session when the backend cannot hold the largest scale
  const gpu = runtime.backend === 'webgpu' ? await webgpuLimits() : null;
  const last = longSideDims(contentRaw.width, contentRaw.height, o.size);
  const memory = checkMemory(spec, last.width, last.height, runtime.backend, gpu?.maxStorageBufferBindingSize);
  for (const s of stylesRaw) {
    const d = longSideDims(s.width, s.height, styleSideAt(o.size, o.styleScale));
    checkMemory({ ...spec, contentWeight: 0 }, d.width, d.height, runtime.backend, gpu?.maxStorageBufferBindingSize);
  }
  const session = { runtime, threads: runtime.threads };
  const asTensor = (img: RgbImage) => ({ data: toCaffe(img), width: img.width, height: img.height });
  const history: number[] = [];
  const times: number[] = [];
  const t0 = performance.now();
  let done = 0;
  let prev: { x: Float32Array; width: number; height: number } | null = null;
  for (let si = 0; si < sizes.length; si++) {
    const content = await atLongSide(contentRaw, sizes[si], 'the content image');
    const loaded = await Promise.all(stylesRaw.map((s, k) => atLongSide(s, styleSideAt(sizes[si], o.styleScale), `style image ${k + 1}`)));
    const styles = o.colorMatch ? loaded.map((s) => matchColors(s, content)) : loaded;
    const { width, height } = content;
    checkAborted(signal);
    const targets = await computeTargets(lw.weights, asTensor(content), styles.map(asTensor), o.styleBlendWeights, o.contentWeight ? layers.content : [], o.styleWeight ? layers.style : [], o.pool, session);
    checkAborted(signal);
    const evaluator = await createUntiledEvaluator(spec, width, height, targets, session);
    try {
      // a later scale starts from the previous one's result, resized (in 8 bits, as node)
      let x: Float32Array = prev ? toCaffe(await resizeRgb(fromCaffe(prev.x, prev.width, prev.height), width, height, 'the previous scale')) : toCaffe(content);
      if (!prev && o.init === 'noise') {
        const c = x;
        x = randn(c.length, o.seed);
        for (let k = 0; k < x.length; k++) x[k] = o.noiseRatio * NOISE_STD * x[k] + (o.noiseRatio < 1 ? (1 - o.noiseRatio) * c[k] : 0);
      }
      const finish = (v: Float32Array) => {
        const img = fromCaffe(v, width, height);
        return o.originalColors ? preserveColors(img, content) : img;
      };
      const optimizer = createOptimizer(o.optimizer, { lr: o.lr, historySize: lbfgsHistoryFor(x.length) });
      const ema = o.ema > 0 ? new IterateAverage(x, o.ema) : null;
      const current = () => (ema ? ema.value() : x);
      const best = ema ? null : new BestIterate<LossTerms>((l) => l.total);
      for (let k = 0; k < itersPerScale[si]; k++) {
        checkAborted(signal);
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
        hooks.onProgress?.({ iter: done, iters: totalIters, loss, ms, elapsedMs: performance.now() - t0, scale: si, scales: sizes.length, width, height, current: () => finish(current()) });
        await yieldToPage();
      }
      checkAborted(signal);
      // as node: each scale's result is the best iterate evaluated, the one after the last update included (or the average)
      const end = current();
      const { loss } = await evaluator.evaluate(end);
      checkFinite(loss, done + 1, o);
      best?.offer(end, loss);
      const out = best?.get() ?? { x: end, info: loss };
      prev = { x: out.x, width, height };
      if (si === sizes.length - 1) {
        return {
          image: finish(out.x),
          loss: out.info,
          lossHistory: history,
          msPerIter: msPerIterOf(times),
          iters: totalIters,
          width,
          height,
          sizes,
          contentLayers: layers.content,
          styleLayers: layers.style,
          backend: runtime.backend,
          threads: runtime.threads,
          weightsBytes: lw.bytes,
          weightsCached: lw.cached,
          memoryBytes: memory.peakBytes,
        };
      }
    } finally {
      await evaluator.release();
    }
  }
  throw new StyleloomError('E_INTERNAL', 'no scale was run');
}
