// Options, progress events and results of the library call stylizeAudio(): one property per row of the
// option table that applies to the audio job (src/options/table.ts), plus the sounds themselves.
import type { LibraryOptions } from '../options/types.js';
import type { OptionRows } from '../options/table.js';
import type { Sound, SoundSource } from './sound-io.js';

export type { Sound, SoundSource };

/** Options of stylizeAudio(); the defaults are the peer's (pytorch_audio_style.py). */
export interface AudioOptions extends Omit<LibraryOptions<OptionRows, 'audio'>, 'content' | 'styles' | 'init'> {
  /** The sound to repaint (a file or samples); left out with `texture`. */
  content?: SoundSource;
  /** The style sound(s); with several, their Gram targets are averaged. */
  styles: SoundSource[];
  init?: 'content' | 'noise';
}

/** The loss terms as the peer defines them (sums, not means). */
export interface AudioLoss {
  content: number;
  style: number;
  total: number;
}

export interface AudioProgressEvent {
  /** 'optimise': an L-BFGS iteration; 'phase': a Griffin-Lim iteration. */
  phase: 'optimise' | 'phase';
  iter: number;
  iters: number;
  /** The loss at the start of the iteration (optimise only). */
  loss?: AudioLoss;
  ms: number;
  elapsedMs: number;
}

export interface AudioHooks {
  onProgress?: (e: AudioProgressEvent) => void;
  signal?: AbortSignal;
  /**
   * Called every `snapshotEvery` L-BFGS iterations (and after the last) with the spectrogram being
   * optimised (log1p magnitude, linear bins; valid during the call, awaited): a live preview.
   */
  onSnapshot?: (s: Spectrogram, iter: number) => void | Promise<void>;
  snapshotEvery?: number;
}

/** A log-magnitude spectrogram, bins x frames, bin-major. */
export interface Spectrogram {
  data: Float32Array;
  bins: number;
  frames: number;
}

export interface AudioResult {
  /** The result, peak-normalised to 0.98, at `sr`. */
  sound: Sound;
  loss: AudioLoss;
  lossHistory: number[];
  iters: number;
  /** Median ms per iteration (the first two left out, as the peer). */
  msPerIter: number;
  optimiseMs: number;
  griffinLimMs: number;
  /** Griffin-Lim's residual: || |STFT(sound)| - |X| || / || |X| || against the optimised magnitude (0 = consistent). */
  spectralConvergence: number;
  /** Seconds of the result. */
  duration: number;
  spectrograms: { content?: Spectrogram; style: Spectrogram; result: Spectrogram };
  /** SHA-256 of the content and style files (for the provenance record). */
  inputs: { content?: string; styles: (string | undefined)[] };
}
