// The web page's "on this device" mode end to end in headless chromium, from a static host (the built
// page and a weights file; no API server): upload two images, run a tiny Gatys job in the page with
// progress, live preview, loss chart and a downloadable result, nothing sent to /api/jobs; cancel a run
// mid-way; a weights URL that 404s or serves a corrupt file is a one-line error on the page. Then the page
// of `styleloom serve` on this device, with the server's own weights (api/weights), no job submitted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHELSEA, STARRY } from './helpers/cli.js';
import { ROOT, VGG_PARTIAL } from './helpers/fixtures.js';
import { ensureBundle, launchChromium } from './helpers/browser.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';
import { createServer } from '../src/server/app.js';
import { tempDir } from './helpers/cli.js';

const WEB_DIST = path.join(ROOT, 'web', 'dist');

let srv: StaticServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function setSlider(id: string, value: number): Promise<void> {
  const got = await page.evaluate(
    ([sel, v]) => {
      const e = document.getElementById(sel as string) as HTMLInputElement;
      e.value = String(v);
      e.dispatchEvent(new Event('input', { bubbles: true }));
      return e.value;
    },
    [id, value] as const,
  );
  assert.equal(Number(got), value, `#${id} took ${got}`);
}

/** Records every text #progress-text shows and every kind of picture the stage shows, from now on. */
async function record(): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __progress: string[]; __kinds: string[] };
    w.__progress = [];
    w.__kinds = [];
    const text = document.getElementById('progress-text')!;
    new MutationObserver(() => {
      const t = text.textContent ?? '';
      if (w.__progress[w.__progress.length - 1] !== t) w.__progress.push(t);
    }).observe(text, { childList: true, characterData: true, subtree: true });
    const img = document.getElementById('stage-img')!;
    new MutationObserver(() => w.__kinds.push((img as HTMLImageElement).dataset.kind ?? '')).observe(img, { attributes: true, attributeFilter: ['src'] });
  });
}

const seen = () =>
  page.evaluate(() => {
    const w = window as unknown as { __progress: string[]; __kinds: string[] };
    return { progress: w.__progress, kinds: w.__kinds };
  });

async function setWeights(url: string): Promise<void> {
  await page.fill('#weights-url', url);
}

before(async () => {
  ensureBundle();
  srv = await startStaticServer({
    '/': WEB_DIST,
    '/weights/vgg.safetensors': VGG_PARTIAL,
    '/weights/broken.safetensors': { bytes: new TextEncoder().encode('<html>not weights</html>') },
  });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, reducedMotion: 'reduce' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // the page asks /api/health to learn that there is no server: the static host answers 404
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 404/.test(m.text())) pageErrors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

test('from a static host the page picks "on this device", with the weights URL from the address', async () => {
  await page.goto(`${srv.url}/?dev&weights=/weights/vgg.safetensors`);
  await page.waitForSelector('#server-pill[data-state="down"]');
  await page.waitForSelector('.seg[data-where="device"][aria-checked="true"]');
  assert.equal(await page.isVisible('#weights-url'), true);
  assert.equal(await page.inputValue('#weights-url'), '/weights/vgg.safetensors');
  assert.equal(await page.isDisabled('.seg[data-mode="fast"]'), true, 'fast networks live on the server');
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
});

test('a tiny job runs in the page: progress, live preview, chart, result, download; nothing uploaded', async () => {
  await page.setInputFiles('#file-content', CHELSEA);
  await page.setInputFiles('#file-style', STARRY);
  await page.waitForSelector('#drop-content.has-image');
  await page.waitForSelector('#drop-style.has-image');
  await setSlider('size', 64);
  await setSlider('iters', 12);
  assert.match((await page.textContent('#start-hint')) ?? '', /on this device, nothing uploaded/);
  await record();
  await page.click('#start');
  await page.waitForSelector('#stage-img[data-kind="result"]:not([hidden])', { timeout: 60_000 });
  await page.waitForSelector('#status-chip[data-status="done"]');
  const s = await seen();
  const iterations = s.progress.filter((t) => /^Iteration \d+ \/ 12$/.test(t));
  assert.ok(iterations.length >= 2, `progress moved: ${JSON.stringify(s.progress)}`);
  assert.match(s.progress[s.progress.length - 1], /^Done/);
  assert.ok(s.kinds.includes('preview'), `a live preview was shown before the result: ${JSON.stringify(s.kinds)}`);
  assert.equal(s.kinds[s.kinds.length - 1], 'result');
  assert.equal(await page.locator('#chart-svg path.line').count(), 1, 'the loss chart is drawn');
  assert.match((await page.textContent('#loss-terms')) ?? '', /total/);
  assert.match((await page.getAttribute('#download', 'href')) ?? '', /^blob:/);
  assert.equal(srv.requests.filter((r) => r.path.startsWith('/api/') && r.path !== '/api/health').length, 0, 'no API call but the health probe');
  assert.ok(srv.requests.some((r) => r.path === '/weights/vgg.safetensors' && r.status === 206), 'weights by range requests');
  assert.deepEqual(pageErrors, []);
});

test('Cancel stops a run on this device', async () => {
  await setSlider('iters', 300);
  await page.click('#start');
  await page.waitForFunction(() => /^Iteration ([3-9]|\d\d+)/.test(document.getElementById('progress-text')?.textContent ?? ''), undefined, { timeout: 60_000 });
  await page.click('#cancel');
  await page.waitForSelector('#status-chip[data-status="cancelled"]', { timeout: 20_000 });
  assert.match((await page.textContent('#progress-text')) ?? '', /^Cancelled at iteration \d+/);
  assert.equal(await page.getAttribute('#download', 'aria-disabled'), 'true');
});

test('a weights URL that 404s, or a corrupt file, is a one-line error on the page', async () => {
  await setSlider('iters', 2);
  for (const [url, message] of [
    ['/weights/missing.safetensors', /^Failed: weights http:\/\/127\.0\.0\.1:\d+\/weights\/missing\.safetensors: the server answered 404/],
    ['/weights/broken.safetensors', /^Failed: http:\/\/127\.0\.0\.1:\d+\/weights\/broken\.safetensors: header length \d+ bytes is absurdly large/],
  ] as const) {
    await setWeights(url);
    await page.click('#start');
    await page.waitForSelector('#status-chip[data-status="failed"]', { timeout: 20_000 });
    const text = (await page.textContent('#progress-text')) ?? '';
    assert.match(text, message);
    assert.ok(!text.includes('\n'));
    await page.waitForSelector('.toast.error');
    assert.match((await page.locator('.toast.error').last().textContent()) ?? '', /^On this device: /);
  }
  assert.deepEqual(pageErrors, []);
});

test('the page of styleloom serve runs on this device with the server\'s weights (api/weights)', async () => {
  const api = await createServer({ dataDir: tempDir('styleloom-web-device-'), weights: VGG_PARTIAL, threads: 1, webDir: WEB_DIST });
  try {
    const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${url}/?dev&device`);
    await p.waitForSelector('#server-pill[data-state="ok"]');
    await p.waitForSelector('.seg[data-where="device"][aria-checked="true"]');
    assert.equal(await p.inputValue('#weights-url'), 'api/weights', 'the server offers its weights');
    assert.equal(await p.evaluate(() => crossOriginIsolated), true, 'styleloom serve sends COOP/COEP');
    await p.setInputFiles('#file-content', CHELSEA);
    await p.setInputFiles('#file-style', STARRY);
    await p.waitForSelector('#drop-style.has-image');
    await p.evaluate(() => {
      for (const [id, v] of [['size', 32], ['iters', 3]] as const) {
        const e = document.getElementById(id) as HTMLInputElement;
        e.value = String(v);
        e.dispatchEvent(new Event('input', { bubbles: true }));
      }
    });
    await p.click('#start');
    await p.waitForSelector('#status-chip[data-status="done"]', { timeout: 60_000 });
    const jobs = (await api.app.inject({ url: '/api/jobs' })).json().jobs;
    assert.deepEqual(jobs, [], 'nothing was submitted to the server');
    await p.context().close();
  } finally {
    await api.close();
  }
  assert.deepEqual(pageErrors, []);
});
