// Video jobs over the HTTP API (issue 14): mode=video in both engines on tiny clips the test makes (a photo
// panned by known amounts), the MP4 decoded back, `video` events over SSE, frames as previews, byte ranges
// of the result, cancel mid-job, every bad upload a one-line 400 with no job made, and a job on the Redis queue.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import type { RgbImage } from '../src/image/types.js';
import { openClip } from '../src/video/clip.js';
import { readFrames } from '../src/video/decode.js';
import { readVideoMetadata } from '../src/video/provenance.js';
import { PROVENANCE_KEYS } from '../src/transfer/provenance.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { colourClip, ffmpeg, meanAbsDiff, panFrames, writeClip } from './helpers/clips.js';
import { startRedis } from './helpers/redis.js';
import { postJob, readSseUntil, tinyPng, waitFor, type Part } from './helpers/server.js';

const dir = tempDir('styleloom-video-srv-');
const input = await panFrames(4, 48, 32, 2, 1);
const CLIP = fs.readFileSync(writeClip(path.join(dir, 'pan.mp4'), input));
const LONG = fs.readFileSync(writeClip(path.join(dir, 'pan8.mp4'), await panFrames(8, 48, 32, 2, 1)));
let srv: StyleloomServer;
let base: string;
const clip = (data: Buffer, filename = 'pan.mp4'): Part => ({ name: 'content', file: data, filename, type: 'video/mp4' });
const fields = (f: Record<string, string>): Part[] => Object.entries(f).map(([name, value]) => ({ name, value }));
const TINY = { mode: 'video', size: '32', iters: '4', frame_iters: '2' };
const style = async (): Promise<Part> => ({ name: 'style', file: await tinyPng(32, 32, 3), filename: 'noise.png' });

before(async () => {
  srv = await createServer({ dataDir: path.join(dir, 'data'), weights: VGG_PARTIAL, threads: 1, fastModelsDir: path.join(ASSETS, 'fast-style'), maxVideoSeconds: 1, maxVideoPixels: 64 * 48, paused: true });
  base = await srv.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => srv?.close());

async function decode(data: Buffer, name: string): Promise<RgbImage[]> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  const c = await openClip({ file, what: name, start: 0, maxDuration: 60 });
  const out: RgbImage[] = [];
  for await (const f of readFrames(c.plan, name)) out.push(f);
  return out;
}

/** The provenance record of a result video: its parameters, its description and the whole record as text. */
async function provenanceOf(data: Buffer, name: string): Promise<{ params: Record<string, unknown>; description: string; raw: string }> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, data);
  const meta = await readVideoMetadata(file);
  return { params: JSON.parse(meta[PROVENANCE_KEYS.parameters]), description: meta[PROVENANCE_KEYS.description], raw: JSON.stringify(meta) };
}

test('engine gatys: video events over SSE with rising frames, each frame as the preview, the MP4 decoded back', async () => {
  const r = await postJob(srv.app, [clip(CLIP), await style(), ...fields(TINY)]);
  assert.equal(r.statusCode, 201, r.body);
  const { id } = r.json();
  const queued = (await srv.app.inject({ url: `/api/jobs/${id}` })).json();
  assert.deepEqual([queued.frames, queued.fps, queued.progress.iters], [4, 10, 4], 'the clip was counted at submission');
  // the queue starts once the stream has its first (state) event: every event of the run is then on it
  let started = false;
  const { events, ended } = await readSseUntil(`${base}/api/jobs/${id}/events`, {
    timeoutMs: 120_000,
    stop: (ev) => {
      if (!started && ev.length) {
        started = true;
        srv.queue.start();
      }
      return false;
    },
  });
  assert.ok(ended, 'the stream ends with the job');
  const video = events.filter((e) => e.event === 'video').map((e) => e.data);
  assert.ok(video.length >= 4 + 4 + 3 * 2, `an event per iteration and per frame: ${video.length}`);
  for (let k = 1; k < video.length; k++) assert.ok(video[k].frame >= video[k - 1].frame, `frames never go back: ${video[k - 1].frame} then ${video[k].frame}`);
  assert.deepEqual([...new Set(video.map((v) => v.frame))], [1, 2, 3, 4]);
  assert.deepEqual(video.filter((v) => v.frame === 1).map((v) => v.iter), [1, 2, 3, 4, 4], 'frame 1: its four iterations, then done');
  assert.deepEqual(video.filter((v) => v.frame === 2).map((v) => [v.iter, v.iters]), [[1, 2], [2, 2], [2, 2]], 'later frames: frame_iters');
  const last = video[video.length - 1];
  assert.ok(last.frames === 4 && last.sPerFrame > 0 && last.etaS === 0, JSON.stringify(last));
  assert.deepEqual(events.filter((e) => e.event === 'preview').map((e) => e.data.iter), [1, 2, 3, 4], 'each finished frame becomes the preview');
  const final = events[events.length - 1];
  assert.equal(final.event, 'state');
  assert.equal(final.data.status, 'done', final.data.error);

  const job = (await srv.app.inject({ url: `/api/jobs/${id}` })).json();
  assert.deepEqual([job.mode, job.width, job.height, job.frames, job.params.engine, job.params.frame_iters], ['video', 32, 22, 4, 'gatys', 2]);
  assert.deepEqual(job.progress, { iter: 4, iters: 4 });
  const prev = await srv.app.inject({ url: job.previewUrl });
  assert.equal(prev.statusCode, 200);
  const pm = await sharp(prev.rawPayload).metadata();
  assert.deepEqual([pm.format, pm.width, pm.height], ['png', 32, 22], 'the preview is the last frame');
  const res = await srv.app.inject({ url: job.resultUrl });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'video/mp4');
  assert.match(String(res.headers['content-disposition']), /\.mp4"/);
  const frames = await decode(res.rawPayload, 'gatys.mp4');
  assert.equal(frames.length, 4);
  // the provenance record names the files as the client did, never the server's stored names or paths
  const meta = await provenanceOf(res.rawPayload, 'gatys-meta.mp4');
  assert.deepEqual([meta.params.content, meta.params.styles], ['pan.mp4', ['noise.png']]);
  assert.match(meta.description, /from the clip pan\.mp4 in the style of noise\.png/);
  assert.doesNotMatch(meta.raw, /\/tmp\/|content\.mp4|style-0/);
  assert.deepEqual([frames[0].width, frames[0].height], [32, 22]);
  const lastFrame = { data: new Uint8Array(await sharp(prev.rawPayload).removeAlpha().raw().toBuffer()), width: 32, height: 22 };
  assert.ok(meanAbsDiff(frames[3], lastFrame) < 8, 'the MP4 ends with the frame the preview showed');
  assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, id)).filter((f) => f.startsWith('render')), [], 'the render file is gone');
});

test('engine fast: a server network on every frame, the clip\'s own size, stylised frames in the MP4', async () => {
  const r = await postJob(srv.app, [clip(CLIP), ...fields({ mode: 'video', engine: 'fast', model: 'wave' })]);
  assert.equal(r.statusCode, 201, r.body);
  const job = await waitFor(srv.app, r.json().id, undefined, 120_000);
  assert.equal(job.status, 'done', job.error);
  assert.deepEqual([job.width, job.height, job.frames, job.params.engine, job.params.model], [48, 32, 4, 'fast', 'wave']);
  assert.equal(job.previewUrl, `/api/jobs/${job.id}/preview.png?iter=4`);
  const payload = (await srv.app.inject({ url: job.resultUrl })).rawPayload;
  const frames = await decode(payload, 'fast.mp4');
  assert.equal(frames.length, 4);
  assert.deepEqual([frames[0].width, frames[0].height], [48, 32]);
  const meta = await provenanceOf(payload, 'fast-meta.mp4');
  assert.deepEqual([meta.params.content, meta.params.model], ['pan.mp4', 'wave']);
  assert.match(meta.description, /the feed-forward network wave;/);
  assert.doesNotMatch(meta.raw, /\/tmp\/|\/shared\/|content\.mp4/);
  frames.forEach((f, k) => assert.ok(meanAbsDiff(f, input[k]) > 10, `frame ${k} is repainted, not the clip`));
});

test('the result answers byte ranges (206 with the right bytes; 416 past the end)', async () => {
  const r = await postJob(srv.app, [clip(CLIP), ...fields({ mode: 'video', engine: 'fast', model: 'wave', size: '16' })]);
  const job = await waitFor(srv.app, r.json().id, undefined, 120_000);
  assert.equal(job.status, 'done', job.error);
  const whole = await srv.app.inject({ url: job.resultUrl });
  assert.equal(whole.headers['accept-ranges'], 'bytes');
  const all = whole.rawPayload;
  assert.ok(all.length > 200, `${all.length} bytes`);
  const part = await srv.app.inject({ url: job.resultUrl, headers: { range: 'bytes=100-199' } });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 100-199/${all.length}`);
  assert.equal(Number(part.headers['content-length']), 100);
  assert.deepEqual(part.rawPayload, all.subarray(100, 200));
  const tail = await srv.app.inject({ url: job.resultUrl, headers: { range: 'bytes=-10' } });
  assert.equal(tail.statusCode, 206);
  assert.deepEqual(tail.rawPayload, all.subarray(all.length - 10));
  const open = await srv.app.inject({ url: job.resultUrl, headers: { range: `bytes=${all.length - 5}-` } });
  assert.deepEqual([open.statusCode, open.rawPayload.length], [206, 5]);
  const past = await srv.app.inject({ url: job.resultUrl, headers: { range: `bytes=${all.length}-` } });
  assert.equal(past.statusCode, 416);
  assert.equal(past.headers['content-range'], `bytes */${all.length}`);
});

test('cancel mid-job: it stops after the current frame, and leaves no result', async () => {
  const r = await postJob(srv.app, [clip(LONG, 'pan8.mp4'), await style(), ...fields({ mode: 'video', size: '32', iters: '20', frame_iters: '20' })]);
  assert.equal(r.statusCode, 201, r.body);
  const { id } = r.json();
  await waitFor(srv.app, id, (j) => j.progress.iter >= 1 || ['done', 'failed'].includes(j.status), 120_000);
  const del = await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
  assert.equal(del.statusCode, 200, del.body);
  const job = await waitFor(srv.app, id);
  assert.equal(job.status, 'cancelled');
  assert.ok(job.progress.iter < 8, `stopped at frame ${job.progress.iter} of 8`);
  assert.equal((await srv.app.inject({ url: `/api/jobs/${id}/result` })).statusCode, 409);
  const files = fs.readdirSync(path.join(srv.dataDir, id));
  assert.deepEqual(files.filter((f) => f.startsWith('result') || f.startsWith('render')), [], `no result or render files: ${files.join(', ')}`);
});

test('a server that shuts down mid-video goes on after its restart from the frames it had finished', async () => {
  const dataDir = path.join(dir, 'restart-data');
  const opts = { dataDir, weights: VGG_PARTIAL, threads: 1, maxVideoSeconds: 1, maxVideoPixels: 64 * 48 };
  const first = await createServer(opts);
  const r = await postJob(first.app, [clip(LONG, 'pan8.mp4'), await style(), ...fields({ mode: 'video', size: '32', iters: '20', frame_iters: '20' })]);
  assert.equal(r.statusCode, 201, r.body);
  const { id } = r.json();
  await waitFor(first.app, id, (j) => j.progress.iter >= 3 || ['done', 'failed'].includes(j.status), 120_000);
  await first.close(); // stops the job mid-frame; it is queued again for the next start
  const framesDir = path.join(dataDir, id, 'render.mp4.frames');
  const kept = fs.readdirSync(framesDir).filter((f) => /^\d+\.png$/.test(f)).length;
  assert.ok(kept >= 3 && kept < 8, `the finished frames stay for the restart: ${kept}`);
  const second = await createServer({ ...opts, paused: true });
  try {
    const iterated = new Set<number>();
    const base2 = await second.app.listen({ port: 0, host: '127.0.0.1' });
    let started = false;
    const { events } = await readSseUntil(`${base2}/api/jobs/${id}/events`, {
      timeoutMs: 120_000,
      stop: (ev) => {
        if (!started && ev.length) {
          started = true;
          second.queue.start();
        }
        return ev.some((e) => e.event === 'state' && ['done', 'failed'].includes(e.data.status));
      },
    });
    for (const e of events) if (e.event === 'video' && e.data.iter < e.data.iters) iterated.add(e.data.frame);
    const job = await waitFor(second.app, id);
    assert.equal(job.status, 'done', job.error);
    assert.equal(Math.min(...iterated), kept + 1, `frames 1..${kept} were not made again (iterations seen on frames ${[...iterated].join(', ')})`);
    const frames = await decode((await second.app.inject({ url: job.resultUrl })).rawPayload, 'restarted.mp4');
    assert.equal(frames.length, 8);
    assert.ok(!fs.existsSync(framesDir), 'the frames folder goes once the video is stored');
  } finally {
    await second.close();
  }
});

test('bad video jobs are one-line 400s, and nothing is queued', async () => {
  const tone = path.join(dir, 'tone.m4a');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '0.5', tone]);
  const long = fs.readFileSync(colourClip(path.join(dir, 'long.mp4'), ['red', 'blue', 'green'], { seconds: 0.5 }));
  const big = fs.readFileSync(colourClip(path.join(dir, 'big.mp4'), ['red'], { width: 80, height: 64 }));
  const zero = path.join(dir, 'zero.avi');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '0', '-c:v', 'mpeg4', zero]);
  const s = await style();
  const cases: [string, Part[], RegExp][] = [
    ['a text file named .mp4', [clip(Buffer.from('not a video, just notes\n'), 'notes.mp4'), s, ...fields(TINY)], /the content video is a text file, not a video/],
    ['an audio-only file', [clip(fs.readFileSync(tone), 'tone.m4a'), s, ...fields(TINY)], /the content video has no video: it holds sound only/],
    ['a clip with no frames', [clip(fs.readFileSync(zero), 'zero.avi'), s, ...fields(TINY)], /has no video frames|not a video ffmpeg can read/],
    ['a clip over --max-video-seconds', [clip(long, 'long.mp4'), s, ...fields(TINY)], /the content video is longer than this server's limit of 1 s; cut it shorter/],
    ['a clip over --max-video-pixels', [clip(big, 'big.mp4'), s, ...fields(TINY)], /the content video is 80x64, more than this server's limit of 3072 pixels a frame/],
    ['a bad field value', [clip(CLIP), s, ...fields({ ...TINY, frame_iters: 'many' })], /frame_iters must be a decimal number, got "many"/],
    ['a field out of range', [clip(CLIP), s, ...fields({ ...TINY, temporal_weight: '-1' })], /temporal_weight must be a finite number >= 0/],
    ['an unknown engine', [clip(CLIP), s, ...fields({ ...TINY, engine: 'slow' })], /engine must be one of gatys, fast/],
    ['an image field', [clip(CLIP), s, ...fields({ ...TINY, scales: '2' })], /field "scales" does not apply to mode=video/],
    ['no style image', [clip(CLIP), ...fields(TINY)], /mode=video needs a style image/],
    ['engine fast without a model', [clip(CLIP), ...fields({ mode: 'video', engine: 'fast' })], /model is required with engine=fast \(available: .*wave/],
    ['engine fast with a style image', [clip(CLIP), s, ...fields({ mode: 'video', engine: 'fast', model: 'wave' })], /engine=fast takes no style images/],
    ['no clip', [s, ...fields(TINY)], /mode=video needs a clip/],
    ['start past the end', [clip(CLIP), s, ...fields({ ...TINY, start: '5' })], /start 5 s is beyond the end of the content video/],
  ];
  const before = (await srv.app.inject({ url: '/api/jobs?limit=1000' })).json().jobs.length;
  for (const [what, parts, re] of cases) {
    const r = await postJob(srv.app, parts);
    assert.equal(r.statusCode, 400, `${what}: ${r.body}`);
    const msg = r.json().error as string;
    assert.match(msg, re, what);
    assert.ok(!msg.includes('\n'), `${what}: one line`);
  }
  assert.equal((await srv.app.inject({ url: '/api/jobs?limit=1000' })).json().jobs.length, before, 'no job was created');
});

test('on the Redis queue: the worker runs a video job, its video events are in the log, the MP4 comes from Redis with ranges', async () => {
  const redis = await startRedis();
  const node = await createServer({ dataDir: path.join(dir, 'redis-node'), weights: VGG_PARTIAL, threads: 1, fastModelsDir: path.join(ASSETS, 'fast-style'), redis: redis.url, workers: 1, webDir: tempDir() });
  try {
    const url = await node.app.listen({ port: 0, host: '127.0.0.1' });
    const r = await postJob(node.app, [clip(CLIP), ...fields({ mode: 'video', engine: 'fast', model: 'wave', size: '32' })]);
    assert.equal(r.statusCode, 201, r.body);
    const job = await waitFor(node.app, r.json().id, undefined, 120_000);
    assert.equal(job.status, 'done', job.error);
    assert.deepEqual([job.frames, job.width, job.height, job.progress], [4, 32, 22, { iter: 4, iters: 4 }]);
    // a client that reconnects from the start gets the run's events from the Redis stream
    const { events } = await readSseUntil(`${url}/api/jobs/${job.id}/events`, { lastEventId: '0-0', timeoutMs: 20_000 });
    assert.deepEqual(events.filter((e) => e.event === 'video').map((e) => e.data.frame), [1, 2, 3, 4]);
    const all = (await node.app.inject({ url: job.resultUrl })).rawPayload;
    assert.equal((await decode(all, 'redis.mp4')).length, 4);
    const part = await node.app.inject({ url: job.resultUrl, headers: { range: 'bytes=10-19' } });
    assert.equal(part.statusCode, 206);
    assert.deepEqual(part.rawPayload, all.subarray(10, 20));
  } finally {
    await node.close();
    await redis.stop();
  }
});
