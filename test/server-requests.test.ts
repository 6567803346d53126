// Hostile requests to the HTTP service (issue 16): malformed multipart bodies and aborted uploads are
// 400 and one quiet log line (no stack), a decompression bomb is "too large", numbers are decimal only,
// /api/models shows names and no paths, a stalled body is cut, uploads stream to disk, at most a few at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import type { JobRunner } from '../src/server/queue.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';
import { tempDir } from './helpers/cli.js';
import { multipart, postJob, sleep, tinyPng, waitFor, type Part } from './helpers/server.js';

const quickRunner: JobRunner = async (ctx) => {
  ctx.progress({ iter: 1, iters: 1, loss: null });
  return { result: await tinyPng(4, 4, 9), width: 4, height: 4, loss: null, lossHistory: [] };
};

let srv: StyleloomServer;
let base: string;
let port: number;
let dataDir: string;
const logged: string[] = [];
let parts: Part[];

before(async () => {
  const [c, s] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
  parts = [
    { name: 'content', file: c, filename: 'c.png' },
    { name: 'style', file: s, filename: 's.png' },
    { name: 'size', value: '32' },
    { name: 'iters', value: '1' },
  ];
  dataDir = tempDir('styleloom-req-');
  srv = await createServer({
    dataDir,
    weights: VGG_PARTIAL,
    fastModelsDir: path.join(ASSETS, 'fast-style'),
    runner: quickRunner,
    webDir: tempDir(),
    bodyTimeoutMs: 400,
    maxUploads: 2,
    log: (l) => logged.push(l),
  });
  base = await srv.app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(base).port);
});

after(async () => {
  await srv?.close();
});

/** The PNG signature and an IHDR chunk of `w`×`h` (8-bit RGB), then a tiny IDAT: what a bomb's header says. */
function pngHeader(w: number, h: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(1000))), chunk('IEND', Buffer.alloc(0))]);
}

/** Sends `head` and `body` over a raw socket, then waits (bounded) for the server to answer or close. */
function rawRequest(head: string, body: Buffer | string, opts: { destroyAfterMs?: number; waitMs?: number } = {}): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ response, closedAfterMs: -1 });
    }, opts.waitMs ?? 5000);
    sock.setEncoding('utf8');
    sock.on('data', (d) => (response += d));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closedAfterMs: Date.now() - t0 });
    });
    sock.on('connect', () => {
      sock.write(head);
      sock.write(body);
      if (opts.destroyAfterMs !== undefined) setTimeout(() => sock.destroy(), opts.destroyAfterMs);
    });
    sock.on('timeout', () => reject(new Error('socket timeout')));
  });
}

describe('malformed and aborted bodies', () => {
  test('a malformed multipart body is 400 with one line, and the log has no stack trace', async () => {
    logged.length = 0;
    const payload = '--XYZ\r\nContent-Disposition: form-data; name="content"; filename="a.png"\r\nContent-Type: image/png\r\n\r\nabc';
    const r = await srv.app.inject({ method: 'POST', url: '/api/jobs', payload, headers: { 'content-type': 'multipart/form-data; boundary=XYZ' } });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().error, /multipart/i);
    await sleep(50);
    assert.ok(!logged.some((l) => /internal error|\n\s+at /.test(l)), logged.join('\n'));
    const nob = await srv.app.inject({ method: 'POST', url: '/api/jobs', payload: 'x', headers: { 'content-type': 'multipart/form-data' } });
    assert.equal(nob.statusCode, 400, nob.body);
  });

  test('a client that aborts an upload is one quiet line, not an internal error', async () => {
    logged.length = 0;
    const head = `POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 100000\r\n\r\n`;
    await rawRequest(head, '--XYZ\r\nContent-Disposition: form-data; name="content"; filename="a.png"\r\n\r\n' + 'a'.repeat(5000), { destroyAfterMs: 50 });
    // the server notices the abort when its socket closes: on a loaded machine that can take a while
    for (let t = 0; t < 3000 && !logged.some((l) => /aborted/.test(l)); t += 50) await sleep(50);
    await sleep(50);
    assert.ok(!logged.some((l) => /internal error/.test(l)), logged.join('\n'));
    assert.ok(logged.some((l) => /aborted/.test(l) && !l.includes('\n')), `one line about the abort: ${JSON.stringify(logged)}`);
  });

  test('a stalled body is cut (here after 0.4 s; 60 s by default) with a 408 and one log line', async () => {
    logged.length = 0;
    for (const length of [100000, 1000]) {
      const head = `POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: ${length}\r\n\r\n`;
      const r = await rawRequest(head, '--XYZ\r\n', { waitMs: 5000 });
      assert.ok(r.closedAfterMs > 0 && r.closedAfterMs < 3000, `closed after ${r.closedAfterMs} ms: ${r.response}`);
      assert.match(r.response, /^HTTP\/1\.1 408/);
    }
    assert.equal(logged.filter((l) => /stalled/.test(l) && !l.includes('\n')).length, 2, JSON.stringify(logged));
    assert.ok(!logged.some((l) => /internal error/.test(l)));
  });
});

describe('images and numbers', () => {
  test('a 30000x30000 decompression bomb: "too large", not "not an image"', async () => {
    const r = await postJob(srv.app, [{ name: 'content', file: pngHeader(30000, 30000), filename: 'bomb.png' }, ...parts.slice(1)]);
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().error, /^content: 30000x30000 is too large/);
  });

  test('size=0x40, 1e1_0 and other non-decimal numbers are refused; decimal ones pass', async () => {
    for (const v of ['0x40', '0b1000000', '0o100', ' 0x40 ']) {
      const r = await postJob(srv.app, [...parts.slice(0, 2), { name: 'size', value: v }, { name: 'iters', value: '1' }]);
      assert.equal(r.statusCode, 400, `${v}: ${r.body}`);
      assert.match(r.json().error, /^size must be a decimal number/);
    }
    const ok = await postJob(srv.app, [...parts.slice(0, 2), { name: 'size', value: '64' }, { name: 'iters', value: '1' }, { name: 'lr', value: '1.5e0' }]);
    assert.equal(ok.statusCode, 201, ok.body);
    await waitFor(srv.app, ok.json().id);
  });

  test('/api/models names the weights and networks, with no absolute path anywhere', async () => {
    const r = await srv.app.inject({ url: '/api/models' });
    assert.equal(r.statusCode, 200);
    const m = r.json();
    assert.equal(m.vgg.name, path.basename(VGG_PARTIAL));
    assert.ok(!r.body.includes(path.dirname(VGG_PARTIAL)), r.body);
    assert.ok(!/"\/[a-z]/i.test(r.body), `no absolute path: ${r.body}`);
    const s = await createServer({ dataDir: tempDir('styleloom-req-'), weights: path.join(tempDir(), 'missing.safetensors'), runner: quickRunner, webDir: tempDir(), paused: true });
    try {
      const n = await s.app.inject({ url: '/api/models' });
      assert.equal(n.json().vgg.name, null);
      assert.ok(!/"\/[a-z]|\s\/[a-z]/i.test(n.body), `no absolute path in the error: ${n.body}`);
    } finally {
      await s.close();
    }
  });
});

describe('uploads', () => {
  test('uploads are streamed to disk: a finished upload leaves nothing in the upload folder', async () => {
    const r = await fetch(`${base}/api/jobs`, { method: 'POST', body: (await import('./helpers/server.js')).formData(parts) });
    assert.equal(r.status, 201);
    const tmp = path.join(dataDir, '.uploads');
    assert.ok(fs.existsSync(tmp), 'uploads go through the data directory');
    assert.deepEqual(fs.readdirSync(tmp), []);
    // a refused upload (bad image) leaves nothing either
    const bad = await postJob(srv.app, [{ name: 'content', file: Buffer.from('not an image'), filename: 'x.png' }, ...parts.slice(1)]);
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(fs.readdirSync(tmp), []);
  });

  test('more parallel uploads than maxUploads: the extra ones are 503 with Retry-After; the others go through', async () => {
    const head = (n: number) => `POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: ${n}\r\n\r\n`;
    // two uploads that stall (held open), then a third while they are in progress
    const held = [rawRequest(head(100000), '--XYZ\r\n', { waitMs: 3000 }), rawRequest(head(100000), '--XYZ\r\n', { waitMs: 3000 })];
    await sleep(100);
    const body = await multipart(parts);
    const r = await fetch(`${base}/api/jobs`, { method: 'POST', body: new Uint8Array(body.payload), headers: body.headers });
    assert.equal(r.status, 503, await r.text());
    assert.ok(r.headers.get('retry-after'));
    await Promise.all(held); // cut by the body timeout
    const again = await fetch(`${base}/api/jobs`, { method: 'POST', body: new Uint8Array(body.payload), headers: body.headers });
    assert.equal(again.status, 201);
  });
});
