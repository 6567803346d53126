// What `styleloom serve` gives the page's on-this-device mode: cross-origin isolation (COOP/COEP on every
// response, so WebAssembly threads), as the Vite configs, and its weights by byte ranges (GET /api/weights).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { ISOLATION_HEADERS } from '../src/server/isolation.js';
import { parseRange } from '../src/server/routes/weights.js';
import { tempDir } from './helpers/cli.js';
import { ROOT, VGG_PARTIAL } from './helpers/fixtures.js';

let srv: StyleloomServer;

before(async () => {
  srv = await createServer({ dataDir: tempDir('styleloom-iso-'), weights: VGG_PARTIAL, threads: 1, webDir: path.join(ROOT, 'web', 'dist') });
});

after(async () => {
  await srv?.close();
});

test('the page and the API are served with COOP same-origin and COEP require-corp', async () => {
  for (const url of ['/', '/api/health']) {
    const r = await srv.app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, url);
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin', url);
    assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp', url);
    assert.equal(r.headers['cross-origin-resource-policy'], 'same-origin', url);
  }
  assert.deepEqual(Object.keys(ISOLATION_HEADERS).sort(), ['cross-origin-embedder-policy', 'cross-origin-opener-policy']);
});

test('the Vite configs (page dev server, browser bundle) send the same headers', () => {
  for (const f of ['web/vite.config.ts', 'vite.browser.config.ts']) {
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
    assert.match(text, /'Cross-Origin-Opener-Policy': 'same-origin'/, f);
    assert.match(text, /'Cross-Origin-Embedder-Policy': 'require-corp'/, f);
  }
});

test('GET /api/weights: the whole file, or the byte range asked for', async () => {
  const file = fs.readFileSync(VGG_PARTIAL);
  const whole = await srv.app.inject({ method: 'GET', url: '/api/weights' });
  assert.equal(whole.statusCode, 200);
  assert.equal(whole.headers['accept-ranges'], 'bytes');
  assert.equal(whole.rawPayload.length, file.length);
  const part = await srv.app.inject({ method: 'GET', url: '/api/weights', headers: { range: 'bytes=8-1031' } });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 8-1031/${file.length}`);
  assert.deepEqual(part.rawPayload, file.subarray(8, 1032));
  const past = await srv.app.inject({ method: 'GET', url: '/api/weights', headers: { range: `bytes=${file.length}-` } });
  assert.equal(past.statusCode, 416);
  assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=5-', 100), { start: 5, end: 99 });
  assert.equal(parseRange('bytes=0-1,4-5', 100), null, 'several ranges: the whole file');
});

test('GET /api/weights without weights is a JSON 404', async () => {
  const none = await createServer({ dataDir: tempDir('styleloom-iso-none-'), weights: path.join(tempDir('styleloom-no-weights-'), 'missing.safetensors'), threads: 1 });
  try {
    const r = await none.app.inject({ method: 'GET', url: '/api/weights' });
    assert.equal(r.statusCode, 404);
    assert.match(r.json().error, /^the server has no VGG-19 weights/);
  } finally {
    await none.close();
  }
});
