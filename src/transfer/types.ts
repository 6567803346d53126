// Options, progress events and results of the library API `stylize()`; the CLI and server map to these.
import type { RgbImage } from '../image/types.js';
import type { LossTerms, PoolKind } from '../loss/types.js';
import type { AdamState, LbfgsState } from '../optim/index.js';
import type { OptimizerKind } from '../optim/types.js';
import type { DeviceKind } from '../runtime/device.js';
import type { LibraryOptions } from '../options/types.js';
import type { OptionRows } from '../options/table.js';

export type { DeviceKind, LossTerms, OptimizerKind, PoolKind };

/** An image given as a file path or as decoded pixels. */
export type ImageSource = string | RgbImage;

/**
 * Options of stylize(): one property per row of the option table (src/options/table.ts) that applies
 * to the image job — its kind, range, default and one-line doc are there (and in the README's flag
 * table) — plus the inputs and the resume state.
 */
export interface StylizeOptions extends Omit<LibraryOptions<OptionRows, 'image'>, 'content' | 'styles' | 'init'> {
  content: ImageSource;
  styles: ImageSource[];
  /** 'content' (default), 'noise', or an image to start from (of the content's aspect ratio). */
  init?: 'content' | 'noise' | ImageSource;
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
export type StateOptions = Omit<StylizeOptions, 'content' | 'styles' | 'init' | 'resume' | 'mask' | 'styleMasks' | 'styleRegions'> & {
  content: string | null;
  styles: (string | null)[];
  init: string | null;
  mask?: string | null;
  styleMasks?: (string | null)[];
  styleRegions?: (string | null)[];
};

export type OptimizerState = AdamState | LbfgsState;

/** SHA-256 (hex) of each input file of a run; null where the input was given as decoded pixels. */
export interface InputHashes {
  content: string | null;
  styles: (string | null)[];
  /** The init image's, when `init` names one. */
  init: string | null;
  /** The masks', when given (absent in states of runs without them). */
  mask?: string | null;
  styleMasks?: (string | null)[];
  styleRegions?: (string | null)[];
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
