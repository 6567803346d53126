// The bundle on onnxruntime-web's WebGPU backend, in headless chromium with a SwiftShader adapter (WebGPU on
// the CPU: the real API, shaders and kernels, not their speed): Gatys losses and fast-mode pixels as node's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { fastStylize } from '../src/fast/stylize-fast.js';
import { readImage, resizeLongSide } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { stylize } from '../src/transfer/stylize.js';
import { CHELSEA, STARRY } from './helpers/cli.js';
import { ASSETS, VGG_PARTIAL, relErr } from './helpers/fixtures.js';
import { BLANK_HTML, BROWSER_DIST, ensureBundle, launchChromium, openPage } from './helpers/browser.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';

const SIZE = 32; // SwiftShader runs a 64 px iteration in about 4 s
const ITERS = 3;
const WAVE = path.join(ASSETS, 'fast-style', 'wave');

let srv: StaticServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let content: RgbImage;
let style: RgbImage;

before(async () => {
  ensureBundle();
  content = await resizeLongSide(await readImage(CHELSEA), SIZE);
  style = await resizeLongSide(await readImage(STARRY), SIZE);
  srv = await startStaticServer({
    '/blank.html': { bytes: BLANK_HTML, type: 'text/html' },
    '/favicon.ico': { bytes: new Uint8Array(0), type: 'image/x-icon' },
    '/browser': BROWSER_DIST,
    '/weights/vgg.safetensors': VGG_PARTIAL,
    '/models/wave': WAVE,
  });
  browser = await launchChromium({ webgpu: true });
  page = await openPage(browser, srv.url, errors);
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

const plain = (img: RgbImage) => ({ data: Array.from(img.data), width: img.width, height: img.height });

interface Run {
  ok: boolean;
  message?: string;
  backend?: string;
  lossHistory?: number[];
  total?: number;
  image?: number[];
}

/** `stylize` or `fastStylize` of the bundle in the page, on raw pixels. */
function inPage(fn: 'stylize' | 'fastStylize', options: Record<string, unknown>, styles: RgbImage[] = []): Promise<Run> {
  return page.evaluate(
    async ([fn, options, c, s]) => {
      const url = '/browser/styleloom.js';
      const sl = await import(url);
      const px = (p: { data: number[]; width: number; height: number }) => ({ data: new Uint8Array(p.data), width: p.width, height: p.height });
      try {
        const r = await sl[fn]({ ...(options as object), content: px(c), ...(s.length ? { styles: s.map(px) } : {}) });
        return { ok: true, backend: r.backend, lossHistory: r.lossHistory, total: r.loss?.total, image: Array.from(r.image.data as Uint8Array) };
      } catch (e) {
        return { ok: false, message: (e as Error).message };
      }
    },
    [fn, options, plain(content), styles.map(plain)] as const,
  );
}

test('the test browser has a WebGPU adapter (SwiftShader)', async () => {
  const info = await page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { architecture?: string } } | null> } }).gpu;
    const a = gpu ? await gpu.requestAdapter() : null;
    return a ? (a.info?.architecture ?? 'unknown') : null;
  });
  assert.ok(info, 'chromium gave no WebGPU adapter with --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader');
});

test('Gatys on WebGPU: the loss history equals node\'s on the same pixels (max pooling, Adam)', async () => {
  const common = { size: SIZE, iters: ITERS, optimizer: 'adam' as const };
  const node = await stylize({ ...common, content, styles: [style], weights: VGG_PARTIAL, threads: 1 });
  const web = await inPage('stylize', { ...common, weights: '/weights/vgg.safetensors', backend: 'auto' }, [style]);
  assert.ok(web.ok, web.message);
  assert.equal(web.backend, 'webgpu', "'auto' picks WebGPU where there is an adapter");
  assert.equal(web.lossHistory!.length, node.lossHistory.length);
  web.lossHistory!.forEach((l, k) => assert.ok(relErr(l, node.lossHistory[k]) < 1e-4, `iteration ${k}: ${l} vs node ${node.lossHistory[k]}`));
  assert.ok(web.lossHistory![ITERS - 1] < web.lossHistory![0], 'the loss falls');
  assert.deepEqual(errors, []);
});

test('fast mode on WebGPU equals node\'s output within two grey levels', async () => {
  const node = await fastStylize(content, WAVE, { threads: 1 });
  const web = await inPage('fastStylize', { model: '/models/wave/', backend: 'webgpu' });
  assert.ok(web.ok, web.message);
  assert.equal(web.backend, 'webgpu');
  let worst = 0;
  let sum = 0;
  node.data.forEach((v: number, k: number) => {
    const d = Math.abs(v - web.image![k]);
    worst = Math.max(worst, d);
    sum += d;
  });
  assert.equal(web.image!.length, node.data.length);
  assert.ok(worst <= 2, `largest difference ${worst} grey levels (mean ${(sum / web.image!.length).toFixed(3)})`);
});
