// The page's Video mode in a real browser (chromium via playwright-core): a tiny clip the test makes is
// picked (and plays in the card), a mode=video job runs with a painting, its frames show on the stage as they
// finish (frame i of N), and the result MP4 loads in the stage's <video> element (duration and size read by
// the browser). Screenshot in test-results/web-video.png; UPDATE_SCREENSHOT=1 also writes docs/web-video.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { StyleloomServer } from '../src/server/app.js';
import { closePage, servePage } from './helpers/page-server.js';
import { STARRY, tempDir } from './helpers/cli.js';
import { ffmpeg, panFrames } from './helpers/clips.js';
import { ASSETS, ROOT, VGG_PARTIAL } from './helpers/fixtures.js';

const RESULTS = path.join(ROOT, 'test-results');
const dir = tempDir('styleloom-web-video-');
// H.264 in yuv420p, as a phone or camera writes it (the browser plays that)
const CLIP = path.join(dir, 'pan.mp4');
const frames = await panFrames(6, 96, 64, 2, 1);
ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '96x64', '-r', '10', '-i', 'pipe:0', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', CLIP], Buffer.concat(frames.map((f) => Buffer.from(f.data))));
let srv: StyleloomServer;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  fs.mkdirSync(RESULTS, { recursive: true });
  ({ srv, base, browser, page } = await servePage({ dataDir: path.join(dir, 'data'), weights: VGG_PARTIAL, threads: 2, webDir: path.join(ROOT, 'web', 'dist'), fastModelsDir: path.join(ASSETS, 'fast-style') }, pageErrors));
});

after(() => closePage({ browser, srv }));

const setSlider = (id: string, value: string) =>
  page.evaluate(([id, value]) => {
    const s = document.getElementById(id) as HTMLInputElement;
    s.value = value === 'min' ? s.min : value;
    s.dispatchEvent(new Event('input', { bubbles: true }));
  }, [id, value]);

/** The duration and size of a <video> element once it has loaded its metadata. */
const videoMeta = (id: string) =>
  page.evaluate((id) => new Promise<[number, number, number]>((resolve, reject) => {
    const v = document.getElementById(id) as HTMLVideoElement;
    const done = () => resolve([v.duration, v.videoWidth, v.videoHeight]);
    if (v.readyState >= 1) done();
    v.addEventListener('loadedmetadata', done);
    v.addEventListener('error', () => reject(new Error(`${id} does not load: ${v.error?.message ?? v.error?.code}`)));
  }), id);

test('Video mode: pick a clip and a painting, watch the frames finish, play the result', async () => {
  await page.goto(base + '/?dev');
  await page.click('.seg[data-mode="video"]');
  assert.equal(await page.isVisible('#video-card'), true);
  assert.equal(await page.isVisible('#drop-content'), false, 'the photo tile makes way for the clip');
  assert.equal(await page.isVisible('#drop-style'), true, 'the painting is picked as for an image');
  assert.match((await page.textContent('#start-hint'))!, /Choose a clip to repaint · at most 30 s/);
  await page.setInputFiles('#file-video', CLIP);
  assert.equal(await page.textContent('#video-name'), 'pan.mp4');
  const [picked, pw] = await videoMeta('video-player');
  assert.ok(Math.abs(picked - 0.6) < 0.05 && pw === 96, `the picked clip plays in the page: ${picked} s, ${pw} px`);
  await page.setInputFiles('#file-style', STARRY);
  await setSlider('size', '64');
  await setSlider('iters', '20');
  await setSlider('frame-iters', '5');
  assert.equal(await page.isEnabled('#start'), true, (await page.textContent('#start-hint')) ?? '');
  // what the stage showed while the job ran (the frames may finish between two looks)
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seen: string[] }).seen = seen;
    const badge = document.getElementById('stage-badge')!;
    const img = document.getElementById('stage-img') as HTMLImageElement;
    new MutationObserver(() => seen.push(`${badge.textContent} | ${img.hidden ? '' : img.getAttribute('src')} | ${document.getElementById('progress-text')!.textContent}`)).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.click('#start');
  await page.waitForSelector('#stage-video:not([hidden])', { timeout: 120_000 });
  const id = (await page.evaluate(() => location.hash)).replace('#job=', '');
  const job = await (await fetch(`${base}/api/jobs/${id}`)).json();
  assert.deepEqual([job.mode, job.status, job.frames, job.width, job.height, job.params.engine], ['video', 'done', 6, 64, 42, 'gatys']);
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  assert.ok(seen.some((s) => /^Frame \d of 6 · done \| \/api\/jobs\/[0-9a-f-]+\/preview\.png\?iter=\d/.test(s)), `a finished frame on the stage: ${seen.slice(-5).join(' / ')}`);
  assert.ok(seen.some((s) => /Frame \d of 6 · iteration \d \/ \d/.test(s)), 'frame i of N in the progress line');
  // the browser loads the result MP4 and reads its length and size
  const [played, w, h] = await videoMeta('stage-video');
  assert.ok(Math.abs(played - 0.6) < 0.05, `result ${played} s`);
  assert.deepEqual([w, h], [64, 42]);
  assert.equal(await page.getAttribute('#stage-video', 'src'), job.resultUrl);
  assert.equal(await page.isVisible('#stage-img'), false, 'the video takes the picture\'s place');
  assert.match((await page.textContent('#progress-text'))!, /Done · 6 frames at 10 fps/);
  assert.match((await page.getAttribute('#download', 'download'))!, /\.mp4$/);
  assert.equal(await page.getAttribute('#download', 'href'), job.resultUrl);
  // a seek (the browser asks for byte ranges) lands on a decoded frame
  const at = await page.evaluate(() => new Promise<number>((resolve, reject) => {
    const v = document.getElementById('stage-video') as HTMLVideoElement;
    v.addEventListener('seeked', () => resolve(v.currentTime));
    v.addEventListener('error', () => reject(new Error(`seek failed: ${v.error?.message}`)));
    v.currentTime = 0.35;
  }));
  assert.ok(Math.abs(at - 0.35) < 0.06, `seeked to ${at} s`);
  await page.evaluate(() => document.querySelector('.controls-scroll')!.scrollTo(0, 0));
  await page.waitForFunction(() => (document.getElementById('stage-video') as HTMLVideoElement).readyState >= 3);
  await page.waitForTimeout(500); // the player's own spinner fades
  await page.screenshot({ path: path.join(RESULTS, 'web-video.png') });
  if (process.env.UPDATE_SCREENSHOT === '1') fs.copyFileSync(path.join(RESULTS, 'web-video.png'), path.join(ROOT, 'docs', 'web-video.png'));
  assert.deepEqual(pageErrors, []);
});

test('Video mode, fast engine: the part-of-the-clip fields (ranges from the option table) reach the job', async () => {
  await page.goto(base + '/?dev');
  await page.click('.seg[data-mode="video"]');
  await page.click('.seg[data-engine="fast"]');
  await page.setInputFiles('#file-video', CLIP);
  await page.click('#video-more summary');
  assert.deepEqual(await page.evaluate(() => ['video-blend', 'video-fps', 'video-start'].map((id) => { const i = document.getElementById(id) as HTMLInputElement; return [i.min, i.max, i.value]; })), [['0', '1', '0.5'], ['0', '240', ''], ['0', '', '0']]);
  assert.equal(await page.isVisible('#field-blend'), true, 'the blend is a fast-engine field');
  assert.equal(await page.isVisible('#field-long-term'), false, 'long-term consistency is the optimisation engine\'s');
  await page.fill('#video-start', '0.2');
  await page.fill('#video-duration', '0.3');
  await page.fill('#video-fps', '5');
  await setSlider('video-blend', '0.3');
  assert.equal(await page.textContent('#video-blend-out'), '0.30');
  await setSlider('size', '64');
  await page.click('#start');
  await page.waitForSelector('#stage-video:not([hidden])', { timeout: 120_000 });
  const id = (await page.evaluate(() => location.hash)).replace('#job=', '');
  const job = await (await fetch(`${base}/api/jobs/${id}`)).json();
  assert.equal(job.status, 'done', job.error);
  assert.deepEqual([job.params.engine, job.params.start, job.params.duration, job.params.fps, job.params.blend_weight], ['fast', 0.2, 0.3, 5, 0.3]);
  assert.ok(job.frames >= 1 && job.frames <= 2, `0.3 s at 5 fps: ${job.frames} frames`);
  assert.equal(job.fps, 5);
  assert.deepEqual(pageErrors, []);
});
