// The browser bundle (dist/browser/styleloom.js) in headless chromium, served with COOP/COEP by a local
// static server: its losses equal node's on the same raw pixels, weights and settings; progress, abort,
// range requests and the cache for weights, and one-line StyleloomErrors for bad inputs and sizes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { readImage, resizeLongSide } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { stylize } from '../src/transfer/stylize.js';
import { CHELSEA, STARRY } from './helpers/cli.js';
import { VGG_PARTIAL, relErr } from './helpers/fixtures.js';
import { BLANK_HTML, BROWSER_DIST, ensureBundle, launchChromium, openPage } from './helpers/browser.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';

const SIZE = 64;
const ITERS = 10;

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
    '/weights/corrupt.safetensors': { bytes: new Uint8Array([16, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{"features.0.we')]) },
  });
  browser = await launchChromium();
  page = await openPage(browser, srv.url, errors);
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

interface PageRun {
  ok: boolean;
  code?: string;
  name?: string;
  message?: string;
  iters: number[];
  scales?: string[];
  sizes?: number[];
  previewOk?: boolean;
  lossHistory?: number[];
  loss?: { content: number; style: number; tv: number; total: number };
  backend?: string;
  threads?: number;
  width?: number;
  height?: number;
  image?: number[];
  weightsCached?: boolean;
  weightsBytes?: number;
  isolated?: boolean;
}

const plain = (img: RgbImage) => ({ data: Array.from(img.data), width: img.width, height: img.height });

/** Runs the bundle's stylize() in the page; `abortAt` aborts from onProgress at that iteration. */
/** How the page hands over the inputs: the content as raw RGB, RGBA ImageData or a PNG Blob; the weights as the URL, an ArrayBuffer or a File. */
interface Kinds {
  content?: 'raw' | 'imagedata' | 'blob';
  weights?: 'url' | 'arraybuffer' | 'file';
}

async function runInPage(options: Record<string, unknown>, images: { content?: unknown; styles?: unknown[] } = {}, abortAt = 0, kinds: Kinds = {}, on: Page = page): Promise<PageRun> {
  return on.evaluate(
    async ([options, c, s, abortAt, kinds]) => {
      const url = '/browser/styleloom.js';
      const sl = await import(url);
      const px = (p: { data: number[]; width: number; height: number }) => ({ data: new Uint8Array(p.data), width: p.width, height: p.height });
      const rgba = (p: { data: number[]; width: number; height: number }) => {
        const out = new Uint8ClampedArray(p.width * p.height * 4);
        for (let i = 0; i < p.width * p.height; i++) out.set([p.data[3 * i], p.data[3 * i + 1], p.data[3 * i + 2], 255], 4 * i);
        return new ImageData(out, p.width, p.height);
      };
      const asContent = async (p: { data: number[]; width: number; height: number }) => {
        if (kinds.content === 'imagedata') return rgba(p);
        if (kinds.content === 'blob') {
          const cv = new OffscreenCanvas(p.width, p.height);
          cv.getContext('2d')!.putImageData(rgba(p), 0, 0);
          return cv.convertToBlob({ type: 'image/png' });
        }
        return px(p);
      };
      const o = { ...(options as Record<string, unknown>) };
      if (kinds.weights && kinds.weights !== 'url') {
        const bytes = await (await fetch(o.weights as string)).arrayBuffer();
        o.weights = kinds.weights === 'file' ? new File([bytes], 'vgg.safetensors') : bytes;
      }
      const ac = new AbortController();
      const iters: number[] = [];
      const scales: string[] = [];
      let previewOk = true;
      try {
        const r = await sl.stylize(
          { ...o, content: c && (await asContent(c as never)), styles: (s as never[]).map(px) },
          {
            signal: ac.signal,
            onProgress: (e: { iter: number; scale: number; width: number; height: number; current(): { width: number; height: number; data: Uint8Array } }) => {
              iters.push(e.iter);
              scales.push(`${e.scale}:${e.width}x${e.height}`);
              const im = e.current();
              previewOk &&= im.data.length === im.width * im.height * 3;
              if (e.iter === abortAt) ac.abort();
            },
          },
        );
        return {
          ok: true, iters, scales, sizes: r.sizes, previewOk, lossHistory: r.lossHistory, loss: r.loss, backend: r.backend, threads: r.threads, width: r.width, height: r.height,
          image: Array.from(r.image.data as Uint8Array), weightsCached: r.weightsCached, weightsBytes: r.weightsBytes, isolated: globalThis.crossOriginIsolated,
        };
      } catch (e) {
        const err = e as { code?: string; name?: string; message?: string };
        return { ok: false, code: err.code, name: err.name, message: err.message, iters };
      }
    },
    [options, images.content === undefined ? plain(content) : images.content, images.styles ?? [plain(style)], abortAt, kinds] as const,
  ) as Promise<PageRun>;
}

const base = { weights: '/weights/vgg.safetensors', size: SIZE, iters: ITERS, optimizer: 'adam' };

test('the browser total loss equals node\'s on the same pixels (Adam, 10 iterations, 64 px, WebAssembly)', async (t) => {
  const node = await stylize({ content, styles: [style], weights: VGG_PARTIAL, size: SIZE, iters: ITERS, optimizer: 'adam', threads: 2 });
  const web = await runInPage({ ...base, backend: 'auto' });
  assert.ok(web.ok, `browser run failed: ${web.code} ${web.message}`);
  assert.equal(web.backend, 'wasm', "'auto' picks WebAssembly where there is no WebGPU");
  assert.equal(web.isolated, true, 'the page is cross-origin isolated (COOP/COEP)');
  assert.ok(web.threads! >= 1);
  assert.deepEqual([web.width, web.height], [content.width, content.height], 'raw pixels at the working size are not resized');
  assert.equal(web.lossHistory!.length, ITERS);
  const worst = Math.max(...web.lossHistory!.map((v, k) => relErr(v, node.lossHistory[k])));
  t.diagnostic(`largest relative difference of the loss history: ${worst.toExponential(2)}; final total browser ${web.loss!.total} node ${node.loss.total}; ${web.threads} thread(s)`);
  for (let k = 0; k < ITERS; k++) {
    assert.ok(relErr(web.lossHistory![k], node.lossHistory[k]) < 1e-4, `iteration ${k + 1}: browser ${web.lossHistory![k]} vs node ${node.lossHistory[k]}`);
  }
  for (const t of ['content', 'style', 'tv', 'total'] as const) {
    assert.ok(relErr(web.loss![t], node.loss[t]) < 1e-3, `final ${t} loss: browser ${web.loss![t]} vs node ${node.loss[t]} (within 0.1%)`);
  }
  let maxDiff = 0;
  for (let k = 0; k < node.image.data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(node.image.data[k] - web.image![k]));
  assert.ok(maxDiff <= 2, `output pixels within 2 grey levels of node's (max difference ${maxDiff})`);
  assert.deepEqual(web.iters, Array.from({ length: ITERS }, (_, k) => k + 1), 'onProgress is called once per iteration');
  assert.equal(web.previewOk, true, 'each progress event gives the current image');
  assert.deepEqual(errors, []);
});

test('coarse to fine: scales and scaleIters as in node (each scale starts from the previous result, resized)', async () => {
  const r = await runInPage({ ...base, scales: 2, scaleIters: [3, 2] });
  assert.ok(r.ok, r.message);
  assert.deepEqual(r.sizes, [45, 64], 'the sizes of node\'s scaleSizes()');
  assert.deepEqual(r.scales, ['0:45x30', '0:45x30', '0:45x30', '1:64x43', '1:64x43']);
  assert.deepEqual(r.iters, [1, 2, 3, 4, 5]);
  assert.equal(r.lossHistory!.length, 5);
  assert.deepEqual([r.width, r.height], [64, 43]);
});

test('weights: only the needed tensors, by range requests, then from Cache Storage', async () => {
  const fileSize = fs.statSync(VGG_PARTIAL).size;
  const weightRequests = () => srv.requests.filter((r) => r.path === '/weights/vgg.safetensors');
  const before = weightRequests().length;
  // conv1_1 .. conv2_1: 450 kB of a 10 MB file, past the first 64 kB asked for with the header
  const layers = { contentLayers: ['conv2_1'], styleLayers: ['conv1_1'] };
  const r = await runInPage({ ...base, iters: 1, ...layers });
  assert.ok(r.ok, r.message);
  const seen = weightRequests().slice(before);
  assert.ok(seen.length >= 2 && seen.every((q) => q.range && q.status === 206), `range requests only: ${JSON.stringify(seen)}`);
  assert.ok(r.weightsBytes! > 400_000 && r.weightsBytes! < fileSize / 10, `read ${r.weightsBytes} of ${fileSize} bytes`);
  assert.equal(r.weightsCached, false);
  const again = await runInPage({ ...base, iters: 1, ...layers });
  assert.ok(again.ok, again.message);
  assert.equal(again.weightsCached, true, 'the second run reads the tensors from Cache Storage');
  assert.equal(weightRequests().length - before, seen.length + 1, 'the second run fetches only the header');
});

test('an abort mid-run rejects with E_ABORTED after the current iteration', async () => {
  const r = await runInPage({ ...base, iters: 50 }, {}, 3);
  assert.equal(r.ok, false);
  assert.equal(r.code, 'E_ABORTED');
  assert.equal(r.name, 'StyleloomError');
  assert.deepEqual(r.iters, [1, 2, 3]);
});

test('bad inputs give one-line StyleloomErrors before any work', async () => {
  const cases: [string, Record<string, unknown>, { content?: unknown; styles?: unknown[] }, string, RegExp][] = [
    ['wrong pixel count', base, { content: { data: Array(100).fill(0), width: 64, height: 43 } }, 'E_INPUT', /100 bytes do not fit 64x43 pixels \(RGB needs 8256, RGBA 11008\)/],
    ['weights URL that 404s', { ...base, weights: '/weights/missing.safetensors' }, {}, 'E_DOWNLOAD', /missing\.safetensors: the server answered 404/],
    ['corrupt weights', { ...base, weights: '/weights/corrupt.safetensors' }, {}, 'E_WEIGHTS', /corrupt\.safetensors: header length 16 bytes is larger than the rest of the file/],
    ['no weights', { ...base, weights: undefined }, {}, 'E_USAGE', /weights are required/],
    ['an option out of range (the option table\'s message)', { ...base, iters: 0 }, {}, 'E_USAGE', /^iters must be a whole number from 1 to 1000000, got 0$/],
    ['an unknown choice', { ...base, optimizer: 'sgd' }, {}, 'E_USAGE', /^optimizer must be one of lbfgs, adam, got "sgd"$/],
    ['a node-only option', { ...base, tile: 256 }, {}, 'E_USAGE', /^tile is not available in the browser/],
    ['WebGPU without navigator.gpu', { ...base, backend: 'webgpu' }, {}, 'E_DEVICE', /^WebGPU is not available \((this browser has no navigator\.gpu|navigator\.gpu gave no adapter)\); use backend 'wasm'/],
    ['a layer the file lacks', { ...base, styleLayers: ['conv5_1'] }, {}, 'E_WEIGHTS', /layer conv5_1 is not in weights file .*vgg\.safetensors/],
  ];
  for (const [what, options, images, code, message] of cases) {
    const r = await runInPage(options, images);
    assert.equal(r.ok, false, what);
    assert.equal(r.code, code, `${what}: ${r.message}`);
    assert.match(r.message!, message, what);
    assert.ok(!r.message!.includes('\n'), `${what}: one line`);
    assert.deepEqual(r.iters, [], `${what}: no iteration ran`);
  }
});

test('an image too large for WebAssembly is refused before starting, with the size that fits', async () => {
  const r = await runInPage({ ...base, size: 8192 });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'E_INPUT', r.message);
  assert.match(r.message!, /^8192x5504 needs about \d+ MB but WebAssembly can use about 3072 MB \(a 4 GB heap\); use a smaller size \(about \d+x\d+ pixels fit/);
  assert.deepEqual(r.iters, []);
});

test('inputs: ImageData and PNG Blob content, ArrayBuffer and File weights run the same as raw pixels and a URL', async () => {
  const opts = { ...base, iters: 2 };
  const ref = await runInPage(opts);
  assert.ok(ref.ok, ref.message);
  for (const kinds of [{ content: 'imagedata' }, { content: 'blob' }, { weights: 'arraybuffer' }, { weights: 'file' }] as Kinds[]) {
    const r = await runInPage(opts, {}, 0, kinds);
    assert.ok(r.ok, `${JSON.stringify(kinds)}: ${r.message}`);
    assert.deepEqual([r.width, r.height], [ref.width, ref.height]);
    for (let k = 0; k < 2; k++) assert.ok(relErr(r.lossHistory![k], ref.lossHistory![k]) < 1e-6, `${JSON.stringify(kinds)} iteration ${k + 1}`);
  }
});

test('without cross-origin isolation: one WebAssembly thread; from a server without ranges: the whole file, once', async () => {
  const plainSrv = await startStaticServer(
    { '/blank.html': { bytes: BLANK_HTML, type: 'text/html' }, '/favicon.ico': { bytes: new Uint8Array(0) }, '/browser': BROWSER_DIST, '/weights/vgg.safetensors': VGG_PARTIAL },
    { isolate: false, noRanges: true },
  );
  try {
    const other = await openPage(browser, plainSrv.url, errors);
    const r = await runInPage({ ...base, iters: 2 }, {}, 0, {}, other);
    assert.ok(r.ok, r.message);
    assert.equal(r.isolated, false);
    assert.equal(r.threads, 1, 'no SharedArrayBuffer: one thread');
    const w = plainSrv.requests.filter((q) => q.path === '/weights/vgg.safetensors');
    assert.deepEqual(w.map((q) => q.status), [200], 'one request, answered whole');
    await other.context().close();
  } finally {
    await plainSrv.close();
  }
});
