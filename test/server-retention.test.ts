// Bounded disk and memory of the HTTP service (issue 16): deleting a finished job (its files too),
// retention by count (keepJobs) and by age (maxAgeSeconds), and the disk quota's 507.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createServer } from '../src/server/app.js';
import type { JobRunner } from '../src/server/queue.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { assertOneLineError, runCli, tempDir } from './helpers/cli.js';
import { postJob, sleep, tinyPng, waitFor, type Part } from './helpers/server.js';

const quickRunner: JobRunner = async (ctx) => {
  ctx.progress({ iter: 1, iters: 1, loss: null });
  return { result: await tinyPng(8, 8, 9), width: 8, height: 8, loss: null, lossHistory: [] };
};

async function jobParts(): Promise<Part[]> {
  const [c, s] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
  return [
    { name: 'content', file: c, filename: 'c.png' },
    { name: 'style', file: s, filename: 's.png' },
    { name: 'size', value: '32' },
    { name: 'iters', value: '1' },
  ];
}

const jobDirs = (dir: string) => fs.readdirSync(dir).filter((n) => /^[0-9a-f-]{36}$/.test(n));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('retention', () => {
  test('keepJobs 3: after 5 jobs only the 3 newest are listed and on disk', async () => {
    const dataDir = tempDir('styleloom-ret-');
    const s = await createServer({ dataDir, weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir(), keepJobs: 3 });
    try {
      const parts = await jobParts();
      const ids: string[] = [];
      for (let k = 0; k < 5; k++) {
        const r = await postJob(s.app, parts);
        assert.equal(r.statusCode, 201, r.body);
        ids.push(r.json().id);
        await waitFor(s.app, ids[k]);
      }
      await until(() => jobDirs(dataDir).length === 3, '3 job folders');
      const listed = (await s.app.inject({ url: '/api/jobs' })).json().jobs.map((j: { id: string }) => j.id);
      assert.deepEqual(listed, ids.slice(2).reverse());
      assert.deepEqual(jobDirs(dataDir).sort(), ids.slice(2).sort());
      assert.equal((await s.app.inject({ url: `/api/jobs/${ids[0]}` })).statusCode, 404);
    } finally {
      await s.close();
    }
  });

  test('maxAgeSeconds: a finished job goes once it is older; a restart applies the limit to what is on disk', async () => {
    const dataDir = tempDir('styleloom-ret-');
    let s = await createServer({ dataDir, weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir(), keepJobs: 0 });
    const parts = await jobParts();
    const r = await postJob(s.app, parts);
    const id = r.json().id;
    await waitFor(s.app, id);
    await s.close();
    assert.deepEqual(jobDirs(dataDir), [id]);
    await sleep(300);
    s = await createServer({ dataDir, weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir(), maxAgeSeconds: 0.2 });
    try {
      await until(() => jobDirs(dataDir).length === 0, 'the old job deleted');
      assert.equal((await s.app.inject({ url: `/api/jobs/${id}` })).statusCode, 404);
    } finally {
      await s.close();
    }
  });
});

describe('disk quota', () => {
  test('uploads beyond maxDiskMb get 507 with a clear message; deleting a job makes room again', async () => {
    const dataDir = tempDir('styleloom-quota-');
    const parts = await jobParts();
    const perJob = parts.reduce((n, p) => n + ('file' in p ? p.file.length : 0), 0);
    // room for two jobs' uploads and results, not for a third
    const s = await createServer({ dataDir, weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir(), maxDiskMb: (2.5 * (perJob + 1500)) / (1024 * 1024) });
    try {
      const a = (await postJob(s.app, parts)).json().id;
      await waitFor(s.app, a);
      const b = (await postJob(s.app, parts)).json().id;
      await waitFor(s.app, b);
      const full = await postJob(s.app, parts);
      assert.equal(full.statusCode, 507, full.body);
      assert.match(full.json().error, /^this server's job storage is full \([\d.]+ of [\d.]+ MB used\); delete finished jobs/);
      assert.deepEqual(fs.readdirSync(path.join(dataDir, '.uploads')), [], 'the refused upload left nothing');
      assert.equal((await s.app.inject({ method: 'DELETE', url: `/api/jobs/${a}` })).statusCode, 200);
      const again = await postJob(s.app, parts);
      assert.equal(again.statusCode, 201, again.body);
      await waitFor(s.app, again.json().id);
    } finally {
      await s.close();
    }
  });

  test('DELETE: a running job is cancelled first, a second DELETE deletes it', async () => {
    let release = () => undefined as void;
    const slow: JobRunner = (ctx) =>
      new Promise((resolve, reject) => {
        release = () => resolve({ result: Buffer.from('x'), width: 1, height: 1 });
        ctx.signal.addEventListener('abort', () => reject(new Error('cancelled')));
      });
    const dataDir = tempDir('styleloom-del-');
    const s = await createServer({ dataDir, weights: VGG_PARTIAL, runner: slow, webDir: tempDir() });
    try {
      const id = (await postJob(s.app, await jobParts())).json().id;
      await waitFor(s.app, id, (j) => j.status === 'running');
      const c = await s.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
      assert.equal(c.json().status, 'cancelled');
      assert.ok(fs.existsSync(path.join(dataDir, id)));
      const d = await s.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
      assert.deepEqual(d.json(), { id, deleted: true });
      assert.ok(!fs.existsSync(path.join(dataDir, id)));
      release();
    } finally {
      await s.close();
    }
  });
});

describe('styleloom serve flags', () => {
  test('--keep-jobs, --max-age, --max-disk-mb, --max-uploads: bad values are one-line errors with exit status 2', async () => {
    assertOneLineError(await runCli(['serve', '--max-age', '3x', '--data-dir', tempDir()]), { code: 2, match: ['--max-age', 'not a duration'] });
    assertOneLineError(await runCli(['serve', '--keep-jobs', '-1', '--data-dir', tempDir()]), { code: 2, match: ['--keep-jobs must be 0'] });
    assertOneLineError(await runCli(['serve', '--max-disk-mb', '0', '--data-dir', tempDir()]), { code: 2, match: ['--max-disk-mb must be > 0'] });
    assertOneLineError(await runCli(['serve', '--max-uploads', '0', '--data-dir', tempDir()]), { code: 2, match: ['--max-uploads must be at least 1'] });
  });
});
