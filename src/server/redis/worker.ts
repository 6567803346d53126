// A BullMQ worker of styleloom jobs: takes jobs from the queue in Redis, copies their inputs to a
// local folder, runs them, and writes progress, previews, results and state back to Redis. A worker
// that dies mid-job loses its lock; BullMQ's stalled-job check gives the job to another worker, whose
// run then owns it (writes of the old run are ignored), so that each job finishes once.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { StyleloomError } from '../../errors.js';
import { isFinal, jobView, oneLine, previewUrl, type JobRecord } from '../jobs.js';
import { framesDone, markDone, storeOutcome } from '../outcome.js';
import { SHUTDOWN, type JobEvent, type JobRunner, type RunContext } from '../queue.js';
import { bullConnection, connectRedis, keysFor, waitForRedis } from './connection.js';
import { RedisJobStore } from './store.js';

export interface RedisWorkerOptions {
  url: string;
  prefix?: string;
  runner: JobRunner;
  /** Jobs run at the same time by this worker (default 1). */
  concurrency?: number;
  /** Local folder for the inputs of the running jobs. */
  dataDir: string;
  /** Runs of one job before it fails for good (errors and stalls together; default 3). */
  attempts?: number;
  /** Lock of a running job (ms): a worker silent this long has stalled and its job goes to another (default 30000). */
  lockMs?: number;
  /** Name shown in job records and Redis CLIENT LIST (default host:pid). */
  name?: string;
  log?: (line: string) => void;
}

export interface RedisWorker {
  readonly name: string;
  /** Jobs running now. */
  running(): number;
  pause(): Promise<void>;
  resume(): void;
  /** Takes no new job, lets the running ones finish (drain), then disconnects. */
  close(): Promise<void>;
  /** Stops at once, writing nothing more, as if the process had died: the running jobs' locks expire and other workers take them. */
  kill(): Promise<void>;
}

const now = () => new Date().toISOString();
/** Record saves while a job runs, at most one per this many ms (events go out every time). */
const SAVE_EVERY_MS = 250;

function errorMessage(err: unknown): string {
  if (err instanceof StyleloomError) return oneLine(err.message);
  return oneLine(`internal error: ${err instanceof Error ? err.message : String(err)}`);
}

/** Errors that another run would repeat (bad input, divergence): no retry. */
const isFinalError = (err: unknown) => err instanceof StyleloomError && err.code !== 'E_INTERNAL';

export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RedisWorker> {
  const keys = keysFor(opts.prefix);
  const name = opts.name ?? `${os.hostname()}:${process.pid}`;
  const attempts = opts.attempts ?? 3;
  const lockMs = opts.lockMs ?? 30_000;
  const log = opts.log ?? (() => undefined);
  const redis = connectRedis(opts.url, `styleloom-worker-${name}`);
  const sub = connectRedis(opts.url, `styleloom-worker-sub-${name}`);
  redis.on('error', () => undefined); // reconnects on its own; the commands wait
  sub.on('error', () => undefined);
  await waitForRedis(redis, opts.url);
  const store = new RedisJobStore(redis, keys, { localDir: opts.dataDir });
  const running = new Map<string, { controller: AbortController; cancelled: boolean }>();
  let dead = false;

  await sub.subscribe(keys.cancelChannel);
  sub.on('message', (channel, id) => {
    const r = channel === keys.cancelChannel ? running.get(id) : undefined;
    if (r) {
      r.cancelled = true;
      r.controller.abort();
    }
  });

  async function runJob(bull: Job<{ id: string }>): Promise<string> {
    const id = bull.data.id;
    const job = await store.get(id);
    if (!job || isFinal(job.status)) return 'skipped'; // deleted, cancelled while waiting, or finished by an earlier run
    const token = randomUUID();
    await store.claim(id, token);
    const emit = async (e: JobEvent) => (dead ? undefined : store.emit(e, token));
    const saveOwned = async (): Promise<boolean> => !dead && store.saveIfOwner(job, token);
    if (await redis.exists(keys.cancel(id))) {
      job.status = 'cancelled';
      job.finishedAt = now();
      if (await saveOwned()) await emit({ type: 'state', id, job: jobView(job) });
      return 'cancelled';
    }
    job.status = 'running';
    job.startedAt = now();
    job.progress = { iter: 0, iters: job.progress.iters };
    job.loss = null;
    job.lossHistory = [];
    delete job.previewIter;
    delete job.error;
    job.worker = name;
    job.attempt = bull.attemptsStarted ?? bull.attemptsMade + 1;
    await saveOwned();
    await emit({ type: 'state', id, job: jobView(job) });

    const controller = new AbortController();
    const entry = { controller, cancelled: false };
    running.set(id, entry);
    let lost = false;
    const owned = (seq: string | undefined) => {
      if (seq === undefined && !lost && !dead) {
        lost = true; // another run has the job now: stop this one, quietly
        controller.abort();
      }
    };
    let lastSave = 0;
    const ctx: RunContext = {
      job,
      signal: controller.signal,
      file: (n) => store.filePath(id, n),
      progress: (p) => {
        if (controller.signal.aborted) return;
        job.progress = { iter: p.iter, iters: p.iters };
        if (p.loss) {
          job.loss = p.loss;
          job.lossHistory.push(p.loss.total);
        }
        void emit({ type: 'progress', id, iter: p.iter, iters: p.iters, loss: p.loss }).then(owned, () => undefined);
        if (Date.now() - lastSave > SAVE_EVERY_MS) {
          lastSave = Date.now();
          void saveOwned().catch(() => undefined);
        }
      },
      video: (p) => {
        if (controller.signal.aborted) return;
        job.progress = framesDone(p);
        void emit({ type: 'video', id, ...p }).then(owned, () => undefined);
      },
      preview: async (png, iter) => {
        if (controller.signal.aborted || png.length > store.maxFileBytes) return;
        await store.writeFile(id, 'preview.png', png);
        job.previewIter = iter;
        owned(await emit({ type: 'preview', id, iter, url: previewUrl(id, iter) }));
      },
    };
    try {
      await store.fetchInputs(job);
      const outcome = await opts.runner(ctx);
      if (lost || dead) return 'lost';
      if (controller.signal.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
      await storeOutcome(store, job, outcome);
      markDone(job, outcome, now());
      if (!(await saveOwned())) return 'lost';
      await emit({ type: 'state', id, job: jobView(job) });
      return 'done';
    } catch (err) {
      if (lost || dead) return 'lost';
      if (entry.cancelled || (await redis.exists(keys.cancel(id)))) {
        job.status = 'cancelled';
        job.finishedAt = now();
        if (await saveOwned()) await emit({ type: 'state', id, job: jobView(job) });
        return 'cancelled';
      }
      const message = errorMessage(err);
      const last = isFinalError(err) || bull.attemptsMade + 1 >= attempts;
      if (last) {
        job.status = 'failed';
        job.error = message;
        job.finishedAt = now();
        log(`job ${id} failed: ${message}`);
      } else {
        job.status = 'queued'; // BullMQ runs it again
        job.error = `attempt ${bull.attemptsMade + 1} of ${attempts} failed: ${message}`;
      }
      if (await saveOwned()) await emit({ type: 'state', id, job: jobView(job) });
      throw last ? new UnrecoverableError(message) : err;
    } finally {
      running.delete(id);
      await store.dropLocal(id).catch(() => undefined);
    }
  }

  const worker = new Worker<{ id: string }>(keys.queueName, runJob, {
    connection: bullConnection(opts.url, `styleloom-bull-${name}`),
    prefix: keys.bullPrefix,
    concurrency: opts.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
    maxStalledCount: Math.max(0, attempts - 1),
    autorun: true,
  });
  worker.on('error', (e) => log(`worker: ${oneLine(e.message)}`));
  // a job that stalled once too often fails in BullMQ without running: say so in its record
  worker.on('failed', (bull, err) => {
    const id = bull?.data?.id;
    if (!id) return;
    void (async () => {
      if ((await bull!.getState()) !== 'failed') return; // a failed run with attempts left: BullMQ runs it again
      const job = await store.get(id);
      if (!job || isFinal(job.status)) return;
      const times = `${attempts} time${attempts === 1 ? '' : 's'}`;
      const rec: JobRecord = { ...job, status: 'failed', finishedAt: now(), error: oneLine(`the job was interrupted ${times} (a worker stopped mid-job; ${err.message}); giving up`) };
      await store.save(rec);
      await store.emit({ type: 'state', id, job: jobView(rec) });
      log(`job ${id} failed: ${rec.error}`);
    })().catch(() => undefined);
  });
  await worker.waitUntilReady();

  return {
    name,
    running: () => running.size,
    pause: () => worker.pause(true),
    resume: () => worker.resume(),
    async kill() {
      dead = true;
      for (const r of running.values()) r.controller.abort(SHUTDOWN);
      await worker.close(true).catch(() => undefined);
      sub.disconnect();
      redis.disconnect();
    },
    async close() {
      await worker.close(); // waits for the running jobs
      await sub.quit().catch(() => sub.disconnect());
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
