// The HTTP service for library users: createServer() loads fastify only when called, and
// startRedisWorker() BullMQ, so that `import 'styleloom'` and the other CLI commands do not pay for them.
import type { ServerOptions, StyleloomServer } from './app.js';
import type { RedisWorker, RedisWorkerOptions } from './redis/worker.js';

export type { RedisWorker, RedisWorkerOptions } from './redis/worker.js';

export type { ServerOptions, StyleloomServer } from './app.js';
export type { JobEvent, JobQueue, JobRunner, JobStore, NewJob, QueueStats, RunContext, RunOutcome, UploadedFile } from './queue.js';
export { QueueClosedError, QueueFullError } from './queue.js';
export { DiskJobStore } from './disk-store.js';
export { LocalJobQueue, type LocalQueueOptions } from './local-queue.js';
export type { JobRecord, JobSpec, JobStatus, JobView } from './jobs.js';

/** Starts nothing: builds the fastify app and the job queue (call `app.listen()`, then `close()`). */
export async function createServer(options: ServerOptions = {}): Promise<StyleloomServer> {
  const { createServer: create } = await import('./app.js');
  return create(options);
}

/** A worker of a Redis queue (`createServer({ redis })` or `styleloom serve --redis`) in this process, with your runner. */
export async function startRedisWorker(options: RedisWorkerOptions): Promise<RedisWorker> {
  const { startRedisWorker: start } = await import('./redis/worker.js');
  return start(options);
}
