// The Redis + BullMQ backend in one process against a private redis-server: jobs, results, the list,
// cancel and delete, SSE across two API nodes with Last-Event-ID, and an API node restarted with its
// jobs and results still there. The multi-process faults are in redis-faults.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { StyleloomError } from '../src/errors.js';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import type { JobRunner } from '../src/server/queue.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { assertOneLineError, runCli, tempDir } from './helpers/cli.js';
import { startRedis, type PrivateRedis } from './helpers/redis.js';
import { postJob, readSseUntil, sleep, tinyPng, waitFor, type Part } from './helpers/server.js';

/** `steps` progress events `ms` apart (stops on abort), then a tiny PNG. */
function stepper(steps: number, ms: number): JobRunner {
  return async (ctx) => {
    for (let k = 1; k <= steps; k++) {
      await sleep(ms);
      if (ctx.signal.aborted) throw new Error('aborted');
      ctx.progress({ iter: k, iters: steps, loss: { content: 1, style: 1, tv: 0, total: k } });
    }
    return { result: await tinyPng(6, 4, 3), width: 6, height: 4, loss: null, lossHistory: [] };
  };
}

let redis: PrivateRedis;
let parts: (iters: number) => Part[];

before(async () => {
  redis = await startRedis();
  const [c, s] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
  parts = (iters) => [
    { name: 'content', file: c, filename: 'photo.png' },
    { name: 'style', file: s, filename: 'painting.png' },
    { name: 'size', value: '32' },
    { name: 'iters', value: String(iters) },
  ];
});

after(async () => {
  await redis?.stop();
});

const node = (opts: { workers: number; runner?: JobRunner }) =>
  createServer({ dataDir: tempDir('styleloom-rq-'), weights: VGG_PARTIAL, webDir: tempDir(), redis: redis.url, workers: opts.workers, runner: opts.runner ?? stepper(3, 5), lockMs: 2000 });

describe('Redis queue', () => {
  let api: StyleloomServer;
  before(async () => {
    api = await node({ workers: 1, runner: stepper(10, 30) });
  });
  after(async () => {
    await api?.close();
  });

  test('a job runs to done on the node\'s own worker; its result, list entry, worker and attempt are there', async () => {
    const r = await postJob(api.app, parts(10));
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().id;
    const job = await waitFor(api.app, id, undefined, 20_000);
    assert.equal(job.status, 'done', job.error);
    assert.equal(job.attempt, 1);
    assert.match(job.worker, /:\d+$/);
    assert.deepEqual(job.progress, { iter: 10, iters: 10 });
    assert.deepEqual(job.inputs, { content: 'photo.png', styles: ['painting.png'] });
    const res = await api.app.inject({ url: `/api/jobs/${id}/result` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.rawPayload.subarray(1, 4).toString(), 'PNG');
    const list = (await api.app.inject({ url: '/api/jobs' })).json();
    assert.ok(list.jobs.some((j: { id: string }) => j.id === id));
    assert.equal(list.queue.concurrency, 1);
  });

  test('cancel: a queued job never starts, a running one stops; DELETE of a finished one removes it from Redis', async () => {
    const a = (await postJob(api.app, parts(200))).json().id;
    const b = (await postJob(api.app, parts(10))).json().id;
    await waitFor(api.app, a, (j) => j.status === 'running' && j.progress.iter >= 1, 20_000);
    const cb = await api.app.inject({ method: 'DELETE', url: `/api/jobs/${b}` });
    assert.equal(cb.json().status, 'cancelled');
    const ca = await api.app.inject({ method: 'DELETE', url: `/api/jobs/${a}` });
    assert.equal(ca.json().status, 'cancelled', ca.body);
    assert.ok(ca.json().progress.iter < 200);
    assert.equal((await waitFor(api.app, b)).startedAt, undefined, 'never started');
    const d = await api.app.inject({ method: 'DELETE', url: `/api/jobs/${a}` });
    assert.deepEqual(d.json(), { id: a, deleted: true });
    assert.equal((await api.app.inject({ url: `/api/jobs/${a}` })).statusCode, 404);
  });

  test('SSE on another API node (no worker) than the one that took the job, resumed with Last-Event-ID', async () => {
    const other = await node({ workers: 0 });
    try {
      const base = await other.app.listen({ port: 0, host: '127.0.0.1' });
      const id = (await postJob(api.app, parts(10))).json().id;
      const url = `${base}/api/jobs/${id}/events`;
      const first = await readSseUntil(url, { stop: (ev) => ev.filter((e) => e.event === 'progress').length >= 3 });
      const seen = first.events.filter((e) => e.event === 'progress');
      assert.deepEqual(seen.map((e) => e.data.iter), [1, 2, 3]);
      assert.match(seen[2].id!, /^\d+-\d+$/, 'Redis stream ids');
      await sleep(100);
      const second = await readSseUntil(url, { lastEventId: seen[2].id });
      assert.ok(second.ended);
      assert.deepEqual(second.events.filter((e) => e.event === 'progress').map((e) => e.data.iter), [4, 5, 6, 7, 8, 9, 10]);
      assert.equal(second.events.at(-1)!.data.status, 'done');
    } finally {
      await other.close();
    }
  });
});

test('an API node restarted: its jobs and their results are still there (they live in Redis)', async () => {
  let api = await node({ workers: 1 });
  const id = (await postJob(api.app, parts(3))).json().id;
  await waitFor(api.app, id, undefined, 20_000);
  await api.close();
  api = await node({ workers: 0 });
  try {
    const job = (await api.app.inject({ url: `/api/jobs/${id}` })).json();
    assert.equal(job.status, 'done');
    assert.equal((await api.app.inject({ url: `/api/jobs/${id}/result` })).statusCode, 200);
    const h = (await api.app.inject({ url: '/api/health' })).json();
    assert.equal(h.queue.concurrency, 0, '--workers 0: no worker of its own');
  } finally {
    await api.close();
  }
});

test('retries: an internal error runs the job again (attempt 2, done); a bad-input error fails at once with its message', async () => {
  const runs = new Map<string, number>();
  const flaky: JobRunner = async (ctx) => {
    const n = (runs.get(ctx.job.id) ?? 0) + 1;
    runs.set(ctx.job.id, n);
    if (ctx.job.mode === 'gatys' && ctx.job.params.iters === 7) throw new StyleloomError('E_INPUT', 'content: the image is corrupt');
    if (n === 1) throw new Error('the first run breaks');
    return { result: await tinyPng(4, 4, 1), width: 4, height: 4 };
  };
  const api = await node({ workers: 1, runner: flaky });
  try {
    const a = (await postJob(api.app, parts(3))).json().id;
    const b = (await postJob(api.app, parts(7))).json().id;
    const ja = await waitFor(api.app, a, undefined, 20_000);
    assert.equal(ja.status, 'done', ja.error);
    assert.equal(ja.attempt, 2);
    assert.equal(runs.get(a), 2);
    const jb = await waitFor(api.app, b, undefined, 20_000);
    assert.equal(jb.status, 'failed');
    assert.equal(jb.error, 'content: the image is corrupt');
    assert.equal(runs.get(b), 1, 'not retried: another run would fail the same way');
  } finally {
    await api.close();
  }
});

test('bad Redis flags are one-line errors with exit status 2, before anything connects', async () => {
  assertOneLineError(await runCli(['serve', '--redis', 'http://127.0.0.1:1', '--data-dir', tempDir()]), { code: 2, match: ['--redis must be a redis:// or rediss:// URL'] });
  assertOneLineError(await runCli(['serve', '--workers', '0', '--data-dir', tempDir()]), { code: 2, match: ['--workers is for --redis'] });
  assertOneLineError(await runCli(['worker', '--concurrency', '1']), { code: 2, match: ["required option '--redis <url>'"] });
  assertOneLineError(await runCli(['worker', '--redis', 'redis://127.0.0.1:1', '--lock-seconds', '0.1']), { code: 2, match: ['--lock-seconds must be at least 0.5'] });
});

test('limits with Redis (own key prefix): 429 when the shared queue is full, retention deletes every key of a job, 507 past the quota', async () => {
  const holdUp = await createServer({ dataDir: tempDir('styleloom-rq-'), weights: VGG_PARTIAL, webDir: tempDir(), redis: redis.url, redisPrefix: 'limits', workers: 0, maxQueue: 2 });
  const client = new Redis(redis.url);
  try {
    // no worker anywhere takes jobs now: two wait, the third is refused
    const waiting = [(await postJob(holdUp.app, parts(3))).json().id, (await postJob(holdUp.app, parts(3))).json().id];
    const third = await postJob(holdUp.app, parts(3));
    assert.equal(third.statusCode, 429, third.body);
    for (const id of waiting) {
      assert.equal((await holdUp.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` })).json().status, 'cancelled');
      assert.equal((await holdUp.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` })).json().deleted, true);
    }
    assert.equal(Number(await client.get('limits:bytes')), 0, 'deleted jobs give their bytes back');
  } finally {
    await holdUp.close();
  }
  const perJob = parts(1).reduce((n, p) => n + ('file' in p ? p.file.length : 0), 0);
  const api = await createServer({ dataDir: tempDir('styleloom-rq-'), weights: VGG_PARTIAL, webDir: tempDir(), redis: redis.url, redisPrefix: 'limits', workers: 1, runner: stepper(1, 1), keepJobs: 1, maxDiskMb: (2.5 * perJob) / (1024 * 1024) });
  try {
    const a = (await postJob(api.app, parts(1))).json().id;
    await waitFor(api.app, a, undefined, 20_000);
    const b = (await postJob(api.app, parts(1))).json().id;
    await waitFor(api.app, b, undefined, 20_000);
    const t0 = Date.now();
    while ((await api.app.inject({ url: `/api/jobs/${a}` })).statusCode !== 404) {
      assert.ok(Date.now() - t0 < 10_000, 'the older job was not deleted');
      await sleep(20);
    }
    assert.deepEqual(await client.keys(`*${a}*`), [], 'no key of the deleted job is left in Redis');
    assert.ok((await client.keys(`*${b}*`)).length >= 4);
    const used = Number(await client.get('limits:bytes'));
    assert.ok(used > perJob && used < 2 * perJob, `one job's files counted: ${used}`);
    // one job is stored; a larger upload would take the total past the quota
    const big = await tinyPng(160, 120, 4);
    assert.ok(big.length > 2 * perJob);
    const full = await postJob(api.app, [{ name: 'content', file: big }, ...parts(1).slice(1)]);
    assert.equal(full.statusCode, 507, full.body);
  } finally {
    await api.close();
    client.disconnect();
  }
});
