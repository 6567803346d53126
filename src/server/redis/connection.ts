// Redis for the distributed queue: the connection (ioredis, retrying for ever, as BullMQ needs) and
// the names of every key styleloom keeps there, all under one prefix.
import { Redis } from 'ioredis';
import { StyleloomError } from '../../errors.js';
import { checkRedisUrl } from './url.js';

export { checkRedisUrl } from './url.js';

/** A connection that waits through Redis restarts (commands queue until it is back). */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(checkRedisUrl(url), {
    maxRetriesPerRequest: null,
    connectionName: name,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
}

/** BullMQ's connection options for the same Redis (BullMQ opens its own connections). */
export function bullConnection(url: string, name: string) {
  return { url: checkRedisUrl(url), maxRetriesPerRequest: null, connectionName: name, retryStrategy: (times: number) => Math.min(100 * times, 2000) };
}

/** Waits until `r` answers PING, at most `ms` (E_USAGE naming the URL otherwise). */
export async function waitForRedis(r: Redis, url: string, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StyleloomError('E_USAGE', `cannot reach Redis at ${url} within ${Math.round(ms / 1000)} s; is redis-server running there?`)), ms);
  });
  try {
    await Promise.race([r.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Keys {
  prefix: string;
  /** The BullMQ queue's name (BullMQ keeps its own keys under `<prefix>:bull`). */
  queueName: string;
  bullPrefix: string;
  /** JSON record of a job. */
  job(id: string): string;
  /** Sorted set of job ids by creation time. */
  jobs: string;
  /** Bytes of a stored file of a job. */
  file(id: string, name: string): string;
  /** Set of the file names of a job. */
  files(id: string): string;
  /** Total bytes of stored files (the disk quota of the Redis backend). */
  bytes: string;
  /** Redis stream: the event log of a job (SSE resumes from it). */
  events(id: string): string;
  /** Pub/sub channel of every job's events: "<seq> <json>". */
  eventChannel: string;
  /** Pub/sub channel of cancellations: the job id. */
  cancelChannel: string;
  /** Set while a job's cancellation is pending (a worker that picks the job up sees it). */
  cancel(id: string): string;
  /** The run token of the worker that owns a job now: only its writes count. */
  owner(id: string): string;
}

export function keysFor(prefix = 'styleloom'): Keys {
  return {
    prefix,
    queueName: 'jobs',
    bullPrefix: `${prefix}:bull`,
    job: (id) => `${prefix}:job:${id}`,
    jobs: `${prefix}:jobs`,
    file: (id, name) => `${prefix}:file:${id}:${name}`,
    files: (id) => `${prefix}:files:${id}`,
    bytes: `${prefix}:bytes`,
    events: (id) => `${prefix}:events:${id}`,
    eventChannel: `${prefix}:events`,
    cancelChannel: `${prefix}:cancel`,
    cancel: (id) => `${prefix}:cancel:${id}`,
    owner: (id) => `${prefix}:owner:${id}`,
  };
}
