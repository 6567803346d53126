// Options, progress events and results of the library API `stylize()`; the CLI and server map to these.
import type { RgbImage } from '../image/types.js';
import type { LossTerms, PoolKind } from '../loss/types.js';
import type { AdamState, LbfgsState } from '../optim/index.js';
import type { OptimizerKind } from '../optim/types.js';
import type { DeviceKind } from '../runtime/device.js';

export type { DeviceKind, LossTerms, OptimizerKind, PoolKind };

/** An image given as a file path or as decoded pixels. */
export type ImageSource = string | RgbImage;

export interface StylizeOptions {
  content: ImageSource;
  styles: ImageSource[];
  /** One weight per style; normalised to sum 1 (default: all equal). */
  styleBlendWeights?: number[];
  /** Long side of the output (and of each style image), px. Default 512. */
  size?: number;
  /** Iterations (one loss+gradient evaluation each), per scale. Default 300. */
  iters?: number;
  /** Coarse-to-fine: number of scales (default 1), growing by about √2 each up to `size`. */
  scales?: number;
  /** Long side of the first scale (default size / √2^(scales-1)). */
  minSize?: number;
  /** Iterations at each scale (overrides `iters`; one entry per scale). */
  scaleIters?: number[];
  optimizer?: OptimizerKind; // default 'lbfgs'
  /** Adam step in Caffe units (grey levels of 255). Default 10. */
  lr?: number;
  contentWeight?: number; // default 1
  styleWeight?: number; // default 1e3
  tvWeight?: number; // default 1
  /** Default: conv4_2 if the weights have it, else conv3_2. */
  contentLayers?: string[];
  /** Default: those of conv1_1, conv2_1, conv3_1, conv4_1, conv5_1 that the weights have. */
  styleLayers?: string[];
  pool?: PoolKind; // default 'max'
  /** 'content' (default), 'noise', or an image to start from. */
  init?: 'content' | 'noise' | ImageSource;
  /** Seed of the noise init; runs with the same seed and threads are bit-for-bit repeatable. */
  seed?: number;
  /** VGG-19 safetensors file; default: STYLELOOM_WEIGHTS, then the cache. */
  weights?: string;
  /** Intra-op threads; default: number of cores. */
  threads?: number;
  device?: DeviceKind; // default 'cpu'
  /** Style image long side relative to the output's (default 1). */
  styleScale?: number;
  /** Relative weight of each style layer, one per style layer (normalised; default equal). */
  styleLayerWeights?: number[];
  /** With init 'noise': x0 = r·noise + (1−r)·content (default 1, pure noise as the peer). */
  noiseRatio?: number;
  /** Exponential moving average of the iterate, decay in [0, 1) (0 = off, e.g. 0.99): the averaged image is returned, with less high-frequency noise. */
  ema?: number;
  /** Evaluate in tiles of this core size (px) so that large images fit in memory; 0 = never; default: tiles of 768 px above 1.5 megapixels. The result equals the untiled one. */
  tile?: number;
  /** Keep the content's colours: the output's luminance with the content's chroma (default false). */
  originalColors?: boolean;
  /** Move each style image's colour mean/covariance to the content's before transfer (default false). */
  colorMatch?: boolean;
  /** Call onSnapshot (and onState) every N iterations (0 = never). */
  saveEvery?: number;
  /**
   * Continue a run from its state (readStateFile, or what onState gave): restores the image, the
   * optimiser, the scale and the iteration counter. The other options must be the run's own
   * (resumeOptions(state, { iters }) builds them); `iters`/`scaleIters` may grow.
   */
  resume?: ResumeState;
}

export interface ProgressEvent {
  /** Iterations completed so far (1-based after the first). */
  iter: number;
  iters: number;
  /** Loss evaluated at the start of this iteration (before its update), as the peer's loss_history. */
  loss: LossTerms;
  /** Wall time of this iteration, ms. */
  ms: number;
  elapsedMs: number;
  /** Index of the current scale (0-based), the number of scales, and this scale's image size. */
  scale?: number;
  scales?: number;
  width?: number;
  height?: number;
}

export interface StylizeHooks {
  onProgress?: (e: ProgressEvent) => void;
  /** Called every `saveEvery` iterations with the current image. */
  onSnapshot?: (image: RgbImage, iter: number) => void | Promise<void>;
  /**
   * Called with the resumable state at every save (`saveEvery`), when the run is cancelled through
   * `signal` (before it rejects with E_ABORTED) and at the end. The arrays are the loop's live buffers:
   * serialise (writeStateFile) or copy them before the returned promise settles.
   */
  onState?: (state: ResumeState) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface StylizeResult {
  image: RgbImage;
  /** Total loss before each update (loss_history[k] is before update k+1). */
  lossHistory: number[];
  /**
   * Loss terms of the returned image: the best iterate of the last scale (the one after its last update
   * included), or with `ema` the average, scored after the last update.
   */
  loss: LossTerms;
  iters: number;
  /** Median wall time per iteration (iterations 3.. when there are more than 2), ms. */
  msPerIter: number;
  contentLayers: string[];
  styleLayers: string[];
  /** Long side of each scale that was run. */
  sizes: number[];
}

// ---- the resumable state (StylizeOptions.resume, StylizeHooks.onState); its file format is state-file.ts ----

/** Why a state was emitted: a `saveEvery` save, a cancelled run, or the end of the run. */
export type StateReason = 'save' | 'abort' | 'end';

/**
 * The resolved options of the run, as a state stores them: image sources as absolute paths (null where
 * they were given as decoded pixels; pass them again with resumeOptions), the weights file resolved.
 */
export type StateOptions = Omit<StylizeOptions, 'content' | 'styles' | 'init' | 'resume'> & {
  content: string | null;
  styles: (string | null)[];
  init: string | null;
};

export type OptimizerState = AdamState | LbfgsState;

/** SHA-256 (hex) of each input file of a run; null where the input was given as decoded pixels. */
export interface InputHashes {
  content: string | null;
  styles: (string | null)[];
  /** The init image's, when `init` names one. */
  init: string | null;
}

/**
 * Everything stylize() needs to continue a run exactly where it stopped. States handed to
 * `hooks.onState` hold the loop's live buffers: serialise (writeStateFile / serializeState) or copy them
 * before the hook returns.
 */
export interface ResumeState {
  version: number;
  /** `styleloom <version>` that wrote it. */
  software: string;
  reason: StateReason;
  options: StateOptions;
  /** The input files the run read; a resume refuses files that differ from them. */
  inputs: InputHashes;
  /** Long side of each scale, and the iterations of each scale, of the run that wrote the state. */
  sizes: number[];
  itersPerScale: number[];
  /** Index of the scale the image belongs to, and iterations done at that scale. */
  scale: number;
  scaleIter: number;
  /** Iterations done in all (= lossHistory.length). */
  iter: number;
  width: number;
  height: number;
  lossHistory: number[];
  /** The current image, Caffe space (BGR minus the ImageNet mean), [3, height, width]. */
  x: Float32Array;
  optimizer: OptimizerState;
  /** The iterate average when `ema` > 0. */
  ema?: { weight: number; acc: Float32Array };
  /**
   * The best iterate evaluated at this scale so far and its loss terms, what the scale hands on (absent
   * with `ema`, whose average is the result, and before a scale's first evaluation).
   */
  best?: { loss: LossTerms; x: Float32Array };
}
