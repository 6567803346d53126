// `styleloom serve` makes its page cross-origin isolated (COOP/COEP on every response), so that the
// page's on-this-device mode gets WebAssembly threads; the Vite configs send the same headers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { ISOLATION_HEADERS } from '../src/server/isolation.js';
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
