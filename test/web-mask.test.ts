// The web page's region mask in a real browser (chromium via playwright-core): a photo is chosen, a
// mask is painted over it with the brush (size, soft edge), partly erased, inverted and back, previewed
// as a tint (screenshot in test-results/web-mask.png; UPDATE_SCREENSHOT=1 also writes docs/web-region-card.png
// for the README), and sent with a tiny job as its "mask" upload:
// the stored mask is white where painted, black elsewhere, of the photo's shape.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import type { StyleloomServer } from '../src/server/app.js';
import { closePage, servePage } from './helpers/page-server.js';
import { CHELSEA, STARRY, tempDir } from './helpers/cli.js';
import { ROOT, VGG_PARTIAL } from './helpers/fixtures.js';

const RESULTS = path.join(ROOT, 'test-results');
let srv: StyleloomServer;
let base: string;
let browser: Browser;
let page: Page;
const dataDir = tempDir('styleloom-web-mask-');
const pageErrors: string[] = [];

before(async () => {
  fs.mkdirSync(RESULTS, { recursive: true });
  ({ srv, base, browser, page } = await servePage({ dataDir, weights: VGG_PARTIAL, threads: 1, webDir: path.join(ROOT, 'web', 'dist') }, pageErrors, { viewport: { width: 1280, height: 900 } }));
});

after(() => closePage({ browser, srv }));

/** The tint alpha the preview shows at (u, v) in [0, 1]: magenta over the photo where the mask is. */
const tintAt = (u: number, v: number) =>
  page.evaluate(([x, y]) => {
    const c = document.getElementById('mask-canvas') as HTMLCanvasElement;
    const [r, g, b] = c.getContext('2d')!.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data;
    return { r, g, b };
  }, [u, v] as const);

test('paint a mask over the photo, erase, invert, preview it, and send it with the job', async () => {
  await page.goto(base + '/?dev');
  await page.setInputFiles('#file-content', CHELSEA);
  await page.setInputFiles('#file-style', STARRY);
  await page.waitForSelector('#mask-card[data-ready="true"]', { timeout: 10_000 });
  await page.evaluate(() => {
    const s = document.getElementById('brush-size') as HTMLInputElement;
    s.value = '120';
    s.dispatchEvent(new Event('input'));
  });
  assert.equal(await page.textContent('#brush-size-out'), '120 px');
  const box = (await page.locator('#mask-canvas').boundingBox())!;
  const to = (u: number, v: number) => [box.x + u * box.width, box.y + v * box.height] as const;
  // a stroke down the left quarter, then the eraser on its top end
  await page.mouse.move(...to(0.12, 0.1));
  await page.mouse.down();
  for (let v = 0.1; v <= 0.9; v += 0.05) await page.mouse.move(...to(0.12, v));
  await page.mouse.up();
  await page.check('#brush-eraser');
  await page.mouse.click(...to(0.12, 0.08));
  await page.uncheck('#brush-eraser');
  assert.equal(await page.isChecked('#mask-on'), true, 'painting turns the region on');
  const painted = await tintAt(0.12, 0.6);
  const clear = await tintAt(0.8, 0.5);
  assert.ok(painted.r - painted.g > 60, `the painted part is tinted: ${JSON.stringify(painted)}`);
  // invert twice is the same mask again
  await page.click('#mask-invert');
  const inv = await tintAt(0.8, 0.5);
  assert.ok(inv.r - inv.g > 60, `inverted, the unpainted part is tinted: ${JSON.stringify(inv)}`);
  await page.click('#mask-invert');
  assert.deepEqual(await tintAt(0.8, 0.5), clear);
  await page.locator('#mask-card').screenshot({ path: path.join(RESULTS, 'web-mask.png') });
  if (process.env.UPDATE_SCREENSHOT === '1') fs.copyFileSync(path.join(RESULTS, 'web-mask.png'), path.join(ROOT, 'docs', 'web-region-card.png'));
  await page.screenshot({ path: path.join(RESULTS, 'web-mask-page.png') });

  await page.evaluate(() => {
    for (const [id, v] of [['size', '64'], ['iters', '10']]) {
      const s = document.getElementById(id) as HTMLInputElement;
      s.value = v;
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }
  });
  await page.click('#start');
  await page.waitForSelector('#stage-img[data-kind="result"]:not([hidden])', { timeout: 30_000 });
  const id = (await page.evaluate(() => location.hash)).replace('#job=', '');
  const job = await (await fetch(`${base}/api/jobs/${id}`)).json();
  assert.equal(job.params.mask_mode, 'guided', 'the default mask mode is sent');
  const stored = path.join(dataDir, id, 'mask.png');
  assert.ok(fs.existsSync(stored), `the job stored its mask (${fs.readdirSync(path.join(dataDir, id)).join(', ')})`);
  const { data, info } = await sharp(stored).greyscale().raw().toBuffer({ resolveWithObject: true });
  assert.ok(Math.abs(info.width / info.height - 451 / 300) < 0.01, `mask ${info.width}x${info.height} has the photo's shape`);
  const at = (u: number, v: number) => data[Math.floor(v * info.height) * info.width + Math.floor(u * info.width)];
  assert.ok(at(0.12, 0.6) > 240, `painted: ${at(0.12, 0.6)}`);
  assert.ok(at(0.8, 0.5) < 15, `not painted: ${at(0.8, 0.5)}`);
  assert.ok(at(0.12, 0.02) < 128, `erased: ${at(0.12, 0.02)}`);
  assert.deepEqual(pageErrors, []);
});
