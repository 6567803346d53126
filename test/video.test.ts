// stylizeVideo() end to end on clips the test makes (a photo panned by known amounts, 48x32 px, a few
// frames): both modes decoded back (frame count, size, pixels), temporal consistency against independent
// frames measured along the input's flow, resume after an interruption, cancellation, and bad options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { stylizeVideo } from '../src/video/stylize-video.js';
import { fastStylize } from '../src/fast/stylize-fast.js';
import { openClip } from '../src/video/clip.js';
import { readFrames } from '../src/video/decode.js';
import { flowFrame, flowPair } from '../src/video/flow.js';
import { consistencyMask, warpRgb } from '../src/video/warp.js';
import { ffmpegTags } from '../src/media/ffmpeg.js';
import type { RgbImage } from '../src/image/types.js';
import type { VideoOptions, VideoProgressEvent } from '../src/video/types.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { STARRY, tempDir } from './helpers/cli.js';
import { meanAbsDiff, panFrames, writeClip } from './helpers/clips.js';

const dir = tempDir('styleloom-video-');
const WAVE = path.join(ASSETS, 'fast-style', 'wave');
const input = await panFrames(4, 48, 32, 2, 1);
const CLIP = writeClip(path.join(dir, 'pan.mp4'), input);
const gatys = (out: string, extra: Partial<VideoOptions> = {}): VideoOptions => ({
  content: CLIP, styles: [STARRY], weights: VGG_PARTIAL, out: path.join(dir, out), iters: 8, frameIters: 4, threads: 1, ...extra,
});

async function decoded(file: string): Promise<RgbImage[]> {
  const clip = await openClip({ file, what: file, start: 0, maxDuration: 60 });
  const out: RgbImage[] = [];
  for await (const f of readFrames(clip.plan, file)) out.push(f);
  return out;
}

/** Warping error (Lai et al. 2018) of `outs` along the flow of the input frames, on the reliable pixels; 0..1 RGB. */
async function warpError(frames: RgbImage[], outs: RgbImage[]): Promise<number> {
  let s = 0;
  for (let t = 1; t < outs.length; t++) {
    const a = await flowFrame(frames[t - 1]);
    const b = await flowFrame(frames[t]);
    const { back, fwd } = await flowPair(a, b);
    a.delete();
    b.delete();
    const { mask } = consistencyMask(back, fwd);
    const w = warpRgb(outs[t - 1], back);
    let e = 0;
    let n = 0;
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      n++;
      for (let c = 0; c < 3; c++) e += ((w.data[3 * p + c] - outs[t].data[3 * p + c]) / 255) ** 2;
    }
    s += e / (3 * n);
  }
  return s / (outs.length - 1);
}

const collect = () => {
  const frames: RgbImage[] = [];
  const events: VideoProgressEvent[] = [];
  return { frames, events, hooks: { onFrame: (f: RgbImage) => void frames.push(f), onProgress: (e: VideoProgressEvent) => void events.push(e) } };
};

test('gatys mode: every frame stylised and encoded; temporal consistency flickers less than independent frames', async () => {
  const on = collect();
  const r = await stylizeVideo(gatys('temporal.mp4'), on.hooks);
  assert.deepEqual([r.frames, r.width, r.height, r.fps, r.mode, r.temporal], [4, 48, 32, 10, 'gatys', true]);
  assert.ok(r.flowMsPerFrame > 0 && r.reliable > 0.8 && r.reliable <= 1, `flow ${r.flowMsPerFrame} ms, reliable ${r.reliable}`);
  const back = await decoded(r.out);
  assert.equal(back.length, 4);
  assert.deepEqual([back[0].width, back[0].height], [48, 32]);
  back.forEach((f, k) => {
    assert.ok(meanAbsDiff(f, on.frames[k]) < 8, `decoded frame ${k} is the stylised one`);
    assert.ok(meanAbsDiff(on.frames[k], input[k]) > 10, `frame ${k} is stylised, not the content`);
  });
  assert.ok(!fs.existsSync(`${r.out}.frames`), 'the frames folder is removed once the video is written');
  const comment = JSON.parse((await ffmpegTags(r.out)).comment);
  assert.match(comment.Software, /^styleloom /);
  assert.equal(comment['styleloom:parameters'].frameIters, 4);
  // progress: the iterations of each frame (first frame 8, later 4), then one event per frame with an ETA
  const frameEvents = on.events.filter((e) => e.phase === 'frame');
  assert.deepEqual(frameEvents.map((e) => e.frame), [1, 2, 3, 4]);
  assert.equal(frameEvents[3].etaMs, 0);
  assert.deepEqual([1, 2].map((f) => on.events.filter((e) => e.phase === 'iter' && e.frame === f).length), [8, 4]);

  const off = collect();
  const r0 = await stylizeVideo(gatys('independent.mp4', { temporal: false }), off.hooks);
  assert.equal(r0.temporal, false);
  assert.equal(r0.flowMsPerFrame, 0, 'no flow without temporal consistency');
  assert.deepEqual([1, 2].map((f) => off.events.filter((e) => e.phase === 'iter' && e.frame === f).length), [8, 8], 'independent frames: --iters each');
  const eOn = await warpError(input, on.frames);
  const eOff = await warpError(input, off.frames);
  const eIn = await warpError(input, input);
  assert.ok(eOn < 0.5 * eOff, `warping error temporal ${eOn.toExponential(2)} vs independent ${eOff.toExponential(2)} (input ${eIn.toExponential(2)})`);
});

test('fast mode: one network pass per frame (batched); the flow blend lowers the flicker; --no-temporal is the network alone', async () => {
  const frames6 = await panFrames(6, 48, 32, 2, 1);
  const clip = writeClip(path.join(dir, 'pan6.mp4'), frames6);
  const plain = collect();
  const r0 = await stylizeVideo({ content: clip, mode: 'fast', model: WAVE, out: path.join(dir, 'fast0.webm'), temporal: false, threads: 1 }, plain.hooks);
  assert.equal(r0.frames, 6);
  const decodedIn = await decoded(clip);
  for (const k of [0, 5]) {
    const alone = await fastStylize(decodedIn[k], WAVE, { threads: 1 });
    assert.deepEqual(plain.frames[k].data, alone.data, `frame ${k} is the network's output for it`);
  }
  const blended = collect();
  const r = await stylizeVideo({ content: clip, mode: 'fast', model: WAVE, out: path.join(dir, 'fast.mp4'), threads: 1 }, blended.hooks);
  assert.deepEqual([r.frames, r.mode, r.temporal], [6, 'fast', true]);
  assert.deepEqual(blended.frames[0].data, plain.frames[0].data, 'the first frame has nothing to blend with');
  assert.ok(meanAbsDiff(blended.frames[3], plain.frames[3]) > 1, 'later frames are blended');
  const back = await decoded(r.out);
  assert.equal(back.length, 6);
  const eOn = await warpError(frames6, blended.frames);
  const eOff = await warpError(frames6, plain.frames);
  assert.ok(eOn < 0.6 * eOff, `warping error blended ${eOn.toExponential(2)} vs the network alone ${eOff.toExponential(2)}`);
});

test('resume after an interruption gives the same frames; the cancelled run writes no video', async () => {
  const whole = collect();
  await stylizeVideo(gatys('whole.mp4'), whole.hooks);
  const out = path.join(dir, 'resumed.mp4');
  const ac = new AbortController();
  const first: RgbImage[] = [];
  await assert.rejects(
    stylizeVideo(gatys('resumed.mp4'), {
      signal: ac.signal,
      onFrame: (f, i) => {
        first.push(f);
        if (i === 1) ac.abort();
      },
    }),
    (e: Error & { code?: string }) => e.code === 'E_ABORTED',
  );
  assert.equal(first.length, 2, 'stopped after the current frame');
  assert.equal(fs.existsSync(out), false, 'no video at the output name');
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.resumed')), [], 'no temp file');
  assert.deepEqual(fs.readdirSync(`${out}.frames`).sort(), ['000001.png', '000002.png', 'run.json']);
  // a second run without resume refuses to overwrite the interrupted run's frames
  await assert.rejects(stylizeVideo(gatys('resumed.mp4')), /holds the frames of an interrupted run; add resumeFrames to continue it/);
  // nor may the options change
  await assert.rejects(stylizeVideo(gatys('resumed.mp4', { frameIters: 5, resumeFrames: true })), /cannot resume: the frames in .* were made from another clip or with other options/);
  const rest = collect();
  const r = await stylizeVideo(gatys('resumed.mp4', { resumeFrames: true }), rest.hooks);
  assert.equal(r.resumedFrames, 2);
  assert.equal(rest.frames.length, 2, 'only frames 3 and 4 are made again');
  assert.deepEqual(rest.events.filter((e) => e.phase === 'frame').map((e) => [e.frame, Boolean(e.resumed)]), [[1, true], [2, true], [3, false], [4, false]]);
  const all = [...first, ...rest.frames];
  all.forEach((f, k) => assert.deepEqual(f.data, whole.frames[k].data, `frame ${k} is the uninterrupted run's`));
  assert.equal((await decoded(out)).length, 4);
  assert.equal(fs.existsSync(`${out}.frames`), false);
});

test('bad options: one line each, before any work, nothing written', async () => {
  const cases: [Partial<VideoOptions>, RegExp][] = [
    [{ styles: [] }, /^styles is missing: give at least one style image/],
    [{ mode: 'fast', styles: undefined }, /^mode fast needs model/],
    [{ mode: 'fast', model: WAVE }, /^styles is for mode gatys/],
    [{ out: path.join(dir, 'out.avi') }, /unknown video format \.avi; use \.mp4, \.webm, \.gif or \.webp$/],
    [{ out: path.join(dir, 'missing', 'out.mp4') }, /directory .*missing does not exist; create it first$/],
    [{ out: '/proc/out.mp4' }, /^\/proc\/out\.mp4: /],
    [{ out: CLIP.replace(/\.mp4$/, '.mp4') }, /is the input clip: writing it would destroy the input/],
    [{ start: 9 }, /^start 9 s is beyond the end of the content video/],
    [{ frameIters: 0 }, /^frameIters must be a whole number from 1/],
    [{ blendWeight: 2 }, /^blendWeight must be a finite number from 0 to 1, got 2$/],
  ];
  for (const [extra, re] of cases) {
    await assert.rejects(stylizeVideo(gatys('bad.mp4', extra)), (e: Error) => {
      assert.match(e.message, re, JSON.stringify(extra));
      return true;
    });
  }
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('bad') || n.startsWith('.bad')), []);
});
