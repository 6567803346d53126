// The page's Sound mode in a real browser (chromium via playwright-core): two WAV files are picked
// (each playable at once), a mode=audio job runs with its live spectrogram, and the result plays in the
// page's audio element (its WAV loaded and its length read by the browser) under the spectrogram sheet.
// Screenshot in test-results/web-sound.png; UPDATE_SCREENSHOT=1 also writes docs/web-sound.png (README).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { StyleloomServer } from '../src/server/app.js';
import { closePage, servePage } from './helpers/page-server.js';
import { tempDir } from './helpers/cli.js';
import { ROOT, VGG_PARTIAL } from './helpers/fixtures.js';
import { chirp, tones, writeTestWav } from './helpers/sounds.js';

const RESULTS = path.join(ROOT, 'test-results');
const SR = 22050;
const dir = tempDir('styleloom-web-audio-');
const CONTENT = writeTestWav(path.join(dir, 'chirp.wav'), chirp(SR, 0.5), SR);
const STYLE = writeTestWav(path.join(dir, 'tones.wav'), tones(SR, 0.6), SR);
let srv: StyleloomServer;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  fs.mkdirSync(RESULTS, { recursive: true });
  ({ srv, base, browser, page } = await servePage({ dataDir: path.join(dir, 'data'), weights: VGG_PARTIAL, threads: 2, webDir: path.join(ROOT, 'web', 'dist') }, pageErrors));
});

after(() => closePage({ browser, srv }));

test('Sound mode: pick two sounds, run, watch the spectrogram, play the result', async () => {
  await page.goto(base + '/?dev');
  await page.click('.seg[data-mode="audio"]');
  assert.equal(await page.isVisible('#sound-card'), true);
  assert.equal(await page.isVisible('#images-card'), false, 'the image pickers make way');
  assert.equal(await page.isVisible('#field-size'), false);
  assert.match((await page.textContent('#start-hint'))!, /Choose a sound to repaint/);
  await page.setInputFiles('#file-sound-content', CONTENT);
  await page.setInputFiles('#file-sound-style', STYLE);
  assert.equal(await page.textContent('#sound-content-name'), 'chirp.wav');
  // the picked sound plays in the page before it is sent
  const picked = await page.evaluate(() => new Promise<number>((resolve, reject) => {
    const a = document.getElementById('sound-content-player') as HTMLAudioElement;
    if (a.readyState >= 1) resolve(a.duration);
    a.addEventListener('loadedmetadata', () => resolve(a.duration));
    a.addEventListener('error', () => reject(new Error('the picked sound does not load')));
  }));
  assert.ok(Math.abs(picked - 0.5) < 0.02, `picked sound ${picked} s`);
  await page.evaluate(() => {
    const s = document.getElementById('iters') as HTMLInputElement;
    s.value = s.min;
    s.dispatchEvent(new Event('input', { bubbles: true }));
  });
  assert.equal(await page.isEnabled('#start'), true, (await page.textContent('#start-hint')) ?? '');
  await page.click('#start');
  await page.waitForSelector('#stage-audio:not([hidden])', { timeout: 90_000 });
  const id = (await page.evaluate(() => location.hash)).replace('#job=', '');
  const job = await (await fetch(`${base}/api/jobs/${id}`)).json();
  assert.equal(job.mode, 'audio');
  assert.equal(job.status, 'done');
  // the browser loads the result WAV and reads its length
  const played = await page.evaluate(() => new Promise<number>((resolve, reject) => {
    const a = document.getElementById('stage-audio') as HTMLAudioElement;
    if (a.readyState >= 1) resolve(a.duration);
    a.addEventListener('loadedmetadata', () => resolve(a.duration));
    a.addEventListener('error', () => reject(new Error(`the result does not load: ${a.error?.message}`)));
  }));
  assert.ok(Math.abs(played - 0.5) < 0.02, `result ${played} s`);
  assert.equal(await page.getAttribute('#stage-audio', 'src'), job.resultUrl);
  // the stage shows the spectrogram sheet, and the download is the WAV
  await page.waitForSelector('#stage-img[data-kind="result"]:not([hidden])');
  assert.ok(Number(await page.getAttribute('#stage-img', 'data-w')) >= 3 * 96, 'three panels');
  assert.match((await page.textContent('#stage-badge'))!, /Spectrograms/);
  assert.match((await page.getAttribute('#download', 'download'))!, /\.wav$/);
  await page.screenshot({ path: path.join(RESULTS, 'web-sound.png') });
  if (process.env.UPDATE_SCREENSHOT === '1') fs.copyFileSync(path.join(RESULTS, 'web-sound.png'), path.join(ROOT, 'docs', 'web-sound.png'));
  assert.deepEqual(pageErrors, []);
});
