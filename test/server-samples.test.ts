// GET /api/samples and /api/samples/:name: the list of an allow-list folder's images, each served as
// stored or as a thumbnail; nothing outside the folder (traversal, links, other files) is served.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { openApiDocument } from '../src/server/openapi.js';
import { tempDir } from './helpers/cli.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { tinyPng } from './helpers/server.js';

let srv: StyleloomServer;
let empty: StyleloomServer;
let base: string;
let dir: string;
let png: Buffer;
let jpg: Buffer;
const SECRET = 'secret: not an image to serve';

before(async () => {
  const top = tempDir('styleloom-samples-');
  dir = path.join(top, 'images');
  fs.mkdirSync(dir);
  png = await tinyPng(60, 40, 3);
  jpg = await sharp(await tinyPng(30, 50, 4)).jpeg().toBuffer();
  fs.writeFileSync(path.join(dir, 'cat.png'), png);
  fs.writeFileSync(path.join(dir, 'wave.jpg'), jpg);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'not an image');
  fs.writeFileSync(path.join(dir, '.hidden.png'), png);
  fs.mkdirSync(path.join(dir, 'sub.png'));
  fs.writeFileSync(path.join(top, 'secret.png'), SECRET);
  fs.symlinkSync(path.join(top, 'secret.png'), path.join(dir, 'link.png'));
  const common = { weights: VGG_PARTIAL, threads: 1, webDir: path.join(top, 'no-web'), paused: true };
  srv = await createServer({ ...common, dataDir: path.join(top, 'data'), samplesDir: dir });
  empty = await createServer({ ...common, dataDir: path.join(top, 'data2'), samplesDir: path.join(top, 'missing') });
  base = await srv.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await srv?.close();
  await empty?.close();
});

describe('GET /api/samples', () => {
  test('lists only the regular image files of the folder, by name, with sizes and URLs', async () => {
    const r = await srv.app.inject({ url: '/api/samples' });
    assert.equal(r.statusCode, 200);
    const { samples } = r.json();
    assert.deepEqual(
      samples.map((s: { name: string }) => s.name),
      ['cat.png', 'wave.jpg'],
    );
    const cat = samples[0];
    assert.equal(cat.url, '/api/samples/cat.png');
    assert.equal(cat.thumbUrl, '/api/samples/cat.png?thumb=1');
    assert.equal(cat.bytes, png.length);
    assert.equal(cat.width, 60);
    assert.equal(cat.height, 40);
    assert.equal(samples[1].width, 30);
  });

  test('a missing folder gives an empty list, and every sample is then 404', async () => {
    assert.deepEqual((await empty.app.inject({ url: '/api/samples' })).json(), { samples: [] });
    assert.equal((await empty.app.inject({ url: '/api/samples/cat.png' })).statusCode, 404);
  });

  test('the default folder is ../shared/assets/images beside the repository', async () => {
    const { defaultSamplesDir } = await import('../src/server/samples.js');
    assert.match(defaultSamplesDir(), /[/\\]shared[/\\]assets[/\\]images$/);
  });
});

describe('GET /api/samples/:name', () => {
  test('serves a listed image byte for byte with its type', async () => {
    const r = await srv.app.inject({ url: '/api/samples/cat.png' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'image/png');
    assert.ok(r.rawPayload.equals(png));
    const j = await srv.app.inject({ url: '/api/samples/wave.jpg' });
    assert.equal(j.headers['content-type'], 'image/jpeg');
    assert.ok(j.rawPayload.equals(jpg));
  });

  test('thumb=1 gives a small square JPEG', async () => {
    const r = await srv.app.inject({ url: '/api/samples/cat.png?thumb=1' });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'image/jpeg');
    const m = await sharp(r.rawPayload).metadata();
    assert.equal(m.format, 'jpeg');
    assert.equal(m.width, 192);
    assert.equal(m.height, 192);
  });

  test('anything not in the listing is 404: other files, hidden files, folders, links, traversal', async () => {
    const names = ['notes.txt', '.hidden.png', 'sub.png', 'link.png', 'nope.png', '..%2Fsecret.png', '..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', 'cat.png%00.txt', 'CAT.PNG', '%2e%2e'];
    for (const n of names) {
      const r = await srv.app.inject({ url: `/api/samples/${n}` });
      assert.equal(r.statusCode, 404, `${n}: ${r.statusCode} ${r.body.slice(0, 80)}`);
      assert.ok(!r.body.includes(SECRET), n);
      assert.equal(typeof r.json().error, 'string');
    }
    // over a real socket too, where the client does not normalise the path
    for (const raw of ['/api/samples/../secret.png', '/api/samples/..%2Fsecret.png', '/api/samples/link.png']) {
      const res = await fetch(base + raw);
      const body = await res.text();
      assert.notEqual(res.status, 200, raw);
      assert.ok(!body.includes(SECRET), raw);
    }
  });

  test('both routes are in the OpenAPI document', () => {
    const doc = openApiDocument({ version: 'test' });
    assert.ok(doc.paths['/api/samples'].get);
    assert.ok(doc.paths['/api/samples/{name}'].get);
    assert.ok(srv.routes.includes('GET /api/samples'));
    assert.ok(srv.routes.includes('GET /api/samples/:name'));
  });
});
