// Options, hooks, progress events and result of the library call stylizeVideo(): one property per row of
// the option table that applies to the video job (src/options/table.ts), plus the clip and output paths.
import type { RgbImage } from '../image/types.js';
import type { OptionRows } from '../options/table.js';
import type { JobValues, LibraryOptions } from '../options/types.js';
import type { ImageSource } from '../transfer/types.js';
import type { FrameLoss } from './frame-loss.js';
import type { StaleFrames } from './frames-dir.js';

export type { FrameLoss };

/** Options of stylizeVideo(): the video job's rows, the clip, the output file, and whether to embed provenance. */
export interface VideoOptions extends Omit<LibraryOptions<OptionRows, 'video'>, 'content' | 'styles'> {
  /** The clip to repaint (a file ffmpeg reads). */
  content: string;
  /** Style image(s) (gatys mode). */
  styles?: ImageSource[];
  /** The output video (.mp4, .webm, .gif, .webp); its frames folder is `<out>.frames/`. */
  out: string;
  /** Embed the provenance record in the container's metadata (default true). */
  metadata?: JobValues<OptionRows, 'video'>['metadata'];
  /** How the provenance record names the clip, the style images and the network (default: their file names); a server passes the names its client gave. */
  provenanceNames?: { content?: string; styles?: string[]; model?: string };
  /**
   * With `resumeFrames`: what to do with a frames folder another clip or other options made — 'error' (the
   * default, the CLI's rule: the user decides) or 'replace' it and start again (a server after a restart); a
   * missing folder is then no error either.
   */
  staleFrames?: StaleFrames;
}

export interface VideoProgressEvent {
  /** 'iter': an optimisation iteration of a frame (gatys); 'frame': a frame finished. */
  phase: 'iter' | 'frame';
  /** The frame, 1-based, and the clip's number of frames. */
  frame: number;
  frames: number;
  iter?: number;
  iters?: number;
  loss?: FrameLoss;
  /** ms of this iteration or this frame; flowMs: the optical flow's share of the frame. */
  ms: number;
  flowMs?: number;
  elapsedMs: number;
  /** Estimated ms left (after a frame). */
  etaMs?: number;
  /** The frame came from the frames folder of an earlier run (--resume). */
  resumed?: boolean;
}

export interface VideoHooks {
  onProgress?: (e: VideoProgressEvent) => void;
  /** Each frame as it is finished (index 0-based), before it goes to the encoder. */
  onFrame?: (frame: RgbImage, index: number) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface VideoResult {
  out: string;
  frames: number;
  fps: number;
  width: number;
  height: number;
  mode: 'gatys' | 'fast';
  temporal: boolean;
  /** Seconds per frame stylised in this run (frames taken from the folder left out), and the flow's share. */
  sPerFrame: number;
  flowMsPerFrame: number;
  /** Frames taken from the frames folder (--resume). */
  resumedFrames: number;
  /** Mean share of pixels the consistency mask keeps (1 without temporal consistency). */
  reliable: number;
  hasAudio: boolean;
}
