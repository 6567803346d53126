// The HTTP service for library users: createServer() loads fastify only when called, so that
// `import 'styleloom'` and the other CLI commands do not pay for it.
import type { ServerOptions, StyleloomServer } from './app.js';

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
