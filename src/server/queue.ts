// The job queue contract of the HTTP service: JobStore (persistence) and JobQueue (scheduling and
// events), the runner a queue calls, and the errors it throws. Implementations: local-queue.ts
// (LocalJobQueue, in-process workers) and disk-store.ts (DiskJobStore, one directory per job); this
// module imports neither, so that another backend can implement the same interfaces beside them.
//
// A Redis-backed backend would implement the same two interfaces without changing the HTTP layer:
//   - JobStore: job records as Redis hashes (HSET job:<id> json), the id set as a sorted set by
//     creation time (ZADD jobs <ms> <id>) for list(); input/result/preview bytes on shared storage
//     (a shared volume or object store), so filePath()/writeFile() point there.
//   - JobQueue: enqueue = store.create + LPUSH queue:pending <id> (queue length from LLEN for the
//     429 check); workers (this process or others) take jobs with BLMOVE pending -> running:<worker>,
//     so a crashed worker's jobs can be moved back on restart (what LocalJobQueue's reload() does); cancel =
//     PUBLISH job:<id>:cancel, and the worker owning it aborts its AbortController; progress/preview/
//     state events are PUBLISHed on job:<id>:events and on() subscribes, so an SSE client can be
//     served by any instance.
// (src/server/redis/ is that backend, with BullMQ as the queue and Redis streams as the event log.)
// Nothing else in the server touches the disk layout: routes go through JobQueue only.
import type { LossTerms } from '../loss/types.js';
import type { QueueStats } from './api-types.js';
import type { JobFile, JobRecord, JobSpec, JobView, VideoProgress } from './jobs.js';

export type { QueueStats } from './api-types.js';

/** Thrown by enqueue() when the queue already holds maxQueue waiting jobs (HTTP 429). */
export class QueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`the queue is full (${maxQueue} jobs waiting); try again later`);
    this.name = 'QueueFullError';
  }
}

/** Thrown by enqueue() after close() (HTTP 503). */
export class QueueClosedError extends Error {
  constructor() {
    super('the server is shutting down; try again later');
    this.name = 'QueueClosedError';
  }
}

export interface UploadedFile {
  /** File name inside the job directory (chosen by the server, e.g. content.png). */
  name: string;
  /** The bytes, or (uploads) a temp file that the store may move into place: one of the two. */
  data?: Buffer;
  path?: string;
  /** The name the client gave (display only; never used as a path). */
  clientName?: string;
}

/** What enqueue() gets: the mode and its parameters (a union keyed on `mode`, as JobSpec) and the uploads. */
export type NewJob = JobSpec & {
  content: UploadedFile;
  styles: UploadedFile[];
  /** The masks uploaded with the job (issue 17), when any. */
  masks?: { mask?: UploadedFile; styleMasks?: UploadedFile[]; styleRegions?: UploadedFile[] };
  /** mode=video: what probing the clip found (its part to stylise). */
  clip?: { frames: number; fps: number; duration: number };
};

/** `seq`: the event's place in its job's log (what SSE sends as `id:`, and Last-Event-ID names on a reconnect). */
export type JobEvent = (
  | { type: 'progress'; id: string; iter: number; iters: number; loss: LossTerms | null }
  | { type: 'preview'; id: string; iter: number; url: string }
  | ({ type: 'video'; id: string } & VideoProgress)
  | { type: 'state'; id: string; job: JobView }
) & { seq?: string };

/** A value, or a promise of it: the embedded queue answers at once, a remote one (Redis) later. */
export type Awaitable<T> = T | Promise<T>;

/** Orders two event seqs ("12" or "1700000000000-3": numbers separated by '-'). */
export function compareSeq(a: string, b: string): number {
  const pa = a.split('-').map(Number);
  const pb = b.split('-').map(Number);
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) {
    const d = (pa[k] ?? 0) - (pb[k] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The reason a run's signal carries when its queue shuts down: the job runs again after the restart, so a runner may keep its partial work (a video's finished frames). */
export const SHUTDOWN = 'shutdown';

/** What a runner gets for one job. */
export interface RunContext {
  job: Readonly<JobRecord>;
  /** Absolute path of a file of this job (its inputs). */
  file(name: string): string;
  signal: AbortSignal;
  progress(p: { iter: number; iters: number; loss: LossTerms | null }): void;
  /** Store a preview PNG (served at /api/jobs/:id/preview.png) and tell the listeners. */
  preview(png: Buffer, iter: number): Promise<void>;
  /** mode=video: where the frames are (a `video` event); the job's progress becomes frames finished of frames. */
  video(p: VideoProgress): void;
}

export interface RunOutcome {
  /** The encoded result, with provenance metadata: a PNG, a WAV for mode=audio, an MP4 for mode=video (stored as resultFileOf(mode)). */
  result: Buffer;
  /** Other files kept with the result (a sound's spectrogram sheet). */
  extra?: { name: 'spectrogram.png'; data: Buffer }[];
  width?: number;
  height?: number;
  /** Seconds of a sound result. */
  duration?: number;
  /** Frames and frame rate of a video result. */
  frames?: number;
  fps?: number;
  loss?: LossTerms | null;
  lossHistory?: number[];
}

/** Executes one job; rejects (with a StyleloomError whose message is one line, ideally) on failure. */
export type JobRunner = (ctx: RunContext) => Promise<RunOutcome>;

/** Persistence of jobs and their files. */
export interface JobStore {
  /** Store the uploaded files, then the record (so a crash never leaves a record without inputs). */
  create(job: JobRecord, files: UploadedFile[]): Promise<void>;
  /** Persist the record (atomically). */
  save(job: JobRecord): Promise<void>;
  /** Every stored job (unreadable records are skipped). */
  loadAll(): Promise<JobRecord[]>;
  /** Store a file of a job (atomically), e.g. result.png. */
  writeFile(id: string, name: string, data: Buffer): Promise<void>;
  /** Local path of a file of a job (id and name must already be validated): where a runner reads it (a store that keeps files elsewhere fetches a copy there first). */
  filePath(id: string, name: string): string;
  /** The bytes of a stored file of a job, or undefined. */
  readFile(id: string, name: string): Promise<Buffer | undefined>;
  /** Delete a job: its record and every file. */
  remove(id: string): Promise<void>;
  /** Bytes the stored jobs take (their files and records). */
  usage(): Promise<number>;
}

/** Scheduling, cancellation and events of jobs; the HTTP layer uses nothing else. */
export interface JobQueue {
  enqueue(job: NewJob): Promise<JobRecord>;
  get(id: string): Awaitable<JobRecord | undefined>;
  /** Most recent first. */
  list(limit?: number): Awaitable<JobRecord[]>;
  /** Cancel a queued or running job; undefined if there is no such job. Throws if it already finished. */
  cancel(id: string): Promise<JobRecord | undefined>;
  /** Delete a finished (done, failed, cancelled) job and its files; false if there is no such job. Throws if it has not finished. */
  remove(id: string): Promise<boolean>;
  /** Bytes the stored jobs take (for the disk quota). */
  usage(): Promise<number>;
  /** Subscribe to events (of one job, or all with '*'); returns the unsubscribe function. */
  on(id: string, listener: (e: JobEvent) => void): () => void;
  /** The events of a job after `afterSeq` that are still kept (for an SSE client that reconnects with Last-Event-ID). */
  eventsAfter(id: string, afterSeq: string): Awaitable<JobEvent[]>;
  /** A stored file of a job: its local path, or its bytes (a remote store); undefined if it does not exist. */
  file(id: string, name: JobFile): Promise<string | Buffer | undefined>;
  stats(): Awaitable<QueueStats>;
  /** Start (or resume) running queued jobs. */
  start(): void;
  /** Stop starting new jobs (running ones continue). */
  pause(): void;
  /** Stop: running jobs are aborted and stay queued for the next start; resolves when they stopped. */
  close(): Promise<void>;
}
