// The JSON shapes of the HTTP API (jobs, queue, samples, models): browser-safe types that the server
// returns and the web page reads, imported type-only on the page.
import type { LossTerms } from '../loss/types.js';
import type { OptionRows } from '../options/table.js';
import type { ApiParams } from '../options/types.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export type JobMode = 'gatys' | 'fast' | 'audio' | 'video';
export const JOB_MODES: readonly JobMode[] = ['gatys', 'fast', 'audio', 'video'];

export const FINAL_STATUSES: readonly JobStatus[] = ['done', 'failed', 'cancelled'];
export const isFinal = (s: JobStatus): boolean => FINAL_STATUSES.includes(s);

/** Parameters of a Gatys job as the API stores and returns them: one snake_case field per API row of the option table (defaults filled in). */
export type GatysParams = ApiParams<OptionRows, 'image'>;

/** Parameters of a fast job (`size` absent: the content's own size). */
export type FastParams = ApiParams<OptionRows, 'fast'>;

/** Parameters of a sound job (mode=audio): the audio command's API fields. */
export type AudioParams = ApiParams<OptionRows, 'audio'>;

/** Parameters of a video job (mode=video): the video command's API fields (`engine` gatys or fast). */
export type VideoParams = ApiParams<OptionRows, 'video'>;

/** What a video job's `video` events say (SSE): the frame (1-based) being made or just finished, its iteration, seconds per frame and the time left. */
export interface VideoProgress {
  frame: number;
  frames: number;
  iter: number;
  iters: number;
  /** Mean seconds per finished frame so far (0 before the first). */
  sPerFrame: number;
  /** Estimated seconds left (null before the first frame is finished). */
  etaS: number | null;
}

/** What GET /api/jobs/:id returns. */
export interface JobView {
  id: string;
  status: JobStatus;
  mode: JobMode;
  params: GatysParams | FastParams | AudioParams | VideoParams;
  inputs: { content?: string; styles?: string[] };
  progress: { iter: number; iters: number };
  loss: LossTerms | null;
  lossHistory?: number[];
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  width?: number;
  height?: number;
  /** The result: a PNG, (mode=audio) a WAV, or (mode=video) an MP4 (byte ranges served). */
  resultUrl?: string;
  /** The latest preview: the image so far, or (mode=audio) the spectrogram so far. */
  previewUrl?: string;
  /** mode=audio, done: the content, style and result spectrograms side by side (PNG), and the result's length. */
  spectrogramUrl?: string;
  duration?: number;
  /** mode=video: frames and frame rate of the clip's part being stylised (known at submission). */
  frames?: number;
  fps?: number;
  eventsUrl: string;
  /** With Redis workers: the worker that runs (ran) the job, and which run this is (1 = first). */
  worker?: string;
  attempt?: number;
}

export interface QueueStats {
  queued: number;
  running: number;
  concurrency: number;
  maxQueue: number;
  paused: boolean;
}

export interface Sample {
  name: string;
  url: string;
  thumbUrl: string;
  bytes: number;
  width?: number;
  height?: number;
}

export interface VggInfo {
  path: string;
  /** Conv layers present in the file, in network order. */
  layers: string[];
  preprocess?: string;
  defaultContentLayers: string[];
  defaultStyleLayers: string[];
}

/** What GET /api/models returns: names, never the server's paths. */
export interface ModelsView {
  /** The server's VGG-19 weights by file name; `name` null (with `error`) when it has none: then only mode=fast works. */
  vgg: { name: string | null; layers: string[]; preprocess?: string; defaultContentLayers?: string[]; defaultStyleLayers?: string[]; error?: string };
  /** The fast-style networks by name: the built-in ones first (trained by styleloom; `style` is the painting's file name among the samples), then the server's own. */
  fast: { name: string; builtin: boolean; style?: string; title?: string; artist?: string; licence?: string }[];
  limits: { maxSize: number; maxIters: number; maxUploadMb: number; maxPixels: number; maxStyles: number; maxVideoSeconds: number; maxVideoPixels: number };
}

/** What GET /api/health returns. */
export interface HealthView {
  ok: boolean;
  version: string;
  queue: QueueStats;
  uptimeS: number;
}
