// Video in and out through ffmpeg: probing, decoding at the working size from --start for --duration at
// --fps, encoding MP4/WebM/GIF/WebP with the source's sound and the provenance comment, the temp-then-rename
// write, and every bad input of issue 14 as one E_INPUT/E_USAGE/E_OUTPUT line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openClip, workingSize } from '../src/video/clip.js';
import { readFrames } from '../src/video/decode.js';
import { openVideoWriter, videoFormatFor } from '../src/video/encode.js';
import { probeVideo } from '../src/video/probe.js';
import { ffmpegTags } from '../src/media/ffmpeg.js';
import type { RgbImage } from '../src/image/types.js';
import { CHELSEA, tempDir } from './helpers/cli.js';
import { colourClip, ffmpeg, meanAbsDiff, meanColour, panFrames, writeClip } from './helpers/clips.js';

const dir = tempDir('styleloom-video-io-');
const RB = colourClip(path.join(dir, 'red-blue.mp4'), ['red', 'blue'], { audio: true }); // 10 frames at 10 fps, 64x48
const base = { what: 'the clip', start: 0, maxDuration: 60 };

async function all(gen: AsyncIterable<RgbImage>): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for await (const f of gen) out.push(f);
  return out;
}

const near = (c: number[], want: number[], tol = 12) => c.every((v, k) => Math.abs(v - want[k]) <= tol);

test('probe: size, frame rate, duration and sound of an MP4', async () => {
  const info = await probeVideo(RB, 'the clip');
  assert.equal(info.width, 64);
  assert.equal(info.height, 48);
  assert.equal(info.fps, 10);
  assert.ok(info.duration !== null && Math.abs(info.duration - 1) < 0.1, `duration ${info.duration}`);
  assert.equal(info.hasAudio, true);
  assert.equal(info.codec, 'h264');
});

test('decode: every frame at the working size, colours in order; --start, --duration and --fps', async () => {
  const clip = await openClip({ ...base, file: RB, size: 32 });
  assert.equal(clip.frames, 10);
  assert.deepEqual([clip.plan.width, clip.plan.height], [32, 24]);
  const frames = await all(readFrames(clip.plan, 'the clip'));
  assert.equal(frames.length, 10);
  for (const f of frames) assert.equal(f.data.length, 32 * 24 * 3);
  assert.ok(near(meanColour(frames[0]), [255, 0, 0]), `frame 0 is red: ${meanColour(frames[0])}`);
  assert.ok(near(meanColour(frames[4]), [255, 0, 0]), 'frame 4 is red');
  assert.ok(near(meanColour(frames[5]), [0, 0, 255]), `frame 5 is blue: ${meanColour(frames[5])}`);
  const late = await openClip({ ...base, file: RB, size: 32, start: 0.5 });
  assert.equal(late.frames, 5);
  const lf = await all(readFrames(late.plan, 'the clip'));
  assert.ok(near(meanColour(lf[0]), [0, 0, 255]), 'from --start 0.5 the first frame is blue');
  const short = await openClip({ ...base, file: RB, duration: 0.3 });
  assert.equal(short.frames, 3);
  assert.deepEqual([short.plan.width, short.plan.height], [64, 48], 'no --size: the clip size (under 512)');
  const slow = await openClip({ ...base, file: RB, fps: 5 });
  assert.equal(slow.frames, 5);
});

test('a rotated phone clip (rotate 90 in its metadata): probed and decoded upright, with its sides swapped', async () => {
  const src = writeClip(path.join(dir, 'landscape.mp4'), await panFrames(3, 48, 32, 1, 0));
  const rotated = path.join(dir, 'rotated.mp4');
  ffmpeg(['-i', src, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
  const info = await probeVideo(rotated, 'rotated');
  assert.deepEqual([info.width, info.height], [32, 48]);
  const clip = await openClip({ ...base, file: rotated, size: 24 });
  assert.deepEqual([clip.plan.width, clip.plan.height], [16, 24]);
  const frames = await all(readFrames(clip.plan, 'rotated'));
  assert.equal(frames.length, 3);
  // upright, not squeezed: the decoded frame is the source frame turned a quarter (compare at full size)
  const full = await all(readFrames((await openClip({ ...base, file: rotated })).plan, 'rotated'));
  const plain = await all(readFrames((await openClip({ ...base, file: src })).plan, 'landscape'));
  const turned = (f: RgbImage, cw: boolean) => {
    const out = new Uint8Array(f.data.length);
    for (let y = 0; y < f.height; y++)
      for (let x = 0; x < f.width; x++) {
        const [nx, ny] = cw ? [f.height - 1 - y, x] : [y, f.width - 1 - x];
        out.set(f.data.subarray((y * f.width + x) * 3, (y * f.width + x) * 3 + 3), (ny * f.height + nx) * 3);
      }
    return { data: out, width: f.height, height: f.width };
  };
  const best = Math.min(meanAbsDiff(full[0], turned(plain[0], true)), meanAbsDiff(full[0], turned(plain[0], false)));
  assert.ok(best < 3, `a quarter turn of the source frame: ${best}`);
});

test('working size: long side --size, even sides', () => {
  assert.deepEqual(workingSize(451, 300, 64), { width: 64, height: 42 });
  assert.deepEqual(workingSize(300, 451, 33), { width: 22, height: 34 });
  assert.deepEqual(workingSize(1920, 1080, 512), { width: 512, height: 288 });
});

test('encode: MP4 round trip keeps the frames, the sound of the part read, and the provenance comment', async () => {
  const frames = await panFrames(6, 48, 32, 2, 1);
  const src = writeClip(path.join(dir, 'pan.mp4'), frames);
  const clip = await openClip({ ...base, file: src });
  assert.equal(clip.frames, 6);
  const got = await all(readFrames(clip.plan, 'pan'));
  got.forEach((f, k) => assert.ok(meanAbsDiff(f, frames[k]) < 1.5, `lossless source frame ${k}: ${meanAbsDiff(f, frames[k])}`));
  const out = path.join(dir, 'out.mp4');
  const w = openVideoWriter({ out, width: 48, height: 32, fps: 10, audio: { file: RB, start: 0.2 }, metadata: { comment: '{"Software":"styleloom test"}' } });
  for (const f of frames) await w.write(f);
  assert.equal(fs.existsSync(out), false, 'nothing at the output name before finish()');
  await w.finish();
  const info = await probeVideo(out, 'out');
  assert.deepEqual([info.width, info.height, info.fps, info.hasAudio], [48, 32, 10, true]);
  const back = await all(readFrames((await openClip({ ...base, file: out })).plan, 'out'));
  assert.equal(back.length, 6);
  back.forEach((f, k) => assert.ok(meanAbsDiff(f, frames[k]) < 6, `H.264 frame ${k} close to what was written: ${meanAbsDiff(f, frames[k])}`));
  assert.ok(meanAbsDiff(back[0], back[5]) > 10, 'the frames differ (the pan moved)');
  assert.equal((await ffmpegTags(out)).comment, '{"Software":"styleloom test"}');
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
});

test('encode: WebM (VP9 + sound), GIF and animated WebP by extension', async () => {
  const frames = await panFrames(4, 32, 24, 1, 0);
  for (const ext of ['webm', 'gif', 'webp']) {
    const out = path.join(dir, `out.${ext}`);
    const w = openVideoWriter({ out, width: 32, height: 24, fps: 8, audio: { file: RB, start: 0 } });
    for (const f of frames) await w.write(f);
    await w.finish();
    const head = fs.readFileSync(out).subarray(0, 64);
    if (ext === 'webp') {
      // this ffmpeg build cannot decode animated WebP: check the container says animation, with 4 frames
      assert.equal(head.subarray(8, 12).toString('latin1'), 'WEBP');
      const body = fs.readFileSync(out).toString('latin1');
      assert.ok(body.includes('ANIM'), 'an animated WebP');
      assert.equal(body.split('ANMF').length - 1, 4, 'four frames');
      continue;
    }
    const info = await probeVideo(out, ext);
    assert.deepEqual([info.width, info.height], [32, 24], ext);
    assert.equal(info.hasAudio, ext === 'webm', `${ext}: sound only where the container carries it`);
    const back = await all(readFrames((await openClip({ ...base, file: out, fps: 8 })).plan, ext));
    assert.equal(back.length, 4, `${ext}: 4 frames`);
    assert.ok(meanAbsDiff(back[3], frames[3]) < 20, `${ext} frame 3 close: ${meanAbsDiff(back[3], frames[3])}`);
  }
});

test('abort: ffmpeg stopped, no file at the output name, no temp file', async () => {
  const out = path.join(dir, 'aborted.mp4');
  const w = openVideoWriter({ out, width: 32, height: 24, fps: 10 });
  await w.write({ data: new Uint8Array(32 * 24 * 3), width: 32, height: 24 });
  await w.abort();
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.aborted')), []);
});

test('bad inputs: one line each, naming what is wrong', async () => {
  const text = path.join(dir, 'notes.mp4');
  fs.writeFileSync(text, 'this is not a video\n');
  const audioOnly = path.join(dir, 'tone.m4a');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '0.5', audioOnly]);
  const truncated = path.join(dir, 'truncated.mp4');
  const whole = fs.readFileSync(RB);
  fs.writeFileSync(truncated, whole.subarray(0, whole.length >> 1)); // the index (moov) is at the end: lost
  const zero = path.join(dir, 'zero.avi');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '0', '-c:v', 'mpeg4', zero]);
  const huge = path.join(dir, 'huge.nut');
  ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=8200x16:r=1', '-frames:v', '1', '-c:v', 'rawvideo', huge]);
  const long = colourClip(path.join(dir, 'long.mp4'), ['red'], { seconds: 3, width: 16, height: 16, fps: 2 });
  const still = path.join(dir, 'still.mp4');
  fs.copyFileSync(CHELSEA, still);
  const cases: [Parameters<typeof openClip>[0], string, RegExp][] = [
    [{ ...base, file: text }, 'E_INPUT', /^the clip is a text file, not a video; give a video file/],
    [{ ...base, file: audioOnly }, 'E_INPUT', /^the clip has no video: it holds sound only; for sounds use `styleloom audio`/],
    [{ ...base, file: truncated }, 'E_INPUT', /^the clip is not a video ffmpeg can read, or it is truncated or damaged \(moov atom not found\)/],
    [{ ...base, file: zero }, 'E_INPUT', /^the clip has no video frames; give a clip with frames/],
    [{ ...base, file: huge }, 'E_INPUT', /^the clip is 8200x16, over the limit of 8192 px a side/],
    [{ ...base, file: long, maxDuration: 2 }, 'E_INPUT', /^the clip: 3\.0 s to stylise, over the limit of maxDuration 2 s/],
    [{ ...base, file: RB, start: 5 }, 'E_USAGE', /^start 5 s is beyond the end of the clip \(1\.\d+ s long\)/],
    [{ ...base, file: still }, 'E_INPUT', /^the clip is a still image \(png_pipe\), not a video/],
    [{ ...base, file: path.join(dir, 'missing.mp4') }, 'E_INPUT', /^the clip: no such file/],
  ];
  for (const [req, code, re] of cases) {
    await assert.rejects(openClip(req), (e: Error & { code?: string }) => {
      assert.equal(e.code, code, `${path.basename(req.file)}: ${e.message}`);
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
  }
  assert.throws(() => videoFormatFor('out.avi'), (e: Error) => e.message === 'out out.avi: unknown video format .avi; use .mp4, .webm, .gif or .webp');
  assert.throws(() => videoFormatFor('out'), /unknown video format \(no extension\)/);
});
