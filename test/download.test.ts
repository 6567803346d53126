// Tests for the weights downloader against a local HTTP server: success, checksum from the
// X-Linked-Etag header, interrupted transfer then resume with Range, bad checksum, HTTP errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadWeights, sha256FromEtag } from '../src/model/download.js';
import { isErr } from './helpers/errors.js';
import { buildSafetensors, convTensors } from './helpers/model-safetensors.js';

const FILE = buildSafetensors(convTensors(0, 4, 3), { preprocess: 'caffe-bgr' });
const SHA = createHash('sha256').update(FILE).digest('hex');
const JUNK = Buffer.from('this is not a safetensors file, just some text of a fair length');
const JUNK_SHA = createHash('sha256').update(JUNK).digest('hex');

const seen: { path: string; range?: string }[] = [];
let server: Server;
let base = '';
let cutOnce = true;
const root = mkdtempSync(join(tmpdir(), 'styleloom-dl-'));
let n = 0;
const freshDest = (): string => join(root, `d${n++}`, 'cache', 'vgg19.safetensors');

function serveRanged(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string> = {}): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes', ...headers });
    res.end(body);
    return;
  }
  const start = Number(m[1]);
  if (start >= body.length) {
    res.writeHead(416, { 'content-range': `bytes */${body.length}`, ...headers });
    res.end();
    return;
  }
  res.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, ...headers });
  res.end(body.subarray(start));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '';
  seen.push({ path, range: req.headers.range });
  switch (path) {
    case '/good':
      return serveRanged(req, res, FILE);
    case '/etag':
      return serveRanged(req, res, FILE, { 'x-linked-etag': `"${SHA}"`, etag: 'W/"123-abc"' });
    case '/hub':
      // Like the Hugging Face hub: a redirect to the CDN that carries the SHA-256 in X-Linked-Etag.
      res.writeHead(302, { location: '/good', 'x-linked-etag': `"${SHA}"`, etag: '"0123"' });
      res.end();
      return;
    case '/norange':
      res.writeHead(200, { 'content-length': FILE.length });
      res.end(FILE);
      return;
    case '/cut':
      if (!req.headers.range && cutOnce) {
        cutOnce = false;
        res.writeHead(200, { 'content-length': FILE.length });
        res.write(FILE.subarray(0, 200), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      return serveRanged(req, res, FILE);
    case '/junk':
      return serveRanged(req, res, JUNK);
    case '/500':
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('oops');
      return;
    default:
      res.writeHead(404);
      res.end();
  }
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('downloads, verifies and moves the file into place (creating the cache dir)', async () => {
  const dest = freshDest();
  const progress: [number, number | undefined][] = [];
  const r = await downloadWeights({ url: `${base}/good`, dest, sha256: SHA.toUpperCase(), onProgress: (a, b) => progress.push([a, b]) });
  assert.deepEqual(r, { path: dest, sha256: SHA, bytes: FILE.length });
  assert.deepEqual(readFileSync(dest), FILE);
  assert.ok(!existsSync(`${dest}.part`));
  assert.deepEqual(progress.at(-1), [FILE.length, FILE.length]);
});

test('takes the checksum from X-Linked-Etag, also when it comes on a redirect', async () => {
  const dest = freshDest();
  const r = await downloadWeights({ url: `${base}/etag`, dest });
  assert.equal(r.sha256, SHA);
  assert.ok(existsSync(dest));
  const viaHub = await downloadWeights({ url: `${base}/hub`, dest: freshDest() });
  assert.equal(viaHub.sha256, SHA);
  assert.equal(sha256FromEtag(`W/"${SHA.toUpperCase()}"`), SHA);
  assert.equal(sha256FromEtag('"abc"'), undefined);
  assert.equal(sha256FromEtag(null), undefined);
});

test('no known checksum: E_DOWNLOAD asking for --sha256, nothing written', async () => {
  const dest = freshDest();
  await assert.rejects(downloadWeights({ url: `${base}/good`, dest }), isErr('E_DOWNLOAD', /no SHA-256 is known for .*pass --sha256/));
  assert.ok(!existsSync(dest));
  assert.ok(!existsSync(`${dest}.part`));
  await assert.rejects(downloadWeights({ url: `${base}/good`, dest, sha256: 'xyz' }), isErr('E_USAGE', /--sha256 xyz is not a SHA-256/));
});

test('interrupted transfer keeps the .part; the next call resumes with Range', async () => {
  const dest = freshDest();
  await assert.rejects(
    downloadWeights({ url: `${base}/cut`, dest, sha256: SHA }),
    isErr('E_DOWNLOAD', new RegExp(`^download interrupted after \\d+ of ${FILE.length} bytes from .*; run the same command again to resume$`)),
  );
  assert.ok(!existsSync(dest));
  const partSize = statSync(`${dest}.part`).size;
  assert.ok(partSize > 0 && partSize < FILE.length, `part has ${partSize} bytes`);
  const before = seen.length;
  const r = await downloadWeights({ url: `${base}/cut`, dest, sha256: SHA });
  assert.equal(r.sha256, SHA);
  assert.deepEqual(readFileSync(dest), FILE);
  assert.ok(!existsSync(`${dest}.part`));
  assert.deepEqual(seen.slice(before), [{ path: '/cut', range: `bytes=${partSize}-` }]);
});

test('a server that ignores Range makes the download start over', async () => {
  const dest = freshDest();
  mkdirSync(join(dest, '..'), { recursive: true });
  writeFileSync(`${dest}.part`, Buffer.from('stale bytes'));
  const before = seen.length;
  const r = await downloadWeights({ url: `${base}/norange`, dest, sha256: SHA });
  assert.equal(r.bytes, FILE.length);
  assert.deepEqual(readFileSync(dest), FILE);
  assert.equal(seen[before].range, 'bytes=11-');
});

test('a complete .part left behind (416 to the range request) is verified and used', async () => {
  const dest = freshDest();
  mkdirSync(join(dest, '..'), { recursive: true });
  writeFileSync(`${dest}.part`, FILE);
  const r = await downloadWeights({ url: `${base}/good`, dest, sha256: SHA });
  assert.equal(r.bytes, FILE.length);
  assert.deepEqual(readFileSync(dest), FILE);
  assert.ok(!existsSync(`${dest}.part`));
});

test('wrong checksum: E_DOWNLOAD, no file under dest, .part removed', async () => {
  const dest = freshDest();
  const wrong = 'ab'.repeat(32);
  await assert.rejects(
    downloadWeights({ url: `${base}/good`, dest, sha256: wrong }),
    isErr('E_DOWNLOAD', new RegExp(`^checksum mismatch for ${base}/good: expected ${wrong}, got ${SHA}; the download is corrupt — run it again$`)),
  );
  assert.ok(!existsSync(dest));
  assert.ok(!existsSync(`${dest}.part`));
});

test('HTTP 500 and 404: E_DOWNLOAD with the status, no dest; an existing .part is kept', async () => {
  const dest = freshDest();
  await assert.rejects(downloadWeights({ url: `${base}/500`, dest, sha256: SHA }), isErr('E_DOWNLOAD', /server answered HTTP 500 Internal Server Error; check the URL or try again later/));
  assert.ok(!existsSync(dest));
  await assert.rejects(downloadWeights({ url: `${base}/missing`, dest, sha256: SHA }), isErr('E_DOWNLOAD', /HTTP 404/));
  writeFileSync(`${dest}.part`, FILE.subarray(0, 50));
  await assert.rejects(downloadWeights({ url: `${base}/500`, dest, sha256: SHA }), isErr('E_DOWNLOAD', /HTTP 500.*is kept for resuming/));
  assert.equal(statSync(`${dest}.part`).size, 50);
  assert.ok(!existsSync(dest));
});

test('a file that is not VGG safetensors is refused even when its checksum matches', async () => {
  const dest = freshDest();
  await assert.rejects(downloadWeights({ url: `${base}/junk`, dest, sha256: JUNK_SHA }), isErr('E_DOWNLOAD', /is not a usable VGG-19 safetensors file \(.*header length/));
  assert.ok(!existsSync(dest));
  assert.ok(!existsSync(`${dest}.part`));
});

test('unreachable server and an aborted signal', async () => {
  const dest = freshDest();
  await assert.rejects(downloadWeights({ url: 'http://127.0.0.1:1/x', dest, sha256: SHA }), isErr('E_DOWNLOAD', /cannot reach http:\/\/127\.0\.0\.1:1\/x/));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(downloadWeights({ url: `${base}/good`, dest, sha256: SHA, signal: ac.signal }), isErr('E_ABORTED', /cancelled/));
});
