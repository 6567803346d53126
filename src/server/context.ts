// What the route modules share: the queue, the server's limits and its models, resolved once by
// createServer() and handed to each register*() function; plus jobOf(), the :id lookup of the job routes.
import type { FastifyRequest } from 'fastify';
import type { VggInfo } from './api-types.js';
import { isJobId, type JobRecord } from './jobs.js';
import type { FastModelInfo } from './models.js';
import { HttpError } from './params.js';
import type { JobQueue } from './queue.js';

export interface ServerLimits {
  /** Largest `size` a job may ask for (long side, px). */
  maxSize: number;
  /** Largest iters × scales of a job. */
  maxIters: number;
  /** Longest sound a mode=audio job may upload or ask for, seconds. */
  maxAudioSeconds: number;
  /** Longest part of a clip a mode=video job may stylise, seconds. */
  maxVideoSeconds: number;
  /** Largest frame of an uploaded clip (width × height of its video stream), pixels. */
  maxVideoPixels: number;
  /** Largest upload, all files of one request together, in MB (as configured; for messages). */
  maxUploadMb: number;
  /** The same in bytes. */
  maxBytes: number;
  /** Largest decoded image accepted, in pixels. */
  maxPixels: number;
  /** Most style images per job. */
  maxStyles: number;
  /** Most uploads read at the same time (503 beyond). */
  maxUploads: number;
  /** A request body that sends nothing for this long is cut (408). */
  bodyTimeoutMs: number;
}

export interface ServerModels {
  /** The VGG-19 weights, or null (then `vggError` says why, and only fast jobs run). */
  vgg: VggInfo | null;
  vggError?: string;
  /** The folder of fast-style networks. */
  fastDir: string;
  /** The fast-style networks found by the latest look at the folder. */
  fast(): FastModelInfo[];
  /** Look at the folder again. */
  refresh(): Promise<FastModelInfo[]>;
}

export interface ServerContext {
  queue: JobQueue;
  /** One-line messages for the operator (stderr under `styleloom serve`). */
  log: (line: string) => void;
  /** Disk quota of the stored jobs (bytes): uploads beyond it get 507; undefined = none. */
  quotaBytes?: number;
  /** Where uploads are streamed before they become a job's files (inside the data directory). */
  uploadDir: string;
  limits: ServerLimits;
  models: ServerModels;
}

/** The job of a route's :id, or 404 (the id is checked by regex before anything else). */
export async function jobOf(ctx: ServerContext, req: FastifyRequest): Promise<JobRecord> {
  const id = (req.params as { id?: unknown }).id;
  const job = isJobId(id) ? await ctx.queue.get(id) : undefined;
  if (!job) throw new HttpError(404, 'no such job');
  return job;
}
