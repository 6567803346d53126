// The embedded JobStore: jobs on local disk, one directory per job (job.json written atomically,
// the uploaded inputs, preview.png, result.png); names are checked before any path is built.
import fs from 'node:fs/promises';
import path from 'node:path';
import { StyleloomError } from '../errors.js';
import { syncDirectory, writeFileAtomic } from '../util/atomic.js';
import { isJobId, type JobRecord } from './jobs.js';
import type { JobStore, UploadedFile } from './queue.js';

const JOB_FILE = 'job.json';
const SAFE_NAME = /^[a-z][a-z0-9-]*(\.[a-z0-9]+)?$/;

/** The embedded store: `<dir>/<id>/job.json` plus the job's files. */
export class DiskJobStore implements JobStore {
  /** Bytes of each job's files by name (what usage() adds up), known after loadAll() or the job's own writes. */
  private readonly sizes = new Map<string, Map<string, number>>();

  constructor(readonly dir: string) {}

  private track(id: string, name: string, bytes: number): void {
    let m = this.sizes.get(id);
    if (!m) this.sizes.set(id, (m = new Map()));
    m.set(name, bytes);
  }

  private async trackFile(id: string, name: string): Promise<void> {
    const st = await fs.stat(this.filePath(id, name)).catch(() => null);
    if (st) this.track(id, name, st.size);
  }

  private jobDir(id: string): string {
    if (!isJobId(id)) throw new StyleloomError('E_INTERNAL', `bad job id ${JSON.stringify(id)}`);
    return path.join(this.dir, id);
  }

  filePath(id: string, name: string): string {
    if (!SAFE_NAME.test(name)) throw new StyleloomError('E_INTERNAL', `bad job file name ${JSON.stringify(name)}`);
    return path.join(this.jobDir(id), name);
  }

  async create(job: JobRecord, files: UploadedFile[]): Promise<void> {
    await fs.mkdir(this.jobDir(job.id), { recursive: true });
    for (const f of files) {
      const dest = this.filePath(job.id, f.name);
      if (f.path !== undefined) await fs.rename(f.path, dest); // a temp file on the same file system: moved, not copied
      else await writeFileAtomic(dest, f.data ?? Buffer.alloc(0));
      await this.trackFile(job.id, f.name);
    }
    await syncDirectory(this.jobDir(job.id));
    await this.save(job);
  }

  async save(job: JobRecord): Promise<void> {
    const data = Buffer.from(`${JSON.stringify(job)}\n`);
    await writeFileAtomic(this.filePath(job.id, JOB_FILE), data);
    this.track(job.id, JOB_FILE, data.length);
  }

  async writeFile(id: string, name: string, data: Buffer): Promise<void> {
    await writeFileAtomic(this.filePath(id, name), data);
    this.track(id, name, data.length);
  }

  async readFile(id: string, name: string): Promise<Buffer | undefined> {
    return fs.readFile(this.filePath(id, name)).catch(() => undefined);
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.jobDir(id), { recursive: true, force: true });
    this.sizes.delete(id);
  }

  async usage(): Promise<number> {
    let total = 0;
    for (const m of this.sizes.values()) for (const b of m.values()) total += b;
    return total;
  }

  async loadAll(): Promise<JobRecord[]> {
    await fs.mkdir(this.dir, { recursive: true });
    const out: JobRecord[] = [];
    for (const name of await fs.readdir(this.dir)) {
      if (!isJobId(name)) continue;
      try {
        const job = JSON.parse(await fs.readFile(path.join(this.dir, name, JOB_FILE), 'utf8')) as JobRecord;
        if (job?.id !== name || typeof job.status !== 'string') continue;
        out.push(job);
        for (const f of await fs.readdir(path.join(this.dir, name))) if (SAFE_NAME.test(f)) await this.trackFile(name, f);
      } catch {
        // a directory without a (readable) job.json: an upload interrupted before the record was written
      }
    }
    return out;
  }
}
