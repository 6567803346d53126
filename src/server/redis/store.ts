// The Redis JobStore: job records (JSON strings) indexed by creation time, the job's files as Redis
// strings (size-capped), and the job's event log (a Redis stream, also published on one channel).
// Writes of a running job go through the owner check: only the worker that holds the job now counts.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { StyleloomError } from '../../errors.js';
import { isFinal, isJobId, type JobRecord } from '../jobs.js';
import type { JobEvent, JobStore, UploadedFile } from '../queue.js';
import type { Keys } from './connection.js';

const SAFE_NAME = /^[a-z][a-z0-9-]*(\.[a-z0-9]+)?$/;
/** Events kept per job in its stream (SSE reconnects replay from there); a finished job keeps its last few. */
const EVENT_LOG = 500;
const FINISHED_LOG = 100;

/** KEYS: file, files set, bytes; ARGV: data, name. Replaces the file and keeps the byte count right. */
const WRITE_FILE = `
local old = redis.call('STRLEN', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('INCRBY', KEYS[3], string.len(ARGV[1]) - old)
return 1`;

/** KEYS: record, owner; ARGV: json, token. Saves only while `token` owns the job. */
const SAVE_IF_OWNER = `
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

/** KEYS: stream, channel, owner; ARGV: json, maxlen, token ('' = no owner check). Appends and publishes; returns the seq or false. */
const EMIT = `
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'e', ARGV[1])
redis.call('PUBLISH', KEYS[2], id .. ' ' .. ARGV[1])
return id`;

/** KEYS: files set, bytes, record, jobs, events, owner, cancel; ARGV: id, file key prefix. Deletes a job and everything of it. */
const REMOVE = `
local names = redis.call('SMEMBERS', KEYS[1])
local freed = 0
for _, n in ipairs(names) do
  local k = ARGV[2] .. n
  freed = freed + redis.call('STRLEN', k)
  redis.call('DEL', k)
end
redis.call('DECRBY', KEYS[2], freed)
redis.call('DEL', KEYS[1], KEYS[3], KEYS[5], KEYS[6], KEYS[7])
redis.call('ZREM', KEYS[4], ARGV[1])
return freed`;

export interface RedisStoreOptions {
  /** Where a worker puts its local copy of a job's inputs (the runner reads files). */
  localDir: string;
  /** Largest file kept in Redis (results and previews; uploads are capped by the server). */
  maxFileBytes?: number;
}

/** JobStore on Redis. One instance per connection; the connection is the caller's. */
export class RedisJobStore implements JobStore {
  readonly maxFileBytes: number;

  constructor(
    private readonly redis: Redis,
    readonly keys: Keys,
    private readonly opts: RedisStoreOptions,
  ) {
    this.maxFileBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
  }

  private checkName(id: string, name: string): void {
    if (!isJobId(id)) throw new StyleloomError('E_INTERNAL', `bad job id ${JSON.stringify(id)}`);
    if (!SAFE_NAME.test(name)) throw new StyleloomError('E_INTERNAL', `bad job file name ${JSON.stringify(name)}`);
  }

  private checkSize(name: string, bytes: number): void {
    if (bytes > this.maxFileBytes) {
      throw new StyleloomError('E_OUTPUT', `${name} is ${Math.round(bytes / 1048576)} MB, more than the ${Math.round(this.maxFileBytes / 1048576)} MB a job file may take in Redis; use a smaller size`);
    }
  }

  async create(job: JobRecord, files: UploadedFile[]): Promise<void> {
    const m = this.redis.multi();
    let total = 0;
    for (const f of files) {
      this.checkName(job.id, f.name);
      const data = f.data ?? (await fs.readFile(f.path!));
      this.checkSize(f.name, data.length);
      total += data.length;
      m.set(this.keys.file(job.id, f.name), data).sadd(this.keys.files(job.id), f.name);
    }
    // the files, the record and the index in one transaction: never a record without its inputs
    m.incrby(this.keys.bytes, total).set(this.keys.job(job.id), JSON.stringify(job)).zadd(this.keys.jobs, Date.parse(job.createdAt), job.id);
    const results = await m.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw new StyleloomError('E_OUTPUT', `Redis refused the job's files: ${failed?.[0]?.message ?? 'the transaction was discarded'}`);
  }

  async save(job: JobRecord): Promise<void> {
    await this.redis.set(this.keys.job(job.id), JSON.stringify(job));
  }

  /** Saves `job` only while `token` owns it; false when another worker has taken it over. */
  async saveIfOwner(job: JobRecord, token: string): Promise<boolean> {
    return (await this.redis.eval(SAVE_IF_OWNER, 2, this.keys.job(job.id), this.keys.owner(job.id), JSON.stringify(job), token)) === 1;
  }

  /** Makes `token` the owner of the job (a new run: what an older run writes from now on is ignored). */
  async claim(id: string, token: string): Promise<void> {
    await this.redis.set(this.keys.owner(id), token);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    if (!isJobId(id)) return undefined;
    const s = await this.redis.get(this.keys.job(id));
    return s ? (JSON.parse(s) as JobRecord) : undefined;
  }

  /** Newest first. */
  async list(limit: number): Promise<JobRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.jobs, 0, Math.min(limit, 1e6) - 1);
    if (ids.length === 0) return [];
    const recs = await this.redis.mget(ids.map((id) => this.keys.job(id)));
    return recs.filter((s): s is string => s !== null).map((s) => JSON.parse(s) as JobRecord);
  }

  async loadAll(): Promise<JobRecord[]> {
    return this.list(Number.MAX_SAFE_INTEGER);
  }

  async writeFile(id: string, name: string, data: Buffer): Promise<void> {
    this.checkName(id, name);
    this.checkSize(name, data.length);
    await this.redis.eval(WRITE_FILE, 3, this.keys.file(id, name), this.keys.files(id), this.keys.bytes, data, name);
  }

  async readFile(id: string, name: string): Promise<Buffer | undefined> {
    this.checkName(id, name);
    return (await this.redis.getBuffer(this.keys.file(id, name))) ?? undefined;
  }

  filePath(id: string, name: string): string {
    this.checkName(id, name);
    return path.join(this.opts.localDir, id, name);
  }

  /** Copies the job's inputs from Redis into the local folder (for the runner); returns that folder. */
  async fetchInputs(job: JobRecord): Promise<string> {
    const dir = path.join(this.opts.localDir, job.id);
    await fs.mkdir(dir, { recursive: true });
    for (const name of [job.inputs.content, ...job.inputs.styles]) {
      const data = await this.readFile(job.id, name);
      if (!data) throw new StyleloomError('E_INPUT', `the input ${name} of job ${job.id} is missing from Redis`);
      await fs.writeFile(path.join(dir, name), data);
    }
    return dir;
  }

  /** Removes the local copy of a job's inputs. */
  async dropLocal(id: string): Promise<void> {
    if (isJobId(id)) await fs.rm(path.join(this.opts.localDir, id), { recursive: true, force: true });
  }

  async remove(id: string): Promise<void> {
    if (!isJobId(id)) return;
    const k = this.keys;
    await this.redis.eval(REMOVE, 7, k.files(id), k.bytes, k.job(id), k.jobs, k.events(id), k.owner(id), k.cancel(id), id, k.file(id, ''));
  }

  async usage(): Promise<number> {
    return Number((await this.redis.get(this.keys.bytes)) ?? 0);
  }

  /** Appends `e` to its job's log and publishes it; with `token`, only while that run owns the job. Returns the seq, or undefined when not the owner. */
  async emit(e: JobEvent, token = ''): Promise<string | undefined> {
    const { seq: _seq, ...event } = e;
    const k = this.keys;
    const final = e.type === 'state' && isFinal(e.job.status);
    const r = await this.redis.eval(EMIT, 3, k.events(e.id), k.eventChannel, k.owner(e.id), JSON.stringify(event), String(final ? FINISHED_LOG : EVENT_LOG), token);
    return typeof r === 'string' ? r : undefined;
  }

  /** The logged events of a job after `afterSeq`. */
  async eventsAfter(id: string, afterSeq: string): Promise<JobEvent[]> {
    if (!isJobId(id)) return [];
    const rows = await this.redis.xrange(this.keys.events(id), `(${afterSeq}`, '+');
    return rows.map(([seq, fields]) => ({ ...(JSON.parse(fields[1]) as JobEvent), seq }));
  }
}

/** Parses a message of the event channel ("<seq> <json>"). */
export function parseEventMessage(message: string): JobEvent | undefined {
  const k = message.indexOf(' ');
  if (k < 0) return undefined;
  try {
    return { ...(JSON.parse(message.slice(k + 1)) as JobEvent), seq: message.slice(0, k) };
  } catch {
    return undefined;
  }
}
