// Masks over the HTTP API (issue 17): "mask", "style_mask", "style_region" multipart uploads, checked
// by the library's rules at POST /api/jobs (a bad mask is a 400 naming the field), stored with the job
// and used by the run: a masked Gatys job and a masked fast job keep the content where the mask is black.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { readImage, resizeLongSide } from '../src/image/io.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { postJob, tinyPng, waitFor, type Part } from './helpers/server.js';

let srv: StyleloomServer;
let content: Buffer;
let style: Buffer;
const W = 48;
const H = 32;

/** A grey PNG of W x H: white where f(x) holds. */
const maskPng = (f: (x: number) => boolean, w = W, h = H) => {
  const data = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x) ? 255 : 0;
  return sharp(data, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
};

before(async () => {
  [content, style] = await Promise.all([tinyPng(W, H, 1), tinyPng(40, 40, 2)]);
  srv = await createServer({ dataDir: tempDir('styleloom-mask-srv-'), weights: VGG_PARTIAL, fastModelsDir: path.join(ASSETS, 'fast-style'), threads: 1 });
});
after(async () => srv?.close());

const file = (name: string, data: Buffer): Part => ({ name, file: data, filename: `${name}.png`, type: 'image/png' });
const base = (): Part[] => [file('content', content), file('style', style), { name: 'size', value: '32' }, { name: 'iters', value: '3' }, { name: 'optimizer', value: 'adam' }];

/** Max |result - content| over the columns right of `from` (of 32), the content resized as the run does. */
async function rightDiff(id: string, from: number): Promise<number> {
  const r = await srv.app.inject({ url: `/api/jobs/${id}/result` });
  assert.equal(r.statusCode, 200);
  const out = await readImage(r.rawPayload);
  const ref = await resizeLongSide(await readImage(content), 32);
  let max = 0;
  for (let y = 0; y < out.height; y++) for (let x = from; x < out.width; x++) for (let c = 0; c < 3; c++) max = Math.max(max, Math.abs(out.data[3 * (y * out.width + x) + c] - ref.data[3 * (y * ref.width + x) + c]));
  return max;
}

test('a Gatys job with a "mask" upload runs, and keeps the content where the mask is black', async () => {
  const r = await postJob(srv.app, [...base(), file('mask', await maskPng((x) => x < W / 2))]);
  assert.equal(r.statusCode, 201, r.body);
  const job = await waitFor(srv.app, r.json().id);
  assert.equal(job.status, 'done', job.error);
  assert.ok((await rightDiff(job.id, 20)) <= 1, 'the right part is the content');
});

test('a fast job with a "mask" upload composites the network output', async () => {
  const r = await postJob(srv.app, [file('content', content), { name: 'mode', value: 'fast' }, { name: 'model', value: 'wave' }, { name: 'size', value: '32' }, file('mask', await maskPng((x) => x < W / 2))]);
  assert.equal(r.statusCode, 201, r.body);
  const job = await waitFor(srv.app, r.json().id);
  assert.equal(job.status, 'done', job.error);
  assert.ok((await rightDiff(job.id, 20)) <= 1, 'the right part is the content');
});

test('bad masks are a 400 naming the field, before the job is queued', async () => {
  const cases: [Part[], RegExp][] = [
    [[...base(), file('mask', await maskPng(() => false))], /^the mask image mask\.png is entirely black: nothing to stylise/],
    [[...base(), file('mask', await maskPng((x) => x < 10, 32, 32))], /^the mask image mask\.png is 32x32 .*crop or pad it to the content's shape/],
    [[...base(), file('style_mask', await maskPng((x) => x < W / 2)), file('style_mask', await maskPng((x) => x >= W / 2))], /^style_mask has 2 file\(s\) for 1 style; give one mask per style/],
    [[...base(), file('mask', await maskPng(() => true)), file('mask', await maskPng(() => true))], /more than one "mask" file/],
    [[file('content', content), { name: 'mode', value: 'fast' }, { name: 'model', value: 'wave' }, file('style_mask', await maskPng(() => true))], /mode=fast takes only a "mask" file/],
  ];
  for (const [parts, re] of cases) {
    const r = await postJob(srv.app, parts);
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().error, re);
  }
});
