// The embedded JobQueue: jobs run in this process with a concurrency limit and a bounded queue,
// records kept in a JobStore (DiskJobStore by default); a restart queues again what was running.
import fs from 'node:fs/promises';
import { StyleloomError } from '../errors.js';
import type { QueueStats } from './api-types.js';
import { isFinal, isJobId, jobView, newJobId, oneLine, previewUrl, type JobFile, type JobRecord, type JobSpec } from './jobs.js';
import { framesDone, markDone, storeOutcome } from './outcome.js';
import { newJobRecord, uploadsOf } from './new-job.js';
import { compareSeq, QueueClosedError, QueueFullError, SHUTDOWN, type JobEvent, type JobQueue, type JobRunner, type JobStore, type NewJob, type RunContext, type RunOutcome } from './queue.js';

export interface LocalQueueOptions {
  store: JobStore;
  runner: JobRunner;
  /** Jobs run at the same time (default 1). */
  concurrency?: number;
  /** Most jobs waiting (not running); enqueue() beyond that throws QueueFullError (default 20). */
  maxQueue?: number;
  /** Do not start jobs until start() (default false: start() is called by create()). */
  paused?: boolean;
  /** Called when a job fails (for logging). */
  onError?: (job: JobRecord, err: unknown) => void;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
  cancelled: boolean;
}

const now = () => new Date().toISOString();
/** Events kept per job for reconnecting SSE clients. */
const EVENT_LOG = 500;

function errorMessage(err: unknown): string {
  if (err instanceof StyleloomError) return oneLine(err.message);
  const msg = err instanceof Error ? err.message : String(err);
  return oneLine(`internal error: ${msg}`);
}

/** The embedded queue: in-process workers, records in a JobStore. Create with LocalJobQueue.create(). */
export class LocalJobQueue implements JobQueue {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly pending: string[] = [];
  private readonly running = new Map<string, Running>();
  private readonly listeners = new Map<string, Set<(e: JobEvent) => void>>();
  private readonly saving = new Map<string, Promise<void>>();
  /** The latest events of each job (at most EVENT_LOG), for SSE clients that reconnect; numbered from 1. */
  private readonly log = new Map<string, { next: number; events: JobEvent[] }>();
  private paused: boolean;
  private closed = false;
  /** Slots taken by enqueue() calls still writing their files. */
  private reserved = 0;
  readonly concurrency: number;
  readonly maxQueue: number;

  private constructor(private readonly opts: LocalQueueOptions) {
    this.concurrency = opts.concurrency ?? 1;
    this.maxQueue = opts.maxQueue ?? 20;
    this.paused = true;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new StyleloomError('E_USAGE', `concurrency must be a whole number >= 1, got ${this.concurrency}`);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) throw new StyleloomError('E_USAGE', `max queue must be a whole number >= 1, got ${this.maxQueue}`);
  }

  /** Loads the stored jobs (a job that was running is queued again), then starts unless paused. */
  static async create(opts: LocalQueueOptions): Promise<LocalJobQueue> {
    const q = new LocalJobQueue(opts);
    await q.reload();
    if (!opts.paused) q.start();
    return q;
  }

  private async reload(): Promise<void> {
    const all = await this.opts.store.loadAll();
    all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const job of all) {
      if (job.status === 'running') {
        this.requeue(job);
        await this.persist(job);
      }
      this.jobs.set(job.id, job);
      if (job.status === 'queued') this.pending.push(job.id);
    }
  }

  private requeue(job: JobRecord): void {
    job.status = 'queued';
    job.progress = { iter: 0, iters: job.progress.iters };
    job.loss = null;
    job.lossHistory = [];
    delete job.startedAt;
    delete job.previewIter;
  }

  async enqueue(n: NewJob): Promise<JobRecord> {
    if (this.closed) throw new QueueClosedError();
    if (this.pending.length + this.reserved >= this.maxQueue) throw new QueueFullError(this.maxQueue);
    const job = newJobRecord(n, now());
    // reserve the slot before the (async) writes, so that concurrent uploads cannot overfill the queue;
    // the job becomes visible (and runnable) only once its files and record are stored
    this.reserved++;
    try {
      await this.opts.store.create(job, uploadsOf(n));
    } finally {
      this.reserved--;
    }
    this.jobs.set(job.id, job);
    this.pending.push(job.id);
    this.emitState(job);
    this.pump();
    return job;
  }

  get(id: string): JobRecord | undefined {
    return isJobId(id) ? this.jobs.get(id) : undefined;
  }

  list(limit = 50): JobRecord[] {
    return [...this.jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? -1 : 1)).slice(0, Math.max(0, limit));
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const job = this.get(id);
    if (!job) return undefined;
    if (job.status === 'cancelled') return job;
    if (isFinal(job.status)) throw new StyleloomError('E_USAGE', `job is already ${job.status}; only queued or running jobs can be cancelled`);
    const r = this.running.get(id);
    if (r) {
      r.cancelled = true;
      r.controller.abort();
      await r.done; // stylize checks the signal every iteration, so this is at most one iteration
      return job;
    }
    const k = this.pending.indexOf(id);
    if (k >= 0) this.pending.splice(k, 1);
    job.status = 'cancelled';
    job.finishedAt = now();
    await this.persist(job);
    this.emitState(job);
    return job;
  }

  async remove(id: string): Promise<boolean> {
    const job = this.get(id);
    if (!job) return false;
    if (!isFinal(job.status)) throw new StyleloomError('E_USAGE', `job is ${job.status}; cancel it first (DELETE once more deletes it)`);
    this.jobs.delete(id);
    this.listeners.delete(id);
    this.log.delete(id);
    await this.saving.get(id); // a record write still in flight must not recreate the folder
    await this.opts.store.remove(id);
    return true;
  }

  usage(): Promise<number> {
    return this.opts.store.usage();
  }

  on(id: string, listener: (e: JobEvent) => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(id) === set) this.listeners.delete(id);
    };
  }

  async file(id: string, name: JobFile): Promise<string | undefined> {
    if (!this.get(id)) return undefined;
    const p = this.opts.store.filePath(id, name);
    const st = await fs.stat(p).catch(() => null);
    return st?.isFile() ? p : undefined;
  }

  stats(): QueueStats {
    return { queued: this.pending.length + this.reserved, running: this.running.size, concurrency: this.concurrency, maxQueue: this.maxQueue, paused: this.paused };
  }

  start(): void {
    if (this.closed) return;
    this.paused = false;
    this.pump();
  }

  pause(): void {
    this.paused = true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.paused = true;
    const running = [...this.running.values()];
    for (const r of running) r.controller.abort(SHUTDOWN);
    await Promise.all(running.map((r) => r.done));
    await Promise.all([...this.saving.values()]);
    this.listeners.clear();
  }

  eventsAfter(id: string, afterSeq: string): JobEvent[] {
    const events = this.log.get(id)?.events ?? [];
    return events.filter((e) => compareSeq(e.seq!, afterSeq) > 0);
  }

  private emit(e: JobEvent): void {
    let log = this.log.get(e.id);
    if (!log) this.log.set(e.id, (log = { next: 1, events: [] }));
    e.seq = String(log.next++);
    log.events.push(e);
    if (log.events.length > EVENT_LOG) log.events.splice(0, log.events.length - EVENT_LOG);
    // a finished job keeps only its state events (a client reconnecting then wants the end, not every iteration)
    if (e.type === 'state' && isFinal(e.job.status)) log.events = log.events.filter((x) => x.type === 'state');
    for (const key of [e.id, '*']) {
      for (const l of [...(this.listeners.get(key) ?? [])]) {
        try {
          l(e);
        } catch {
          // a broken listener (e.g. a closed SSE socket) must not stop the job
        }
      }
    }
  }

  private emitState(job: JobRecord): void {
    this.emit({ type: 'state', id: job.id, job: jobView(job) });
  }

  /** Writes of one job's record happen in order. */
  private persist(job: JobRecord): Promise<void> {
    const snapshot = structuredClone(job);
    const prev = this.saving.get(job.id) ?? Promise.resolve();
    const next = prev.then(() => this.opts.store.save(snapshot)).catch((e) => this.opts.onError?.(job, e));
    this.saving.set(job.id, next);
    void next.then(() => {
      if (this.saving.get(job.id) === next) this.saving.delete(job.id);
    });
    return next;
  }

  private pump(): void {
    while (!this.paused && !this.closed && this.running.size < this.concurrency && this.pending.length > 0) {
      const id = this.pending.shift()!;
      const job = this.jobs.get(id);
      if (!job || job.status !== 'queued') continue;
      this.startJob(job);
    }
  }

  private startJob(job: JobRecord): void {
    const controller = new AbortController();
    const entry: Running = { controller, cancelled: false, done: Promise.resolve() };
    this.running.set(job.id, entry);
    job.status = 'running';
    job.startedAt = now();
    job.progress = { iter: 0, iters: job.progress.iters };
    job.lossHistory = [];
    job.loss = null;
    entry.done = (async () => {
      await this.persist(job);
      this.emitState(job);
      let outcome: RunOutcome | undefined;
      let failure: unknown;
      try {
        if (controller.signal.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
        outcome = await this.opts.runner(this.context(job, controller.signal));
        if (!controller.signal.aborted) await storeOutcome(this.opts.store, job, outcome);
      } catch (e) {
        failure = e;
      }
      this.running.delete(job.id);
      if (entry.cancelled) {
        job.status = 'cancelled';
        job.finishedAt = now();
      } else if (controller.signal.aborted && this.closed) {
        this.requeue(job); // shut down while running: run it again after the restart
      } else if (failure !== undefined || !outcome) {
        job.status = 'failed';
        job.error = errorMessage(failure);
        job.finishedAt = now();
        this.opts.onError?.(job, failure);
      } else markDone(job, outcome, now());
      await this.persist(job);
      if (!this.closed) this.emitState(job);
      this.pump();
    })();
  }

  private context(job: JobRecord, signal: AbortSignal): RunContext {
    return {
      job,
      signal,
      file: (name) => this.opts.store.filePath(job.id, name),
      progress: (p) => {
        if (signal.aborted) return;
        job.progress = { iter: p.iter, iters: p.iters };
        if (p.loss) {
          job.loss = p.loss;
          job.lossHistory.push(p.loss.total);
        }
        this.emit({ type: 'progress', id: job.id, iter: p.iter, iters: p.iters, loss: p.loss });
      },
      video: (p) => {
        if (signal.aborted) return;
        job.progress = framesDone(p);
        this.emit({ type: 'video', id: job.id, ...p });
      },
      preview: async (png, iter) => {
        if (signal.aborted) return;
        await this.opts.store.writeFile(job.id, 'preview.png', png);
        job.previewIter = iter;
        this.emit({ type: 'preview', id: job.id, iter, url: previewUrl(job.id, iter) });
      },
    };
  }
}
