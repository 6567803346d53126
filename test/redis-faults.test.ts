// Faults of the distributed queue, with real processes against a private redis-server: an API node
// with --workers 0 and three `styleloom worker`s run 30 small Gatys jobs while one worker is killed
// with SIGKILL mid-job and Redis is restarted (append-only file): all 30 end done, each exactly once.
// Then a worker stopped with SIGTERM drains its job. (A job whose runs keep dying fails clearly after
// --attempts: in-process, at the end.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from '../src/server/app.js';
import { startRedisWorker } from '../src/server/redis/worker.js';
import type { JobRunner } from '../src/server/queue.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { BIN, cliEnv, tempDir } from './helpers/cli.js';
import { startRedis, type PrivateRedis } from './helpers/redis.js';
import { readSseUntil, sleep, tinyPng, formData, type Part } from './helpers/server.js';

const JOBS = 30;
let redis: PrivateRedis;
const children = new Set<ChildProcess>();

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `styleloom <args>` and resolves once its stderr matches `ready`. */
async function start(args: string[], ready: RegExp, ms = 20_000): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  let err = '';
  child.stderr!.setEncoding('utf8');
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`styleloom ${args[0]} not ready after ${ms} ms: ${err}`)), ms);
    child.stderr!.on('data', (s: string) => {
      err += s;
      const m = ready.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m);
      }
    });
    child.on('exit', (code) => reject(new Error(`styleloom ${args[0]} exited ${code}: ${err}`)));
  });
  return { child, stderr: () => err, exited, match };
}

const startWorker = (k: number, extra: string[] = []) =>
  start(['worker', '--redis', redis.url, '--lock-seconds', '1', '--attempts', '3', '--threads', '1', '--weights', VGG_PARTIAL, '--data-dir', tempDir(`styleloom-w${k}-`), ...extra], /worker (\S+) taking jobs/);

async function getJson(url: string): Promise<any> {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function until<T>(what: string, ms: number, f: () => Promise<T | undefined | false>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await redis?.stop();
});

test('30 jobs, 3 workers, one SIGKILLed mid-job, Redis restarted: all done exactly once; SIGTERM drains', { timeout: 90_000 }, async (t) => {
  t.after(() => {
    for (const c of children) c.kill('SIGKILL');
  });
  const api = await start(['serve', '--redis', redis.url, '--workers', '0', '--port', '0', '--max-queue', '100', '--attempts', '3', '--data-dir', tempDir('styleloom-api-'), '--weights', VGG_PARTIAL], /serving on (http:\/\/127\.0\.0\.1:\d+)/);
  const base = api.match[1];
  const workers = await Promise.all([1, 2, 3].map((k) => startWorker(k)));
  const byName = new Map(workers.map((w) => [w.match[1], w]));
  const [c, s] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
  const parts = (iters: number): Part[] => [
    { name: 'content', file: c, filename: 'c.png' },
    { name: 'style', file: s, filename: 's.png' },
    { name: 'size', value: '32' },
    { name: 'iters', value: String(iters) },
  ];
  // the first job is long, so that its worker is surely killed mid-job (a 20-iteration job can finish
  // between the poll that saw it running and the kill)
  const ids: string[] = [];
  for (let k = 0; k < JOBS; k++) {
    const r = await fetch(`${base}/api/jobs`, { method: 'POST', body: formData(parts(k === 0 ? 600 : 20)) });
    const text = await r.text();
    assert.equal(r.status, 201, text);
    ids.push((JSON.parse(text) as { id: string }).id);
  }
  const jobs = async () => (await getJson(`${base}/api/jobs?limit=100`)).jobs as any[];

  // SIGKILL the worker of a job that is running (it has done at least one iteration)
  const victim = await until('the long job mid-run', 20_000, async () => (await jobs()).find((j) => j.id === ids[0] && j.status === 'running' && j.progress.iter >= 1 && byName.has(j.worker)));
  const killed = byName.get(victim.worker)!;
  killed.child.kill('SIGKILL');
  assert.equal(await killed.exited, null);

  // restart Redis once a third of the jobs are done
  await until('10 jobs done', 40_000, async () => (await jobs()).filter((j) => j.status === 'done').length >= 10);
  await redis.restart();

  const final = await until('all jobs final', 60_000, async () => {
    const all = (await jobs()).filter((j) => ids.includes(j.id));
    return all.length === JOBS && all.every((j) => ['done', 'failed', 'cancelled'].includes(j.status)) && all;
  });
  assert.deepEqual(final.map((j) => j.status), Array(JOBS).fill('done'), final.map((j) => j.error).filter(Boolean).join('; '));
  const again = (await getJson(`${base}/api/jobs/${victim.id}`)) as any;
  assert.ok(again.attempt >= 2, `the killed worker's job ran again (attempt ${again.attempt})`);
  assert.notEqual(again.worker, victim.worker);

  // exactly once: each job's whole event log (Last-Event-ID 0-0 replays it) has one "done", and its result is there
  for (const id of ids) {
    const { events } = await readSseUntil(`${base}/api/jobs/${id}/events`, { lastEventId: '0-0', timeoutMs: 5000 });
    const done = events.filter((e) => e.event === 'state' && e.id && e.data.status === 'done');
    assert.equal(done.length, 1, `job ${id}: ${done.length} done events`);
    const res = await fetch(`${base}/api/jobs/${id}/result`);
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(await res.arrayBuffer()).subarray(1, 4).toString(), 'PNG');
  }

  // SIGTERM drains: the running job finishes on the same worker, then the worker exits 0
  const r = await fetch(`${base}/api/jobs`, { method: 'POST', body: formData(parts(150)) });
  const longId = ((await r.json()) as { id: string }).id;
  const running = await until('the long job running', 20_000, async () => {
    const j = await getJson(`${base}/api/jobs/${longId}`);
    return j.status === 'running' && j.progress.iter >= 1 && byName.has(j.worker) && j;
  });
  const drained = byName.get(running.worker)!;
  drained.child.kill('SIGTERM');
  assert.equal(await drained.exited, 0, drained.stderr());
  assert.match(drained.stderr(), /draining: 1 running job finishes first/);
  const done = await getJson(`${base}/api/jobs/${longId}`);
  assert.equal(done.status, 'done', done.error);
  assert.equal(done.worker, running.worker, 'finished by the worker that drained');
  assert.equal(done.attempt, 1);

  api.child.kill('SIGTERM');
  assert.equal(await api.exited, 0, api.stderr());
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
});

test('a job whose runs keep stalling fails after --attempts with a clear message', { timeout: 30_000 }, async () => {
  // a Redis of its own: nothing the test above left (its processes, unfinished jobs) can take this job
  const redis = await startRedis();
  const hang: JobRunner = (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));
  const api = await createServer({ dataDir: tempDir('styleloom-att-'), weights: VGG_PARTIAL, webDir: tempDir(), redis: redis.url, workers: 0, attempts: 1 });
  const a = await startRedisWorker({ url: redis.url, runner: hang, dataDir: tempDir(), attempts: 1, lockMs: 1000, name: 'doomed' });
  try {
    const [c, s] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
    const body = await new Response(formData([{ name: 'content', file: c }, { name: 'style', file: s }, { name: 'size', value: '32' }, { name: 'iters', value: '5' }]));
    const r = await api.app.inject({ method: 'POST', url: '/api/jobs', payload: Buffer.from(await body.arrayBuffer()), headers: { 'content-type': body.headers.get('content-type')! } });
    const id = r.json().id;
    await until('running on the doomed worker', 10_000, async () => (await api.queue.get(id))?.status === 'running');
    await a.kill(); // as if the process died: no drain, the lock is left to expire
    const b = await startRedisWorker({ url: redis.url, runner: hang, dataDir: tempDir(), attempts: 1, lockMs: 1000, name: 'checker' });
    try {
      const job = await until('the job failed', 15_000, async () => {
        const j = await api.queue.get(id);
        return j?.status === 'failed' && j;
      });
      assert.match(job.error!, /^the job was interrupted 1 time \(a worker stopped mid-job/);
    } finally {
      await b.close();
    }
  } finally {
    await api.close();
    await redis.stop();
  }
});
