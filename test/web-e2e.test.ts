// The web page end to end in a real browser (Debian's chromium driven by playwright-core): upload a
// photo and a painting, set a tiny size and few iterations (?dev lowers the sliders' minimums), start,
// watch the progress move, get the result, download it (a PNG that decodes); then a second job from
// the one-click samples at a realistic size, photographed mid-run at 1280x800 (preview + loss chart),
// cancelled; then reopen the first job from the history.
//
// chromium missing: scripts/install-chromium.sh installs it (apt-get); if that fails, so does this
// test. Screenshots go to test-results/; UPDATE_SCREENSHOT=1 also writes docs/web-ui.png (README).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { StyleloomServer } from '../src/server/app.js';
import { closePage, servePage } from './helpers/page-server.js';
import { CHELSEA, STARRY, tempDir } from './helpers/cli.js';
import { ROOT, VGG_PARTIAL } from './helpers/fixtures.js';

const WEB_DIST = path.join(ROOT, 'web', 'dist');
const RESULTS = path.join(ROOT, 'test-results');
const DOCS_SHOT = path.join(ROOT, 'docs', 'web-ui.png');
const UPDATE_SHOT = process.env.UPDATE_SCREENSHOT === '1';
/** Iteration of the second job at which the mid-run screenshot is taken. */
const SHOT_ITER = UPDATE_SHOT ? 80 : 10;

let srv: StyleloomServer;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

function ensureWebBuild(): void {
  if (fs.existsSync(path.join(WEB_DIST, 'index.html'))) return;
  // normally built by `npm test`'s pretest (or `npm run build:web`)
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', path.join(ROOT, 'web'), '--logLevel', 'warn'], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
  assert.equal(r.status, 0, `vite build web failed:\n${r.stdout}${r.stderr}`);
}

/** Sets a range input as a user would (the page listens to `input`). */
async function setSlider(id: string, value: number): Promise<void> {
  const got = await page.evaluate(
    ([sel, v]) => {
      const el = document.getElementById(sel as string) as HTMLInputElement;
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      return el.value;
    },
    [id, value] as const,
  );
  assert.equal(Number(got), value, `#${id} took ${got}, not ${value} (min ${await page.getAttribute(`#${id}`, 'min')})`);
}

/** Records every text #progress-text shows, from now on. */
async function recordProgress(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __progress: string[] };
    w.__progress = [];
    const el = document.getElementById('progress-text')!;
    new MutationObserver(() => {
      const t = el.textContent ?? '';
      if (w.__progress[w.__progress.length - 1] !== t) w.__progress.push(t);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

const progressSeen = () => page.evaluate(() => (window as unknown as { __progress: string[] }).__progress);

before(async () => {
  ensureWebBuild();
  fs.mkdirSync(RESULTS, { recursive: true });
  ({ srv, base, browser, page } = await servePage({ dataDir: tempDir('styleloom-web-'), weights: VGG_PARTIAL, threads: 2, webDir: WEB_DIST }, pageErrors, { acceptDownloads: true }));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

after(() => closePage({ browser, srv }));

test('the page loads with the server state, the samples and the models', async () => {
  const r = await fetch(base + '/');
  assert.equal(r.status, 200);
  assert.match(await r.text(), /<title>styleloom/);
  await page.goto(base + '/?dev');
  await page.waitForSelector('#server-pill[data-state="ok"]', { timeout: 10_000 });
  await page.waitForSelector('#thumbs-content .thumb[data-name="chelsea.png"]');
  await page.waitForSelector('#thumbs-style .thumb[data-name="starry_night.jpg"]');
  assert.equal(await page.isDisabled('#start'), true, 'nothing chosen yet: Start is disabled');
  assert.match((await page.textContent('#start-hint')) ?? '', /photo and a painting/);
});

let firstJob = '';

test('upload two images, start a tiny job, watch it progress, get and download the result', async () => {
  await page.setInputFiles('#file-content', CHELSEA);
  await page.setInputFiles('#file-style', STARRY);
  await page.waitForSelector('#drop-content.has-image');
  await page.waitForSelector('#drop-style.has-image');
  await setSlider('size', 64);
  await setSlider('iters', 10);
  assert.equal(await page.textContent('#size-out'), '64 px');
  assert.equal(await page.isEnabled('#start'), true);
  await recordProgress();

  await page.click('#start');
  await page.waitForSelector('#stage-img[data-kind="result"]:not([hidden])', { timeout: 30_000 });
  assert.equal(await page.textContent('#status-chip'), 'done');
  firstJob = (await page.evaluate(() => location.hash)).replace('#job=', '');
  assert.match(firstJob, /^[0-9a-f-]{36}$/);

  const seen = await progressSeen();
  const iterations = seen.filter((t) => /^Iteration \d+ \/ 10$/.test(t));
  assert.ok(iterations.length >= 2, `progress moved at least twice: ${JSON.stringify(seen)}`);
  assert.match(seen[seen.length - 1], /^Done/);
  assert.equal(await page.getAttribute('#progress-bar', 'aria-valuenow'), '100');
  assert.ok((await page.locator('#chart-svg path.line').count()) === 1, 'the loss chart is drawn');
  assert.match((await page.textContent('#loss-terms')) ?? '', /total/);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.match(download.suggestedFilename(), /^styleloom-.*\.png$/);
  const file = path.join(RESULTS, 'web-e2e-download.png');
  await download.saveAs(file);
  const meta = await sharp(file).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(Math.max(meta.width!, meta.height!), 64);
  await page.waitForSelector(`.history-item[data-id="${firstJob}"] .badge[data-status="done"]`);
  await page.screenshot({ path: path.join(RESULTS, 'web-e2e.png') });
});

test('one-click samples, a realistic job photographed mid-run, then cancelled', async () => {
  await page.click('#thumbs-content .thumb[data-name="chelsea.png"]');
  await page.click('#thumbs-style .thumb[data-name="starry_night.jpg"]');
  await page.waitForSelector('#thumbs-content .thumb[data-name="chelsea.png"][aria-pressed="true"]');
  await page.waitForSelector('#thumbs-style .thumb[data-name="starry_night.jpg"][aria-pressed="true"]');
  await setSlider('size', UPDATE_SHOT ? 384 : 224);
  await setSlider('iters', UPDATE_SHOT ? 160 : 200);
  await setSlider('style-weight', 4);
  await page.click('#start');
  await page.waitForFunction(
    (n) => {
      const m = /^Iteration (\d+)/.exec(document.getElementById('progress-text')?.textContent ?? '');
      const img = document.getElementById('stage-img') as HTMLImageElement;
      return m && Number(m[1]) >= n && img.dataset.kind === 'preview' && !img.hidden && img.complete && document.getElementById('eta')!.textContent !== '';
    },
    SHOT_ITER,
    { timeout: UPDATE_SHOT ? 300_000 : 60_000, polling: 100 },
  );
  assert.equal(await page.textContent('#status-chip'), 'running');
  assert.match((await page.textContent('#eta')) ?? '', /^ETA /);
  const shot = await page.screenshot({ type: 'png' });
  fs.writeFileSync(path.join(RESULTS, 'web-ui-midrun.png'), shot);
  if (UPDATE_SHOT) {
    // palette PNG: a few hundred KB instead of ~1 MB, no visible difference at this size
    fs.mkdirSync(path.dirname(DOCS_SHOT), { recursive: true });
    await sharp(shot).png({ palette: true, quality: 92, effort: 10, compressionLevel: 9 }).toFile(DOCS_SHOT);
    assert.ok(fs.statSync(DOCS_SHOT).size < 400_000, `docs/web-ui.png is ${fs.statSync(DOCS_SHOT).size} bytes`);
  }

  await page.click('#cancel');
  await page.waitForSelector('#status-chip[data-status="cancelled"]', { timeout: 10_000 });
  assert.match((await page.textContent('#progress-text')) ?? '', /^Cancelled/);
  assert.equal(await page.getAttribute('#download', 'aria-disabled'), 'true');
});

test('a past job reopens from the history', async () => {
  await page.click(`.history-item[data-id="${firstJob}"]`);
  await page.waitForSelector('#status-chip[data-status="done"]');
  await page.waitForSelector('#stage-img[data-kind="result"]:not([hidden])');
  assert.equal(await page.getAttribute(`.history-item[data-id="${firstJob}"]`, 'aria-current'), 'true');
  assert.ok((await page.locator('#chart-svg path.line').count()) === 1, 'the loss history is drawn again');
  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
