// Retention of finished jobs: at most `keepJobs` of them (the newest), none older than `maxAgeMs`
// (by finish time); pruned after each job ends and once a minute, through JobQueue.remove().
import { isFinal } from './jobs.js';
import type { JobQueue } from './queue.js';

export interface RetentionOptions {
  /** Most finished jobs kept (the newest); undefined = no limit. */
  keepJobs?: number;
  /** Finished jobs older than this (ms since they finished) are deleted; undefined = no limit. */
  maxAgeMs?: number;
  /** How often to look without a job ending (default 60 s). */
  everyMs?: number;
  log?: (line: string) => void;
}

export interface Retention {
  /** Deletes what is past the limits now; resolves with how many jobs went. */
  prune(): Promise<number>;
  stop(): void;
}

/** The jobs past the limits, oldest last in the list order (newest first). */
export async function pastLimits(queue: JobQueue, opts: RetentionOptions, now = Date.now()): Promise<string[]> {
  const finished = (await queue.list(Number.MAX_SAFE_INTEGER)).filter((j) => isFinal(j.status));
  const out: string[] = [];
  finished.forEach((j, k) => {
    const age = now - Date.parse(j.finishedAt ?? j.createdAt);
    if ((opts.keepJobs !== undefined && k >= opts.keepJobs) || (opts.maxAgeMs !== undefined && age > opts.maxAgeMs)) out.push(j.id);
  });
  return out;
}

export function startRetention(queue: JobQueue, opts: RetentionOptions): Retention {
  const none: Retention = { prune: async () => 0, stop: () => undefined };
  if (opts.keepJobs === undefined && opts.maxAgeMs === undefined) return none;
  let running: Promise<number> | undefined;
  let again = false;
  const once = async (): Promise<number> => {
    let n = 0;
    for (const id of await pastLimits(queue, opts)) {
      try {
        if (await queue.remove(id)) n++;
      } catch (e) {
        opts.log?.(`retention: could not delete job ${id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return n;
  };
  const prune = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let n = 0;
      do {
        again = false;
        n += await once();
      } while (again);
      running = undefined;
      return n;
    })();
    return running;
  };
  const off = queue.on('*', (e) => {
    if (e.type === 'state' && isFinal(e.job.status)) void prune();
  });
  const timer = setInterval(() => void prune(), opts.everyMs ?? 60_000);
  timer.unref();
  void prune();
  return {
    prune,
    stop: () => {
      off();
      clearInterval(timer);
    },
  };
}
