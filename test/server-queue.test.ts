// The job queue of the HTTP service: concurrency, the queue limit (429), failures, cancellation,
// persistence on disk and restarts (queued jobs run, running ones run again, finished ones stay).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { StyleloomError } from '../src/errors.js';
import { createServer } from '../src/server/app.js';
import type { FastParams, JobRecord } from '../src/server/jobs.js';
import { DiskJobStore } from '../src/server/disk-store.js';
import { LocalJobQueue } from '../src/server/local-queue.js';
import { QueueFullError, type JobEvent, type JobRunner, type NewJob, type RunContext } from '../src/server/queue.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { postJob, sleep, tinyPng, waitFor, type Part } from './helpers/server.js';

const PNG = Buffer.from('89504e470d0a1a0a', 'hex'); // the runner below never decodes it

function newJob(tag = 'x'): NewJob {
  const params: FastParams = { model: tag, original_colors: false };
  return { mode: 'fast', params, content: { name: 'content.png', data: PNG, clientName: `${tag}.png` }, styles: [] };
}

/** A runner whose jobs finish when the test says so (or throw, or wait for the abort). */
function controlledRunner() {
  const waiting = new Map<string, { ctx: RunContext; finish: (ok: boolean | Error) => void }>();
  const started: string[] = [];
  let active = 0;
  let maxActive = 0;
  const run: JobRunner = (ctx) =>
    new Promise((resolve, reject) => {
      started.push(ctx.job.id);
      active++;
      maxActive = Math.max(maxActive, active);
      const done = () => {
        active--;
        waiting.delete(ctx.job.id);
      };
      ctx.signal.addEventListener('abort', () => {
        done();
        reject(new StyleloomError('E_ABORTED', 'cancelled'));
      });
      waiting.set(ctx.job.id, {
        ctx,
        finish: (ok) => {
          done();
          if (ok === true) {
            ctx.progress({ iter: 1, iters: 1, loss: { content: 1, style: 2, tv: 3, total: 6 } });
            resolve({ result: Buffer.from('result'), width: 1, height: 1, loss: { content: 1, style: 2, tv: 3, total: 6 }, lossHistory: [6] });
          } else reject(ok === false ? new Error('boom\nsecond line') : ok);
        },
      });
    });
  return { run, waiting, started, maxActive: () => maxActive };
}

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const readRecord = (dir: string, id: string): JobRecord => JSON.parse(fs.readFileSync(path.join(dir, id, 'job.json'), 'utf8'));

describe('LocalJobQueue', () => {
  test('runs at most `concurrency` jobs at once, the first submitted first, each once', async () => {
    const dir = tempDir('styleloom-queue-');
    const r = controlledRunner();
    const q = await LocalJobQueue.create({ store: new DiskJobStore(dir), runner: r.run, concurrency: 2, maxQueue: 10 });
    try {
      const jobs: JobRecord[] = [];
      for (let k = 0; k < 5; k++) jobs.push(await q.enqueue(newJob(`j${k}`)));
      await until(() => r.waiting.size === 2, 'two running');
      assert.deepEqual(r.started, [jobs[0].id, jobs[1].id]);
      assert.deepEqual(q.stats(), { queued: 3, running: 2, concurrency: 2, maxQueue: 10, paused: false });
      for (let k = 0; k < 5; k++) {
        await until(() => r.waiting.has(jobs[k].id), `job ${k} to start`);
        r.waiting.get(jobs[k].id)!.finish(true);
      }
      await until(() => jobs.every((j) => q.get(j.id)!.status === 'done'), 'all done');
      assert.equal(r.maxActive(), 2);
      assert.deepEqual([...r.started].sort(), jobs.map((j) => j.id).sort(), 'each ran once');
      assert.deepEqual(q.list().map((j) => j.id).sort(), jobs.map((j) => j.id).sort());
    } finally {
      await q.close();
    }
  });

  test('a full queue throws QueueFullError; running jobs do not count', async () => {
    const r = controlledRunner();
    const q = await LocalJobQueue.create({ store: new DiskJobStore(tempDir('styleloom-queue-')), runner: r.run, maxQueue: 2 });
    try {
      await q.enqueue(newJob()); // runs
      await q.enqueue(newJob()); // waits
      await q.enqueue(newJob()); // waits
      await assert.rejects(q.enqueue(newJob()), (e) => e instanceof QueueFullError && /queue is full \(2 jobs waiting\)/.test(e.message));
      assert.equal(q.list().length, 3, 'the refused job was not stored');
    } finally {
      await q.close();
    }
  });

  test('a job that throws becomes failed with a one-line message, and the next job still runs', async () => {
    const r = controlledRunner();
    const dir = tempDir('styleloom-queue-');
    const q = await LocalJobQueue.create({ store: new DiskJobStore(dir), runner: r.run });
    try {
      const a = await q.enqueue(newJob('a'));
      const b = await q.enqueue(newJob('b'));
      await until(() => r.waiting.has(a.id), 'a running');
      r.waiting.get(a.id)!.finish(false);
      await until(() => r.waiting.has(b.id), 'b running');
      r.waiting.get(b.id)!.finish(new StyleloomError('E_DIVERGED', 'the style loss became NaN at iteration 3; lower --lr'));
      await until(() => q.get(b.id)!.status === 'failed', 'b failed');
      assert.equal(q.get(a.id)!.status, 'failed');
      assert.equal(q.get(a.id)!.error, 'internal error: boom second line');
      assert.equal(q.get(b.id)!.error, 'the style loss became NaN at iteration 3; lower --lr');
      const c = await q.enqueue(newJob('c'));
      await until(() => r.waiting.has(c.id), 'c running');
      r.waiting.get(c.id)!.finish(true);
      await until(() => q.get(c.id)!.status === 'done', 'c done');
      // b's record is written after its in-memory state changes (and c, enqueued meanwhile, may finish first)
      await until(() => readRecord(dir, b.id).status === 'failed', 'b persisted as failed');
      assert.equal(fs.readFileSync(path.join(dir, c.id, 'result.png'), 'utf8'), 'result');
    } finally {
      await q.close();
    }
  });

  test('events: state on each change, progress from the runner; cancel of queued and running jobs', async () => {
    const r = controlledRunner();
    const q = await LocalJobQueue.create({ store: new DiskJobStore(tempDir('styleloom-queue-')), runner: r.run });
    const seen: JobEvent[] = [];
    const off = q.on('*', (e) => seen.push(e));
    try {
      const a = await q.enqueue(newJob('a'));
      const b = await q.enqueue(newJob('b'));
      await q.cancel(b.id);
      assert.equal(q.get(b.id)!.status, 'cancelled');
      await until(() => r.waiting.has(a.id), 'a running');
      const cancelled = await q.cancel(a.id);
      assert.equal(cancelled!.status, 'cancelled');
      assert.deepEqual(r.started, [a.id], 'b never ran');
      assert.equal((await q.cancel(a.id))!.status, 'cancelled', 'again: harmless');
      const c = await q.enqueue(newJob('c'));
      await until(() => r.waiting.has(c.id), 'c running');
      r.waiting.get(c.id)!.finish(true);
      await until(() => q.get(c.id)!.status === 'done', 'c done');
      await assert.rejects(q.cancel(c.id), /already done/);
      const states = seen.filter((e) => e.type === 'state' && e.id === a.id).map((e) => (e.type === 'state' ? e.job.status : ''));
      assert.deepEqual(states, ['queued', 'running', 'cancelled']);
      assert.ok(seen.some((e) => e.type === 'progress'));
      assert.equal(await q.cancel('not-an-id'), undefined);
    } finally {
      off();
      await q.close();
    }
  });

  test('persistence: job.json per job (no temp files left); a restart runs queued jobs, re-runs the running one, keeps finished ones', async () => {
    const dir = tempDir('styleloom-queue-');
    const r1 = controlledRunner();
    const q1 = await LocalJobQueue.create({ store: new DiskJobStore(dir), runner: r1.run });
    const a = await q1.enqueue(newJob('a'));
    const b = await q1.enqueue(newJob('b'));
    const c = await q1.enqueue(newJob('c'));
    await until(() => r1.waiting.has(a.id), 'a running');
    r1.waiting.get(a.id)!.finish(true);
    await until(() => r1.waiting.has(b.id), 'b running');
    await q1.close(); // b was running: it goes back to the queue
    assert.equal(readRecord(dir, a.id).status, 'done');
    assert.equal(readRecord(dir, b.id).status, 'queued');
    assert.equal(readRecord(dir, c.id).status, 'queued');
    for (const id of [a.id, b.id, c.id]) assert.deepEqual(fs.readdirSync(path.join(dir, id)).filter((f) => f.endsWith('.tmp')), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, a.id)).sort(), ['content.png', 'job.json', 'result.png']);
    // rubbish in the data dir is ignored
    fs.mkdirSync(path.join(dir, 'not-a-job'));
    fs.mkdirSync(path.join(dir, '0f8fad5b-d9cb-469f-a165-70867728950e')); // no job.json: an interrupted upload

    const r2 = controlledRunner();
    const q2 = await LocalJobQueue.create({ store: new DiskJobStore(dir), runner: r2.run });
    try {
      assert.equal(q2.list().length, 3);
      assert.equal(q2.get(a.id)!.status, 'done');
      assert.deepEqual(q2.get(a.id)!.lossHistory, [6]);
      for (const id of [b.id, c.id]) {
        await until(() => r2.waiting.has(id), `${id} running after the restart`);
        r2.waiting.get(id)!.finish(true);
      }
      assert.deepEqual(r2.started, [b.id, c.id], 'in submission order, a not again');
      await until(() => q2.get(c.id)!.status === 'done', 'c done');
      assert.equal(readRecord(dir, b.id).status, 'done');
    } finally {
      await q2.close();
    }
  });

  test('a job record that was "running" when the process died is queued again on start', async () => {
    const dir = tempDir('styleloom-queue-');
    const r1 = controlledRunner();
    const q1 = await LocalJobQueue.create({ store: new DiskJobStore(dir), runner: r1.run, paused: true });
    const a = await q1.enqueue(newJob('a'));
    await q1.close();
    const rec = readRecord(dir, a.id);
    fs.writeFileSync(path.join(dir, a.id, 'job.json'), JSON.stringify({ ...rec, status: 'running', startedAt: rec.createdAt, progress: { iter: 7, iters: 9 }, lossHistory: [1, 2] }));
    const r2 = controlledRunner();
    const q2 = await LocalJobQueue.create({ store: new DiskJobStore(dir), runner: r2.run, paused: true });
    try {
      const job = q2.get(a.id)!;
      assert.equal(job.status, 'queued');
      assert.deepEqual(job.progress, { iter: 0, iters: 9 });
      assert.deepEqual(job.lossHistory, []);
      assert.equal(readRecord(dir, a.id).status, 'queued', 'written back');
      q2.start();
      await until(() => r2.waiting.has(a.id), 'a running');
      r2.waiting.get(a.id)!.finish(true);
      await until(() => q2.get(a.id)!.status === 'done', 'a done');
    } finally {
      await q2.close();
    }
  });
});

describe('server restarts and limits', () => {
  const parts = async (): Promise<Part[]> => [
    { name: 'content', file: await tinyPng(48, 32, 5), filename: 'c.png' },
    { name: 'style', file: await tinyPng(32, 32, 6), filename: 's.png' },
    { name: 'size', value: '32' },
    { name: 'iters', value: '2' },
  ];

  test('queue full -> 429 with a message', async () => {
    const s = await createServer({ dataDir: tempDir('styleloom-server-'), weights: VGG_PARTIAL, paused: true, maxQueue: 1, threads: 1 });
    try {
      const ok = await postJob(s.app, await parts());
      assert.equal(ok.statusCode, 201);
      const full = await postJob(s.app, await parts());
      assert.equal(full.statusCode, 429, full.body);
      assert.match(full.json().error, /queue is full \(1 jobs waiting\); try again later/);
      assert.equal(full.headers['retry-after'], '10');
      assert.equal((await s.app.inject({ url: '/api/health' })).json().queue.queued, 1);
    } finally {
      await s.close();
    }
  });

  test('a queued job survives a restart and runs to done; the finished job is still served after another restart', async () => {
    const dataDir = tempDir('styleloom-server-');
    const opts = { dataDir, weights: VGG_PARTIAL, threads: 1 };
    const s1 = await createServer({ ...opts, paused: true });
    const posted = await postJob(s1.app, await parts());
    assert.equal(posted.statusCode, 201, posted.body);
    const { id } = posted.json();
    assert.equal((await s1.app.inject({ url: `/api/jobs/${id}` })).json().status, 'queued');
    await s1.close();

    const s2 = await createServer(opts);
    let result: Buffer;
    try {
      const job = await waitFor(s2.app, id);
      assert.equal(job.status, 'done', job.error);
      assert.equal(job.lossHistory.length, 2);
      result = (await s2.app.inject({ url: `/api/jobs/${id}/result` })).rawPayload;
    } finally {
      await s2.close();
    }

    const s3 = await createServer({ ...opts, paused: true });
    try {
      const job = (await s3.app.inject({ url: `/api/jobs/${id}` })).json();
      assert.equal(job.status, 'done');
      assert.equal(job.lossHistory.length, 2);
      assert.deepEqual(job.inputs, { content: 'c.png', styles: ['s.png'] });
      const r = await s3.app.inject({ url: `/api/jobs/${id}/result` });
      assert.equal(r.statusCode, 200);
      assert.ok(r.rawPayload.equals(result), 'the same bytes');
      assert.equal((await sharp(r.rawPayload).metadata()).width, 32);
      assert.ok((await s3.app.inject({ url: '/api/jobs' })).json().jobs.some((j: { id: string }) => j.id === id));
    } finally {
      await s3.close();
    }
  });

  test('a job that was running when the server closed runs again after the restart', async () => {
    const dataDir = tempDir('styleloom-server-');
    const opts = { dataDir, weights: VGG_PARTIAL, threads: 1 };
    const s1 = await createServer(opts);
    const p = await parts();
    p[3] = { name: 'iters', value: '2000' };
    const { id } = (await postJob(s1.app, p)).json();
    await waitFor(s1.app, id, (j) => j.progress.iter >= 1);
    await s1.close();
    assert.equal(readRecord(dataDir, id).status, 'queued');
    const s2 = await createServer(opts);
    try {
      await waitFor(s2.app, id, (j) => j.status === 'running' && j.progress.iter >= 1);
      const d = await s2.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
      assert.equal(d.json().status, 'cancelled');
    } finally {
      await s2.close();
    }
  });

  test('a failing job becomes failed and the server keeps serving', async () => {
    let calls = 0;
    const s = await createServer({
      dataDir: tempDir('styleloom-server-'),
      weights: VGG_PARTIAL,
      runner: async () => {
        if (++calls === 1) throw new StyleloomError('E_INPUT', 'content: the image data is truncated or corrupt; re-export the file');
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      },
    });
    try {
      const a = (await postJob(s.app, await parts())).json().id;
      const b = (await postJob(s.app, await parts())).json().id;
      const ja = await waitFor(s.app, a);
      const jb = await waitFor(s.app, b);
      assert.equal(ja.status, 'failed');
      assert.equal(ja.error, 'content: the image data is truncated or corrupt; re-export the file');
      assert.equal(jb.status, 'failed');
      assert.match(jb.error, /^internal error: Cannot read properties/);
      assert.equal((await s.app.inject({ url: '/api/health' })).statusCode, 200);
      assert.equal((await s.app.inject({ url: `/api/jobs/${a}/result` })).statusCode, 409);
    } finally {
      await s.close();
    }
  });
});
