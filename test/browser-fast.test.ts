// The browser bundle's fastStylize() in headless chromium: a fast-style model folder served by URL gives
// node's output within one grey level on the same pixels; a missing model is a one-line error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { fastStylize } from '../src/fast/stylize-fast.js';
import { readImage, resizeLongSide } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { CHELSEA } from './helpers/cli.js';
import { ASSETS } from './helpers/fixtures.js';
import { BLANK_HTML, BROWSER_DIST, ensureBundle, launchChromium, openPage } from './helpers/browser.js';
import { startStaticServer, type StaticServer } from './helpers/static-server.js';

const WAVE = path.join(ASSETS, 'fast-style', 'wave');

let srv: StaticServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];
let content: RgbImage;

before(async () => {
  ensureBundle();
  content = await resizeLongSide(await readImage(CHELSEA), 64);
  srv = await startStaticServer({
    '/blank.html': { bytes: BLANK_HTML, type: 'text/html' },
    '/favicon.ico': { bytes: new Uint8Array(0), type: 'image/x-icon' },
    '/browser': BROWSER_DIST,
    '/models/wave': WAVE,
  });
  browser = await launchChromium();
  page = await openPage(browser, srv.url, errors);
});

after(async () => {
  await browser?.close();
  await srv?.close();
});

async function fastInPage(options: Record<string, unknown>): Promise<{ ok: boolean; code?: string; message?: string; image?: number[]; width?: number; height?: number; backend?: string }> {
  return page.evaluate(
    async ([options, c]) => {
      const url = '/browser/styleloom.js';
      const sl = await import(url);
      try {
        const r = await sl.fastStylize({ ...(options as object), content: { data: new Uint8Array(c.data), width: c.width, height: c.height } });
        return { ok: true, image: Array.from(r.image.data as Uint8Array), width: r.image.width, height: r.image.height, backend: r.backend };
      } catch (e) {
        const err = e as { code?: string; message?: string };
        return { ok: false, code: err.code, message: err.message };
      }
    },
    [options, { data: Array.from(content.data), width: content.width, height: content.height }] as const,
  );
}

test('fast mode in the browser equals node\'s output within one grey level', async (t) => {
  const node = await fastStylize(content, WAVE, { threads: 2 });
  const web = await fastInPage({ model: '/models/wave/', backend: 'wasm' });
  assert.ok(web.ok, `${web.code} ${web.message}`);
  assert.deepEqual([web.width, web.height], [node.width, node.height]);
  let max = 0;
  for (let k = 0; k < node.data.length; k++) max = Math.max(max, Math.abs(node.data[k] - web.image![k]));
  t.diagnostic(`largest difference from node's output: ${max} grey levels`);
  assert.ok(max <= 1, `max difference ${max}`);
  assert.deepEqual(errors.filter((e) => !/404/.test(e)), []);
});

test('a model URL without a manifest is a one-line E_DOWNLOAD error', async () => {
  const r = await fastInPage({ model: '/models/none/' });
  assert.equal(r.ok, false);
  assert.equal(r.code, 'E_DOWNLOAD');
  assert.match(r.message!, /^fast model manifest http:\/\/127\.0\.0\.1:\d+\/models\/none\/manifest\.json: the server answered 404/);
});
