// `styleloom video` end to end at tiny sizes: both modes with --json (its final line, the decoded video),
// every bad input of issue 14 (one line, non-zero exit, no output file), and Ctrl-C then --resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openClip } from '../src/video/clip.js';
import { VGG_PARTIAL, ASSETS } from './helpers/fixtures.js';
import { assertNoOutput, assertOneLineError, BIN, CHELSEA, cliEnv, runCli, showRun, STARRY, tempDir } from './helpers/cli.js';
import { colourClip, ffmpeg, panFrames, writeClip } from './helpers/clips.js';

const inputs = tempDir('styleloom-video-in-');
const CLIP = writeClip(path.join(inputs, 'pan.mp4'), await panFrames(4, 48, 32, 2, 1));
const TINY = ['--weights', VGG_PARTIAL, '--iters', '4', '--frame-iters', '2', '--threads', '1'];

test('styleloom video --json (gatys) and --mode fast: the final line, and the videos decoded back', async () => {
  const dir = tempDir('styleloom-video-out-');
  const out = path.join(dir, 'out.mp4');
  const r = await runCli(['video', '--content', CLIP, '--style', STARRY, ...TINY, '--size', '32', '--out', out, '--json']);
  assert.equal(r.code, 0, showRun(r));
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.deepEqual(
    [j.frames, j.fps, j.width, j.height, j.out, j.mode, j.temporal],
    [4, 10, 32, 22, out, 'gatys', true],
  );
  assert.ok(j.s_per_frame > 0 && j.flow_ms_per_frame > 0, r.stdout);
  assert.match(r.stderr, /frame 4\/4/, 'progress lines without a terminal');
  const clip = await openClip({ file: out, what: 'out', start: 0, maxDuration: 60 });
  assert.deepEqual([clip.frames, clip.plan.width, clip.plan.height], [4, 32, 22]);
  assert.deepEqual(fs.readdirSync(dir), ['out.mp4']);
  const info = await runCli(['info', out, '--json']);
  assert.equal(info.code, 0, showRun(info));
  const meta = JSON.parse(info.stdout);
  assert.match(meta.Software, /^styleloom /);
  assert.equal(JSON.parse(meta['styleloom:parameters']).frames, 4, 'styleloom info reads the record back from the MP4');
  const bare = path.join(dir, 'bare.webm');
  const b = await runCli(['video', '--content', CLIP, '--style', STARRY, ...TINY, '--size', '16', '--iters', '1', '--frame-iters', '1', '--duration', '0.2', '--out', bare, '--no-metadata']);
  assert.equal(b.code, 0, showRun(b));
  assert.match((await runCli(['info', bare])).stdout, /no styleloom metadata/);
  fs.rmSync(bare);

  const fast = path.join(dir, 'fast.gif');
  const f = await runCli(['video', '--mode', 'fast', '--model', path.join(ASSETS, 'fast-style', 'wave'), '--content', CLIP, '--out', fast, '--json', '--threads', '1']);
  assert.equal(f.code, 0, showRun(f));
  const jf = JSON.parse(f.stdout);
  assert.deepEqual([jf.frames, jf.width, jf.height, jf.mode], [4, 48, 32, 'fast']);
  assert.equal((await openClip({ file: fast, what: 'gif', start: 0, maxDuration: 60, fps: 10 })).frames, 4);
});

test('bad inputs: one line, non-zero exit, no output file', async () => {
  const text = path.join(inputs, 'notes.mp4');
  fs.writeFileSync(text, 'not a video\n');
  const tone = path.join(inputs, 'tone.m4a');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '0.5', tone]);
  const truncated = path.join(inputs, 'truncated.mp4');
  const whole = fs.readFileSync(colourClip(path.join(inputs, 'rb.mp4'), ['red', 'blue']));
  fs.writeFileSync(truncated, whole.subarray(0, whole.length >> 1)); // the index (moov) is at the end: lost
  const zero = path.join(inputs, 'zero.avi');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-frames:v', '0', '-c:v', 'mpeg4', zero]);
  const huge = path.join(inputs, 'huge.nut');
  ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=8200x16:r=1', '-frames:v', '1', '-c:v', 'rawvideo', huge]);
  const cases: [string[], (RegExp | string)[], number?][] = [
    [['--content', text], ['is a text file, not a video']],
    [['--content', tone], ['has no video: it holds sound only']],
    [['--content', zero], ['has no video frames']],
    [['--content', truncated], ['truncated or damaged', 'moov atom not found']],
    [['--content', huge], ['8200x16, over the limit of 8192 px a side']],
    [['--content', CLIP, '--max-duration', '0.2'], ['0.4 s to stylise, over the limit of --max-duration 0.2 s']],
    [['--content', CLIP, '--start', '3'], ['--start 3 s is beyond the end of the content video'], 2],
    [['--content', CLIP, '--out', '/proc/styleloom-video.mp4'], [/^styleloom: \/proc\/styleloom-video\.mp4: /]],
    [['--content', CLIP, '--out', 'OUT/out.avi'], ['unknown video format .avi; use .mp4, .webm, .gif or .webp'], 2],
    [['--content', CLIP, '--style', CHELSEA, '--mode', 'fast'], ['--mode fast needs --model'], 2],
  ];
  for (const [args, match, code] of cases) {
    const dir = tempDir('styleloom-video-bad-');
    const out = path.join(dir, 'out.mp4');
    const withOut = args.includes('--out') ? args.map((a) => a.replace('OUT', dir)) : [...args, '--out', out];
    const full = withOut.includes('--style') || withOut.includes('--mode') ? withOut : [...withOut, '--style', STARRY];
    const r = await runCli(['video', ...full, ...TINY]);
    assertOneLineError(r, { match, code });
    assertNoOutput(out);
  }
});

test('Ctrl-C stops after the current frame with no video; --resume finishes it', async () => {
  const dir = tempDir('styleloom-video-int-');
  const out = path.join(dir, 'out.mp4');
  const args = [BIN, 'video', '--content', CLIP, '--style', STARRY, '--weights', VGG_PARTIAL, '--iters', '30', '--frame-iters', '30', '--threads', '1', '--out', out];
  const child = spawn(process.execPath, args, { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const code = await new Promise<number | null>((resolve) => {
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (/frame 1\/4/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('close', (c) => resolve(c));
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /stopping after this frame/);
  assert.match(stderr, /cancelled: no video written; the finished frames are in .*out\.mp4\.frames \(continue with the same flags and --resume\)/);
  assert.equal(fs.existsSync(out), false);
  const kept = fs.readdirSync(`${out}.frames`).filter((n) => n.endsWith('.png'));
  assert.ok(kept.length >= 1 && kept.length < 4, `frames kept: ${kept.join(', ')}`);
  const again = await runCli(['video', ...args.slice(2), '--json']);
  assertOneLineError(again, { code: 2, match: ['holds the frames of an interrupted run; add --resume to continue it'] });
  const r = await runCli(['video', ...args.slice(2), '--resume', '--json']);
  assert.equal(r.code, 0, showRun(r));
  const j = JSON.parse(r.stdout);
  assert.equal(j.frames, 4);
  assert.equal(j.resumed_frames, kept.length);
  assert.deepEqual(fs.readdirSync(dir), ['out.mp4']);
});
