// The Redis JobQueue of an API node: jobs go on a BullMQ queue, records and files into Redis
// (RedisJobStore), events come back on one pub/sub channel (any API node serves any job's SSE), and
// this node runs its own workers only if asked (`--workers n`; 0 = an API node only).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { StyleloomError } from '../../errors.js';
import type { QueueStats } from '../api-types.js';
import { isFinal, isJobId, jobView, newJobId, type JobFile, type JobRecord, type JobSpec } from '../jobs.js';
import { newJobRecord, uploadsOf } from '../new-job.js';
import { QueueClosedError, QueueFullError, type JobEvent, type JobQueue, type JobRunner, type NewJob } from '../queue.js';
import { bullConnection, connectRedis, keysFor, waitForRedis, type Keys } from './connection.js';
import { parseEventMessage, RedisJobStore } from './store.js';
import { startRedisWorker, type RedisWorker } from './worker.js';

export interface RedisQueueOptions {
  url: string;
  prefix?: string;
  /** Jobs run by this node's own worker at the same time; 0 = none (default 1). */
  workers?: number;
  /** The runner of this node's worker (needed when workers > 0). */
  runner?: JobRunner;
  /** Local folder for uploads in flight and this node's worker's inputs. */
  dataDir: string;
  /** Most jobs waiting in the queue (all API nodes together) before 429 (default 20). */
  maxQueue?: number;
  /** Runs of one job before it fails (default 3). */
  attempts?: number;
  /** Lock of a running job in ms (default 30000). */
  lockMs?: number;
  paused?: boolean;
  log?: (line: string) => void;
}

export class RedisJobQueue implements JobQueue {
  private readonly listeners = new Map<string, Set<(e: JobEvent) => void>>();
  private worker: RedisWorker | undefined;
  private closed = false;
  private paused = true;
  readonly maxQueue: number;
  readonly workers: number;

  private constructor(
    private readonly opts: RedisQueueOptions,
    private readonly redis: Redis,
    private readonly sub: Redis,
    private readonly keys: Keys,
    readonly store: RedisJobStore,
    private readonly bull: Queue,
  ) {
    this.maxQueue = opts.maxQueue ?? 20;
    this.workers = opts.workers ?? 1;
  }

  static async create(opts: RedisQueueOptions): Promise<RedisJobQueue> {
    const workers = opts.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 0) throw new StyleloomError('E_USAGE', `workers must be a whole number >= 0, got ${workers}`);
    if (workers > 0 && !opts.runner) throw new StyleloomError('E_INTERNAL', 'a runner is needed for workers > 0');
    const keys = keysFor(opts.prefix);
    const redis = connectRedis(opts.url, 'styleloom-api');
    const sub = connectRedis(opts.url, 'styleloom-api-sub');
    redis.on('error', () => undefined); // reconnects on its own; commands wait meanwhile
    sub.on('error', () => undefined);
    try {
      await waitForRedis(redis, opts.url);
    } catch (e) {
      redis.disconnect();
      sub.disconnect();
      throw e;
    }
    const store = new RedisJobStore(redis, keys, { localDir: opts.dataDir });
    const bull = new Queue(keys.queueName, { connection: bullConnection(opts.url, 'styleloom-api-bull'), prefix: keys.bullPrefix });
    bull.on('error', () => undefined);
    const q = new RedisJobQueue(opts, redis, sub, keys, store, bull);
    await sub.subscribe(keys.eventChannel);
    sub.on('message', (channel, message) => {
      if (channel !== keys.eventChannel) return;
      const e = parseEventMessage(message);
      if (e) q.dispatch(e);
    });
    if (!opts.paused) q.start();
    return q;
  }

  private dispatch(e: JobEvent): void {
    for (const key of [e.id, '*']) {
      for (const l of [...(this.listeners.get(key) ?? [])]) {
        try {
          l(e);
        } catch {
          // a broken listener must not stop the others
        }
      }
    }
  }

  private async waiting(): Promise<{ waiting: number; active: number }> {
    const c = await this.bull.getJobCounts('wait', 'prioritized', 'delayed', 'active');
    return { waiting: (c.wait ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0), active: c.active ?? 0 };
  }

  async enqueue(n: NewJob): Promise<JobRecord> {
    if (this.closed) throw new QueueClosedError();
    if ((await this.waiting()).waiting >= this.maxQueue) throw new QueueFullError(this.maxQueue);
    const job = newJobRecord(n, new Date().toISOString());
    await this.store.create(job, uploadsOf(n));
    await this.store.emit({ type: 'state', id: job.id, job: jobView(job) });
    // the job id is BullMQ's too: adding it twice cannot make two runs
    await this.bull.add('job', { id: job.id }, { jobId: job.id, attempts: this.opts.attempts ?? 3, removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } });
    return job;
  }

  get(id: string): Promise<JobRecord | undefined> {
    return this.store.get(id);
  }

  list(limit = 50): Promise<JobRecord[]> {
    return this.store.list(Math.max(0, limit));
  }

  async cancel(id: string): Promise<JobRecord | undefined> {
    const job = await this.store.get(id);
    if (!job) return undefined;
    if (job.status === 'cancelled') return job;
    if (isFinal(job.status)) throw new StyleloomError('E_USAGE', `job is already ${job.status}; only queued or running jobs can be cancelled`);
    // the flag first: a worker that takes the job from now on sees it
    await this.redis.set(this.keys.cancel(id), '1', 'EX', 86_400);
    const removed = await this.bull.remove(id).catch(() => 0); // 0 when a worker holds it (locked)
    if (removed === 1) {
      const rec: JobRecord = { ...job, status: 'cancelled', finishedAt: new Date().toISOString() };
      await this.store.save(rec);
      await this.store.emit({ type: 'state', id, job: jobView(rec) });
      return rec;
    }
    await this.redis.publish(this.keys.cancelChannel, id);
    // the worker stops within one iteration; wait for its final record (bounded)
    const t0 = Date.now();
    for (;;) {
      const cur = await this.store.get(id);
      if (!cur || isFinal(cur.status) || Date.now() - t0 > 10_000) return cur;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async remove(id: string): Promise<boolean> {
    const job = await this.store.get(id);
    if (!job) return false;
    if (!isFinal(job.status)) throw new StyleloomError('E_USAGE', `job is ${job.status}; cancel it first (DELETE once more deletes it)`);
    await this.bull.remove(id).catch(() => 0);
    await this.store.remove(id);
    return true;
  }

  usage(): Promise<number> {
    return this.store.usage();
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

  eventsAfter(id: string, afterSeq: string): Promise<JobEvent[]> {
    return this.store.eventsAfter(id, afterSeq);
  }

  async file(id: string, name: JobFile): Promise<Buffer | undefined> {
    if (!isJobId(id)) return undefined;
    return this.store.readFile(id, name);
  }

  async stats(): Promise<QueueStats> {
    const c = await this.waiting();
    return { queued: c.waiting, running: c.active, concurrency: this.workers, maxQueue: this.maxQueue, paused: this.paused };
  }

  start(): void {
    if (this.closed) return;
    this.paused = false;
    if (this.workers === 0) return;
    if (this.worker) return this.worker.resume();
    void startRedisWorker({
      url: this.opts.url,
      prefix: this.opts.prefix,
      runner: this.opts.runner!,
      concurrency: this.workers,
      dataDir: this.opts.dataDir,
      attempts: this.opts.attempts,
      lockMs: this.opts.lockMs,
      log: this.opts.log,
    }).then(
      (w) => {
        if (this.closed) void w.close();
        else this.worker = w;
      },
      (e) => this.opts.log?.(`worker: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  pause(): void {
    this.paused = true;
    void this.worker?.pause();
  }

  /** This node's worker drains its running jobs; then the connections close. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.paused = true;
    await this.worker?.close();
    this.listeners.clear();
    await this.bull.close().catch(() => undefined);
    await this.sub.quit().catch(() => this.sub.disconnect());
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
