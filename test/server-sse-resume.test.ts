// SSE reconnects (issue 16): every event carries an id; a client that comes back with Last-Event-ID
// gets the events it missed and then the rest, none twice (embedded queue; the Redis test does the same across processes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from '../src/server/app.js';
import type { JobRunner } from '../src/server/queue.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { postJob, readSseUntil, sleep, tinyPng } from './helpers/server.js';

/** Ten progress events 40 ms apart, then a tiny result. */
const tenSteps: JobRunner = async (ctx) => {
  for (let k = 1; k <= 10; k++) {
    await sleep(40);
    ctx.progress({ iter: k, iters: 10, loss: { content: 1, style: 1, tv: 0, total: k } });
  }
  return { result: await tinyPng(4, 4, 1), width: 4, height: 4, loss: null, lossHistory: [] };
};

test('Last-Event-ID: a reconnecting client gets the missed progress, then the rest, each once', async () => {
  const s = await createServer({ dataDir: tempDir('styleloom-sse-'), weights: VGG_PARTIAL, runner: tenSteps, webDir: tempDir() });
  try {
    const base = await s.app.listen({ port: 0, host: '127.0.0.1' });
    const [c, st] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
    const r = await postJob(s.app, [{ name: 'content', file: c }, { name: 'style', file: st }, { name: 'size', value: '32' }, { name: 'iters', value: '10' }]);
    const id = r.json().id;
    const url = `${base}/api/jobs/${id}/events`;
    const first = await readSseUntil(url, { stop: (ev) => ev.filter((e) => e.event === 'progress').length >= 3 });
    const seen = first.events.filter((e) => e.event === 'progress');
    assert.deepEqual(seen.map((e) => e.data.iter), [1, 2, 3]);
    for (const e of seen) assert.match(e.id!, /^\d+$/);
    await sleep(150); // the job goes on while the client is away
    const second = await readSseUntil(url, { lastEventId: seen.at(-1)!.id });
    assert.ok(second.ended);
    const progress = second.events.filter((e) => e.event === 'progress').map((e) => e.data.iter);
    assert.deepEqual(progress, [4, 5, 6, 7, 8, 9, 10], 'the missed ones, then the rest, none twice');
    assert.equal(second.events.at(-1)!.event, 'state');
    assert.equal(second.events.at(-1)!.data.status, 'done');
    const ids = second.events.filter((e) => e.id).map((e) => Number(e.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids increase');
  } finally {
    await s.close();
  }
});
