// Job records of the HTTP service: what is stored in each job's job.json, the public view the API
// returns, and the id format (random UUIDs, checked by regex before any lookup or file access).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { cacheDir } from '../model/weights.js';
import type { LossTerms } from '../loss/types.js';
import type { AudioParams, FastParams, GatysParams, JobMode, JobStatus, JobView, VideoParams } from './api-types.js';

export { FINAL_STATUSES, isFinal, JOB_MODES, type AudioParams, type FastParams, type GatysParams, type JobMode, type JobStatus, type JobView, type VideoParams, type VideoProgress } from './api-types.js';

/** Names of the uploaded files inside the job directory, and the names the client gave them. */
export interface JobInputs {
  content: string;
  styles: string[];
  contentName?: string;
  styleNames?: string[];
  /** File names of the uploaded masks, when the job has any. */
  mask?: string;
  styleMasks?: string[];
  styleRegions?: string[];
}

/** What a job runs: its mode and that mode's parameters, keyed on `mode` (checking it narrows `params`). */
export type JobSpec = { mode: 'gatys'; params: GatysParams } | { mode: 'fast'; params: FastParams } | { mode: 'audio'; params: AudioParams } | { mode: 'video'; params: VideoParams };

/** The fields of a job record besides its mode and parameters (see JobRecord). */
export interface JobRecordFields {
  /** Format version of job.json. */
  v: 1;
  id: string;
  status: JobStatus;
  inputs: JobInputs;
  progress: { iter: number; iters: number };
  loss: LossTerms | null;
  lossHistory: number[];
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Iteration of the latest preview.png (not persisted meaningfully across restarts). */
  previewIter?: number;
  width?: number;
  height?: number;
  /** mode=audio: seconds of the result; mode=video: of the clip's part being stylised. */
  duration?: number;
  /** mode=video: frames and frame rate of that part (found at submission; progress counts frames). */
  frames?: number;
  fps?: number;
  /** The worker running (or that ran) the job, and which run of it this is (Redis backend). */
  worker?: string;
  attempt?: number;
}

/** What is stored in a job's job.json: a union keyed on `mode`, like JobSpec. */
export type JobRecord = JobRecordFields & JobSpec;

/** The stored files of a job besides its inputs: its result (a WAV for sound jobs, an MP4 for video), the latest preview, a sound's spectrogram sheet. */
export type ResultFile = 'result.png' | 'result.wav' | 'result.mp4';
export type JobFile = ResultFile | 'preview.png' | 'spectrogram.png';
export const resultFileOf = (mode: JobMode): ResultFile => (mode === 'audio' ? 'result.wav' : mode === 'video' ? 'result.mp4' : 'result.png');

/** Job ids: lower-case RFC 4122 version-4 UUIDs (122 random bits). */
export const JOB_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const newJobId = (): string => randomUUID();
export const isJobId = (s: unknown): s is string => typeof s === 'string' && JOB_ID_RE.test(s);

/** The URL of a job's preview PNG (the latest one is served; `iter` gives each preview its own URL). */
export const previewUrl = (id: string, iter: number): string => `/api/jobs/${id}/preview.png?iter=${iter}`;

export function jobView(job: JobRecord, opts: { history?: boolean } = {}): JobView {
  const base = `/api/jobs/${job.id}`;
  const v: JobView = {
    id: job.id,
    status: job.status,
    mode: job.mode,
    params: job.params,
    inputs: { content: job.inputs.contentName, styles: job.inputs.styleNames },
    progress: { ...job.progress },
    loss: job.loss,
    error: job.error,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    width: job.width,
    height: job.height,
    duration: job.duration,
    frames: job.frames,
    fps: job.fps,
    worker: job.worker,
    attempt: job.attempt,
    eventsUrl: `${base}/events`,
  };
  if (opts.history !== false) v.lossHistory = [...job.lossHistory];
  if (job.status === 'done') v.resultUrl = `${base}/result`;
  if (job.status === 'done' && job.mode === 'audio') v.spectrogramUrl = `${base}/spectrogram.png`;
  if (job.previewIter !== undefined) v.previewUrl = previewUrl(job.id, job.previewIter);
  for (const k of Object.keys(v) as (keyof JobView)[]) if (v[k] === undefined) delete v[k];
  return v;
}

/** One line, at most `max` characters: what the API puts in {error}. */
export function oneLine(s: string, max = 500): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Where the server keeps jobs: $STYLELOOM_DATA, else <styleloom cache>/server (~/.cache/styleloom/server). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STYLELOOM_DATA || path.join(cacheDir(env), 'server');
}
