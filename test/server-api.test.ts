// The HTTP service end to end at tiny sizes (32 px, 3 iterations, 1 thread): every endpoint, every
// kind of bad request, a full job to a decodable PNG with provenance, SSE over a real socket,
// cancellation, fast mode, CORS and path traversal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { readImageMetadata } from '../src/image/metadata.js';
import { createServer as createServerFromIndex } from '../src/index.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { spawn } from 'node:child_process';
import { BIN, assertOneLineError, cliEnv, runCli, tempDir } from './helpers/cli.js';
import { formData, multipart, postJob, readSse, tinyPng, waitFor, type Part } from './helpers/server.js';

const FAST_MODELS = path.join(ASSETS, 'fast-style');
const HAVE_WAVE = fs.existsSync(path.join(FAST_MODELS, 'wave', 'manifest.json'));
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e'; // well-formed, never issued

let srv: StyleloomServer;
let content: Buffer;
let style: Buffer;
let base: string;

const files = (): Part[] => [
  { name: 'content', file: content, filename: 'photo.png', type: 'image/png' },
  { name: 'style', file: style, filename: 'painting.png', type: 'image/png' },
];
const fields = (o: Record<string, string>): Part[] => Object.entries(o).map(([name, value]) => ({ name, value }));
const small = { size: '32', iters: '3' };

before(async () => {
  [content, style] = await Promise.all([tinyPng(48, 32, 1), tinyPng(40, 40, 2)]);
  srv = await createServer({
    dataDir: tempDir('styleloom-server-'),
    weights: VGG_PARTIAL,
    fastModelsDir: FAST_MODELS,
    threads: 1,
    maxUploadMb: 0.25,
    maxPixels: 5000,
    maxSize: 256,
    webDir: path.join(tempDir(), 'no-web'),
  });
  base = await srv.app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await srv?.close();
});

async function expectError(parts: Part[], status: number, match: RegExp) {
  const r = await postJob(srv.app, parts);
  assert.equal(r.statusCode, status, r.body);
  const body = r.json();
  assert.equal(typeof body.error, 'string');
  assert.ok(!body.error.includes('\n'), 'one line');
  assert.match(body.error, match);
  return body.error as string;
}

describe('service endpoints', () => {
  test('GET /api/health says ok with the queue state', async () => {
    const r = await srv.app.inject({ url: '/api/health' });
    assert.equal(r.statusCode, 200);
    const h = r.json();
    assert.equal(h.ok, true);
    assert.equal(h.queue.concurrency, 1);
    assert.equal(h.queue.maxQueue, 20);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['access-control-allow-origin'], undefined, 'CORS is off by default');
  });

  test('GET /api/models lists the VGG weights with their layers and the fast networks', async () => {
    const m = (await srv.app.inject({ url: '/api/models' })).json();
    assert.equal(m.vgg.name, path.basename(VGG_PARTIAL));
    assert.deepEqual(m.vgg.layers, ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv3_4']);
    assert.deepEqual(m.vgg.defaultContentLayers, ['conv3_2']);
    if (HAVE_WAVE) assert.ok(m.fast.some((f: { name: string; builtin: boolean }) => f.name === 'wave' && !f.builtin));
    // the built-in networks come first (the page's default), each naming its painting among the samples
    const builtin = m.fast.filter((f: { builtin: boolean }) => f.builtin);
    assert.deepEqual(builtin.map((f: { name: string }) => f.name), ['great-wave', 'shipwreck', 'starry-night', 'the-scream']);
    assert.deepEqual(m.fast.slice(0, 4), builtin);
    assert.equal(builtin.find((f: { name: string }) => f.name === 'starry-night').style, 'starry_night.jpg');
    assert.ok(builtin.every((f: { licence: string; title: string }) => /^MIT/.test(f.licence) && f.title.length > 0));
    assert.equal(m.limits.maxSize, 256);
  });

  test('GET /api/openapi.json documents every route, and only routes that exist', async () => {
    const doc = (await srv.app.inject({ url: '/api/openapi.json' })).json();
    assert.match(doc.openapi, /^3\./);
    const routes = new Set(srv.routes.filter((r) => r.includes(' /api/')).map((r) => r.replace(/:(\w+)/g, '{$1}')));
    const documented = new Set<string>();
    for (const [p, ops] of Object.entries(doc.paths as Record<string, object>)) for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${p}`);
    assert.ok(routes.size >= 9, `routes found: ${[...routes].join('; ')}`);
    assert.deepEqual([...routes].sort(), [...documented].sort());
  });

  test('GET / serves a placeholder page when web/dist is not built', async () => {
    const r = await srv.app.inject({ url: '/' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /text\/html/);
    assert.match(r.body, /not built/);
  });

  test('unknown routes are 404 with a JSON error', async () => {
    const r = await srv.app.inject({ url: '/api/nothing' });
    assert.equal(r.statusCode, 404);
    assert.match(r.json().error, /not found/);
  });
});

describe('bad requests', () => {
  test('not multipart -> 400', async () => {
    const r = await srv.app.inject({ method: 'POST', url: '/api/jobs', payload: { size: 32 } });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().error, /multipart\/form-data/);
  });

  test('missing content -> 400', async () => {
    await expectError([files()[1], ...fields(small)], 400, /content image is required/);
  });

  test('missing style -> 400', async () => {
    await expectError([files()[0], ...fields(small)], 400, /style image is required/);
  });

  test('a non-image (named .png, sent as image/png) -> 400, found by decoding', async () => {
    const fake = Buffer.from('this is not a picture, whatever its name says\n'.repeat(10));
    await expectError([{ name: 'content', file: fake, filename: 'photo.png', type: 'image/png' }, files()[1], ...fields(small)], 400, /content: not an image/);
  });

  test('a truncated PNG -> 400', async () => {
    await expectError([files()[0], { name: 'style', file: style.subarray(0, style.length - 40), filename: 's.png' }, ...fields(small)], 400, /^style: .*(truncated|corrupt)/);
  });

  test('an SVG (sharp could read it) is refused -> 400', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="red"/></svg>');
    await expectError([{ name: 'content', file: svg, filename: 'x.png', type: 'image/png' }, files()[1], ...fields(small)], 400, /not an image this server accepts/);
  });

  test('an image over the pixel limit -> 400', async () => {
    const big = await tinyPng(100, 100, 3); // 10 000 pixels > 5000
    await expectError([{ name: 'content', file: big }, files()[1], ...fields(small)], 400, /more than the limit of 5000/);
  });

  test('a content image too thin for the layers at the job size -> 400 naming the layer (not a failed job)', async () => {
    const thin = await tinyPng(400, 8, 5); // 32x1 px at size 32; conv3_x needs 4 px
    await expectError([{ name: 'content', file: thin }, files()[1], ...fields(small)], 400, /^content \(400x8\) becomes 32x1 px \(long side 32\), but layer conv3_\d needs at least 4 px on each side; use a larger size/);
  });

  test('an upload over --max-upload-mb -> 413', async () => {
    const huge = Buffer.alloc(300 * 1024, 7);
    await expectError([{ name: 'content', file: huge }, files()[1], ...fields(small)], 413, /upload too large: at most 0.25 MB/);
  });

  const badNumbers: [Record<string, string>, RegExp][] = [
    [{ size: '0' }, /^size must be a whole number from 16 to 8192, got 0$/],
    [{ iters: '-1' }, /^iters must be a whole number from 1 to/],
    [{ lr: 'NaN' }, /^lr must be a finite number > 0, got NaN$/],
    [{ lr: 'fast' }, /^lr must be a decimal number, got "fast"$/],
    [{ size: '1.5' }, /^size must be a whole number/],
    [{ size: '' }, /^size is empty/],
    [{ style_weight: '-3' }, /^style_weight must be a finite number >= 0/],
    [{ size: '512' }, /^size must be at most 256 on this server/],
    [{ iters: '5000' }, /^iters × scales must be at most 2000/],
    [{ optimizer: 'sgd' }, /^optimizer must be one of lbfgs, adam/],
    [{ init: '/etc/passwd' }, /^init must be one of content, noise/],
    [{ original_colors: 'maybe' }, /^original_colors must be true or false/],
    [{ style_blend_weights: '1,2' }, /^style_blend_weights has 2 values but there are 1 styles/],
    [{ content_layers: 'conv9_9' }, /layer conv9_9 is not a VGG-19 conv layer/],
    [{ style_layers: 'conv4_1' }, /layer conv4_1 is not in weights file/],
    [{ colour: 'blue' }, /^unknown field "colour"/],
    [{ model: 'wave' }, /^unknown field "model".*mode=fast/],
    [{ mode: 'slow' }, /^mode must be one of gatys, fast/],
  ];
  for (const [f, re] of badNumbers) {
    test(`bad parameter ${JSON.stringify(f)} -> 400 with a message`, async () => {
      await expectError([...files(), ...fields({ ...small, ...f })], 400, re);
    });
  }

  test('a field given twice -> 400', async () => {
    await expectError([...files(), ...fields(small), { name: 'size', value: '40' }], 400, /given twice/);
  });

  test('an unknown file field -> 400', async () => {
    await expectError([...files(), { name: 'init', file: content }], 400, /unknown file field "init"/);
  });

  test('fast mode with an unknown model or style files -> 400', async () => {
    await expectError([files()[0], ...fields({ mode: 'fast', model: 'nope' })], 400, /unknown model "nope"; available/);
    await expectError([files()[0], ...fields({ mode: 'fast', model: '../../etc' })], 400, /unknown model/);
    await expectError([files()[0], ...fields({ mode: 'fast' })], 400, /model is required with mode=fast/);
    await expectError([...files(), ...fields({ mode: 'fast', model: 'wave' })], 400, /takes no style images/);
    await expectError([files()[0], ...fields({ mode: 'fast', model: 'wave', iters: '3' })], 400, /field "iters" does not apply to mode=fast/);
  });

  test('GET /api/jobs?limit=abc -> 400', async () => {
    const r = await srv.app.inject({ url: '/api/jobs?limit=abc' });
    assert.equal(r.statusCode, 400);
  });

  test('unknown ids -> 404 on every job route', async () => {
    for (const [method, suffix] of [['GET', ''], ['DELETE', ''], ['GET', '/result'], ['GET', '/preview.png'], ['GET', '/events']] as const) {
      const r = await srv.app.inject({ method, url: `/api/jobs/${UUID}${suffix}` });
      assert.equal(r.statusCode, 404, `${method} ${suffix}: ${r.body}`);
      assert.match(r.json().error, /no such job/);
    }
  });

  test('path traversal and malformed ids -> 404, never a file', async () => {
    const attempts = [
      '/api/jobs/..%2F..%2Fetc/result',
      '/api/jobs/..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '/api/jobs/../../etc/passwd',
      '/api/jobs/%2e%2e/result',
      '/api/jobs/..%5C..%5Cjob.json',
      '/api/jobs/NOT-A-UUID/result',
      `/api/jobs/${UUID.toUpperCase()}`,
      `/api/jobs/${UUID}%00/result`,
      `/api/jobs/${UUID}/..%2Fjob.json`,
      '/..%2F..%2Fetc%2Fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
    ];
    for (const url of attempts) {
      for (const method of ['GET', 'DELETE'] as const) {
        const r = await srv.app.inject({ method, url });
        assert.equal(r.statusCode, 404, `${method} ${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
        assert.ok(!/root:/.test(r.body));
      }
    }
  });
});

describe('jobs', () => {
  let id: string;

  before(async () => {
    const r = await postJob(srv.app, [...files(), ...fields(small)]);
    assert.equal(r.statusCode, 201, r.body);
    id = r.json().id;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(r.headers.location, `/api/jobs/${id}`);
  });

  test('a 32 px, 3-iteration job runs to done; GET shows params, progress, loss and its history', async () => {
    const job = await waitFor(srv.app, id);
    assert.equal(job.status, 'done', job.error);
    assert.equal(job.mode, 'gatys');
    assert.equal(job.params.size, 32);
    assert.equal(job.params.iters, 3);
    assert.equal(job.params.optimizer, 'lbfgs', 'defaults are filled in');
    assert.deepEqual(job.progress, { iter: 3, iters: 3 });
    assert.equal(job.lossHistory.length, 3);
    for (const v of job.lossHistory) assert.ok(Number.isFinite(v) && v > 0);
    assert.ok(job.loss.total > 0 && Number.isFinite(job.loss.style));
    assert.deepEqual(job.inputs, { content: 'photo.png', styles: ['painting.png'] });
    assert.equal(job.resultUrl, `/api/jobs/${id}/result`);
    assert.ok(Date.parse(job.createdAt) <= Date.parse(job.startedAt) && Date.parse(job.startedAt) <= Date.parse(job.finishedAt));
    assert.deepEqual([job.width, job.height], [32, 21]);
  });

  test('GET /result returns a PNG that decodes, with provenance naming the uploaded files', async () => {
    await waitFor(srv.app, id);
    const r = await srv.app.inject({ url: `/api/jobs/${id}/result` });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'image/png');
    const meta = await sharp(r.rawPayload).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [32, 21]);
    const file = path.join(tempDir(), 'r.png');
    fs.writeFileSync(file, r.rawPayload);
    const prov = await readImageMetadata(file);
    assert.match(prov.Software, /^styleloom /);
    assert.match(prov.Description, /content image photo\.png in the style of painting\.png;/);
    assert.equal(JSON.parse(prov['styleloom:parameters']).iters, 3);
  });

  test('GET /preview.png serves the latest preview; GET /api/jobs lists the job', async () => {
    const job = await waitFor(srv.app, id);
    assert.ok(job.previewUrl, 'a preview was written');
    const p = await srv.app.inject({ url: job.previewUrl });
    assert.equal(p.statusCode, 200);
    assert.equal((await sharp(p.rawPayload).metadata()).format, 'png');
    const list = (await srv.app.inject({ url: '/api/jobs?limit=500' })).json();
    const item = list.jobs.find((j: { id: string }) => j.id === id);
    assert.ok(item);
    assert.equal(item.lossHistory, undefined, 'the list leaves out loss histories');
  });

  test('DELETE on a done job deletes it and its files: 404 afterwards', async () => {
    await waitFor(srv.app, id);
    const d = await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` });
    assert.equal(d.statusCode, 200, d.body);
    assert.deepEqual(d.json(), { id, deleted: true });
    assert.equal((await srv.app.inject({ url: `/api/jobs/${id}` })).statusCode, 404);
    assert.equal((await srv.app.inject({ url: `/api/jobs/${id}/result` })).statusCode, 404);
    assert.equal((await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${id}` })).statusCode, 404);
    assert.ok(!fs.existsSync(path.join(srv.dataDir, id)), 'the job folder is gone');
  });

  test('SSE: the current state first, progress per iteration, previews, the final state, then the stream ends', async () => {
    // submit while another job holds the single worker, so that the stream is open before this one starts
    const blocker = await postJob(srv.app, [...files(), ...fields({ size: '48', iters: '2000' })]);
    const blockerId = blocker.json().id;
    const post = await fetch(`${base}/api/jobs`, { method: 'POST', body: formData([...files(), ...fields({ size: '32', iters: '4', optimizer: 'adam', lr: '2' })]) });
    assert.equal(post.status, 201);
    const { id: jid } = (await post.json()) as { id: string };
    const reading = readSse(`${base}/api/jobs/${jid}/events`);
    await waitFor(srv.app, blockerId, (j) => j.progress.iter >= 1);
    await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${blockerId}` });
    const { status, contentType, events } = await reading;
    assert.equal(status, 200);
    assert.match(String(contentType), /^text\/event-stream/);
    assert.equal(events[0].event, 'state');
    assert.deepEqual(events.filter((e) => e.event === 'state').map((e) => e.data.status), ['queued', 'running', 'done']);
    const progress = events.filter((e) => e.event === 'progress');
    assert.deepEqual(progress.map((e) => e.data.iter), [1, 2, 3, 4]);
    for (const e of progress) {
      assert.equal(e.data.iters, 4);
      assert.ok(e.data.loss.total > 0);
    }
    const previews = events.filter((e) => e.event === 'preview');
    assert.deepEqual(previews.map((e) => e.data.iter), [1, 2, 3]);
    const png = await fetch(`${base}${previews[0].data.url}`);
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    const last = events.at(-1)!;
    assert.equal(last.event, 'state');
    assert.equal(last.data.status, 'done');
    assert.deepEqual(last.data.lossHistory, progress.map((e) => e.data.loss.total));
    // a client connecting after the end gets the final state at once, and the stream closes
    const late = await readSse(`${base}/api/jobs/${jid}/events`, 5000);
    assert.deepEqual(late.events.map((e) => e.event), ['state']);
    assert.equal(late.events[0].data.status, 'done');
  });

  test('DELETE while running -> cancelled within a short time; its result is 409', async () => {
    const r = await postJob(srv.app, [...files(), ...fields({ size: '48', iters: '2000' })]);
    const jid = r.json().id;
    await waitFor(srv.app, jid, (j) => j.status === 'running' && j.progress.iter >= 2);
    const t0 = Date.now();
    const d = await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${jid}` });
    const ms = Date.now() - t0;
    assert.equal(d.statusCode, 200, d.body);
    assert.equal(d.json().status, 'cancelled');
    assert.ok(ms < 3000, `cancel took ${ms} ms`);
    const job = await waitFor(srv.app, jid);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.progress.iter < 2000);
    const res = await srv.app.inject({ url: `/api/jobs/${jid}/result` });
    assert.equal(res.statusCode, 409);
    assert.match(res.json().error, /job is cancelled/);
    // cancelling again is harmless
    assert.equal((await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${jid}` })).statusCode, 200);
  });

  test('DELETE of a queued job cancels it before it runs', async () => {
    const a = (await postJob(srv.app, [...files(), ...fields({ size: '48', iters: '2000' })])).json().id;
    const b = (await postJob(srv.app, [...files(), ...fields(small)])).json().id;
    assert.equal((await srv.app.inject({ url: `/api/jobs/${b}` })).json().status, 'queued');
    const d = await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${b}` });
    assert.equal(d.json().status, 'cancelled');
    await srv.app.inject({ method: 'DELETE', url: `/api/jobs/${a}` });
    const job = await waitFor(srv.app, b);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.startedAt, undefined, 'never started');
  });

  test('fast mode: model wave at 32 px runs to done', { skip: HAVE_WAVE ? false : `no ${FAST_MODELS}/wave` }, async () => {
    const r = await postJob(srv.app, [files()[0], ...fields({ mode: 'fast', model: 'wave', size: '32' })]);
    assert.equal(r.statusCode, 201, r.body);
    const job = await waitFor(srv.app, r.json().id);
    assert.equal(job.status, 'done', job.error);
    assert.equal(job.mode, 'fast');
    assert.deepEqual(job.params, { model: 'wave', size: 32, original_colors: false });
    const res = await srv.app.inject({ url: job.resultUrl });
    const meta = await sharp(res.rawPayload).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 32, 21]);
  });
});

describe('CORS', () => {
  test('--cors adds Access-Control-Allow-Origin and answers preflight requests', async () => {
    const s = await createServerFromIndex({ dataDir: tempDir('styleloom-server-'), weights: VGG_PARTIAL, cors: true, paused: true, fastModelsDir: FAST_MODELS });
    try {
      const r = await s.app.inject({ url: '/api/health', headers: { origin: 'http://example.test' } });
      assert.equal(r.headers['access-control-allow-origin'], '*');
      const pre = await s.app.inject({ method: 'OPTIONS', url: '/api/jobs', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
      assert.equal(pre.statusCode, 204);
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
      const body = await multipart([...files(), ...fields(small)]);
      const post = await s.app.inject({ method: 'POST', url: '/api/jobs', ...body, headers: { ...body.headers, origin: 'http://example.test' } });
      assert.equal(post.statusCode, 201);
      assert.equal(post.headers['access-control-allow-origin'], '*');
    } finally {
      await s.close();
    }
  });
});

describe('web page', () => {
  test('serves web/dist when it is built, with no way out of it', async () => {
    const root = tempDir('styleloom-web-');
    const web = path.join(root, 'dist');
    fs.mkdirSync(web);
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>page</title>');
    fs.mkdirSync(path.join(web, 'assets'));
    fs.writeFileSync(path.join(web, 'assets', 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(root, 'secret.txt'), 'secret');
    const s = await createServer({ dataDir: tempDir('styleloom-server-'), weights: VGG_PARTIAL, paused: true, webDir: web, fastModelsDir: FAST_MODELS });
    try {
      const home = await s.app.inject({ url: '/' });
      assert.equal(home.statusCode, 200);
      assert.match(home.body, /<title>page<\/title>/);
      const js = await s.app.inject({ url: '/assets/app.js' });
      assert.equal(js.statusCode, 200);
      assert.match(String(js.headers['content-type']), /javascript/);
      for (const url of ['/..%2Fsecret.txt', '/../secret.txt', '/assets/..%2F..%2Fsecret.txt', '/%2e%2e/secret.txt', '/%2e%2e/%2e%2e/etc/passwd']) {
        const r = await s.app.inject({ url });
        assert.ok(r.statusCode === 404 || r.statusCode === 403, `${url}: ${r.statusCode}`);
        assert.notEqual(r.body, 'secret', url);
        assert.equal(typeof r.json().error, 'string');
      }
      assert.equal((await s.app.inject({ url: '/api/health' })).statusCode, 200, 'the API is still there');
    } finally {
      await s.close();
    }
  });
});

describe('styleloom serve', () => {
  test('listens, answers, and stops on SIGINT with exit status 0, leaving nothing running', async () => {
    const dataDir = tempDir('styleloom-serve-');
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--weights', VGG_PARTIAL, '--threads', '1'], {
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      let stderr = '';
      child.stderr.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (s: string) => {
          stderr += s;
          const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
      });
      const h = (await (await fetch(`${url}/api/health`)).json()) as { ok: boolean };
      assert.equal(h.ok, true);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /stopping/);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('bad flags are one-line errors with exit status 2', async () => {
    assertOneLineError(await runCli(['serve', '--port', '70000', '--data-dir', tempDir()]), { code: 2, match: ['--port must be from 0 to 65535'] });
    assertOneLineError(await runCli(['serve', '--concurrency', 'two']), { code: 2, match: ['concurrency'] });
  });
});
