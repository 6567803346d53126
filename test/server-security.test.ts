// Hardening of the HTTP service against the open network (issue 16): the token (Bearer header or
// the page's cookie, constant-time compared), foreign Origin on state-changing requests and unknown
// Host values refused with 403, and `styleloom serve` beyond loopback only with a token (made and
// printed once when none is given; decided by serveToken(), so that no test listens beyond 127.0.0.1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type StyleloomServer } from '../src/server/app.js';
import { serveToken } from '../src/server/security.js';
import type { JobRunner } from '../src/server/queue.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { BIN, cliEnv, tempDir } from './helpers/cli.js';
import { multipart, tinyPng, waitFor, type Part } from './helpers/server.js';

const TOKEN = 'test-token-0123456789abcdef';
/** Finishes at once with a tiny PNG: these tests are about the HTTP layer, not the optimisation. */
export const quickRunner: JobRunner = async (ctx) => {
  ctx.progress({ iter: 1, iters: 1, loss: null });
  return { result: await tinyPng(4, 4, 9), width: 4, height: 4, loss: null, lossHistory: [] };
};

let srv: StyleloomServer;
let parts: Part[];
const auth = { authorization: `Bearer ${TOKEN}` };

before(async () => {
  const [c, s] = await Promise.all([tinyPng(40, 32, 1), tinyPng(32, 32, 2)]);
  parts = [
    { name: 'content', file: c, filename: 'c.png' },
    { name: 'style', file: s, filename: 's.png' },
    { name: 'size', value: '32' },
    { name: 'iters', value: '1' },
  ];
  srv = await createServer({ dataDir: tempDir('styleloom-sec-'), weights: VGG_PARTIAL, runner: quickRunner, token: TOKEN, webDir: tempDir() });
});

after(async () => {
  await srv?.close();
});

async function post(headers: Record<string, string> = {}) {
  const body = await multipart(parts);
  return srv.app.inject({ method: 'POST', url: '/api/jobs', payload: body.payload, headers: { ...body.headers, ...headers } });
}

describe('token', () => {
  test('without the token: 401 with a JSON error on jobs, results, models; health and the page stay open', async () => {
    const r = await post();
    assert.equal(r.statusCode, 401, r.body);
    assert.match(r.json().error, /token/);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
    for (const url of ['/api/jobs', '/api/models', '/api/samples', '/api/jobs/0f8fad5b-d9cb-469f-a165-70867728950e/result']) {
      const g = await srv.app.inject({ url });
      assert.equal(g.statusCode, 401, `${url}: ${g.body}`);
    }
    assert.equal((await srv.app.inject({ url: '/api/health' })).statusCode, 200);
    assert.equal((await srv.app.inject({ url: '/' })).statusCode, 200);
  });

  test('a wrong token, of any length, is 401', async () => {
    for (const t of ['x', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), '']) {
      assert.equal((await srv.app.inject({ url: '/api/jobs', headers: { authorization: `Bearer ${t}` } })).statusCode, 401, t);
    }
    assert.equal((await srv.app.inject({ url: '/api/jobs', headers: { authorization: `Basic ${TOKEN}` } })).statusCode, 401);
  });

  test('with the token: 201, the job runs, its list and result answer', async () => {
    const r = await post(auth);
    assert.equal(r.statusCode, 201, r.body);
    const id = r.json().id;
    const get = (url: string) => srv.app.inject({ url, headers: auth });
    const t0 = Date.now();
    while ((await get(`/api/jobs/${id}`)).json().status !== 'done') {
      assert.ok(Date.now() - t0 < 10_000, 'job did not finish');
      await new Promise((res) => setTimeout(res, 10));
    }
    assert.equal((await get('/api/jobs')).statusCode, 200);
    const res = await get(`/api/jobs/${id}/result`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'image/png');
  });

  test('the page login: /?token= sets an HttpOnly SameSite=Strict cookie that then opens the API; a wrong one does not', async () => {
    const bad = await srv.app.inject({ url: '/?token=nope' });
    assert.equal(bad.statusCode, 401);
    const ok = await srv.app.inject({ url: `/?token=${TOKEN}` });
    assert.equal(ok.statusCode, 303);
    assert.equal(ok.headers.location, '/');
    const cookie = String(ok.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const pair = cookie.split(';')[0];
    assert.equal((await srv.app.inject({ url: '/api/jobs', headers: { cookie: pair } })).statusCode, 200);
    assert.equal((await srv.app.inject({ url: '/api/jobs', headers: { cookie: 'styleloom_token=wrong' } })).statusCode, 401);
  });
});

describe('Origin and Host', () => {
  test('a cross-site POST (Origin: http://evil.example) is 403 even with the token; same-origin is 201', async () => {
    const r = await post({ ...auth, origin: 'http://evil.example' });
    assert.equal(r.statusCode, 403, r.body);
    assert.match(r.json().error, /origin/i);
    const n = await post({ ...auth, origin: 'null' });
    assert.equal(n.statusCode, 403);
    const d = await srv.app.inject({ method: 'DELETE', url: '/api/jobs/0f8fad5b-d9cb-469f-a165-70867728950e', headers: { ...auth, origin: 'http://evil.example' } });
    assert.equal(d.statusCode, 403);
    const same = await post({ ...auth, origin: 'http://localhost' });
    assert.equal(same.statusCode, 201, same.body);
  });

  test('DNS rebinding: Host: evil.example is 403 on every route; loopback names pass', async () => {
    for (const url of ['/api/health', '/api/jobs', '/']) {
      const r = await srv.app.inject({ url, headers: { ...auth, host: 'evil.example' } });
      assert.equal(r.statusCode, 403, `${url}: ${r.body}`);
      assert.match(r.json().error, /host/i);
    }
    for (const host of ['localhost:8080', '127.0.0.1:1234', '[::1]:80', 'LOCALHOST']) {
      assert.equal((await srv.app.inject({ url: '/api/health', headers: { host } })).statusCode, 200, host);
    }
  });

  test('without a token the server is open on loopback, but still refuses foreign Origin and Host', async () => {
    const s = await createServer({ dataDir: tempDir('styleloom-sec-'), weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir() });
    try {
      const body = await multipart(parts);
      const evil = await s.app.inject({ method: 'POST', url: '/api/jobs', payload: body.payload, headers: { ...body.headers, origin: 'http://evil.example' } });
      assert.equal(evil.statusCode, 403);
      assert.equal((await s.app.inject({ url: '/api/jobs', headers: { host: 'evil.example' } })).statusCode, 403);
      const ok = await s.app.inject({ method: 'POST', url: '/api/jobs', ...body });
      assert.equal(ok.statusCode, 201, ok.body);
      await waitFor(s.app, ok.json().id);
      assert.equal((await s.app.inject({ url: '/api/jobs' })).statusCode, 200);
    } finally {
      await s.close();
    }
  });

  test('allowedHosts adds names (a proxy or DNS name); --cors lets other origins POST', async () => {
    const s = await createServer({ dataDir: tempDir('styleloom-sec-'), weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir(), allowedHosts: ['styles.example.org'], cors: true, paused: true });
    try {
      assert.equal((await s.app.inject({ url: '/api/health', headers: { host: 'styles.example.org' } })).statusCode, 200);
      assert.equal((await s.app.inject({ url: '/api/health', headers: { host: 'other.example.org' } })).statusCode, 403);
      const body = await multipart(parts);
      const r = await s.app.inject({ method: 'POST', url: '/api/jobs', payload: body.payload, headers: { ...body.headers, origin: 'http://elsewhere.example' } });
      assert.equal(r.statusCode, 201, r.body);
      const pre = await s.app.inject({ method: 'OPTIONS', url: '/api/jobs', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST' } });
      assert.match(String(pre.headers['access-control-allow-headers']), /Authorization/);
    } finally {
      await s.close();
    }
  });

  test('with a token and --cors, a preflight (which carries no credentials) is answered; the POST itself needs the token', async () => {
    const s = await createServer({ dataDir: tempDir('styleloom-sec-'), weights: VGG_PARTIAL, runner: quickRunner, webDir: tempDir(), cors: true, token: TOKEN, paused: true });
    try {
      const pre = await s.app.inject({ method: 'OPTIONS', url: '/api/jobs', headers: { origin: 'http://elsewhere.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
      assert.equal(pre.statusCode, 204);
      const body = await multipart(parts);
      const no = await s.app.inject({ method: 'POST', url: '/api/jobs', payload: body.payload, headers: { ...body.headers, origin: 'http://elsewhere.example' } });
      assert.equal(no.statusCode, 401);
      const yes = await s.app.inject({ method: 'POST', url: '/api/jobs', payload: body.payload, headers: { ...body.headers, origin: 'http://elsewhere.example', ...auth } });
      assert.equal(yes.statusCode, 201, yes.body);
    } finally {
      await s.close();
    }
  });
});

describe('styleloom serve and its token', () => {
  test('beyond loopback a token is required: without --token or $STYLELOOM_TOKEN one is made (192 bits); on loopback none is', () => {
    const made = serveToken('0.0.0.0', undefined, {});
    assert.equal(made.generated, true);
    assert.ok(made.token && made.token.length >= 32, made.token);
    assert.notEqual(serveToken('0.0.0.0', undefined, {}).token, made.token, 'a new one each run');
    assert.deepEqual(serveToken('10.1.2.3', 'mine', {}), { token: 'mine', generated: false });
    assert.deepEqual(serveToken('::', undefined, { STYLELOOM_TOKEN: 'env' }), { token: 'env', generated: false });
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) assert.deepEqual(serveToken(host, undefined, {}), { generated: false }, host);
    assert.deepEqual(serveToken('127.0.0.1', undefined, { STYLELOOM_TOKEN: '' }), { generated: false }, 'an empty variable is no token');
  });

  test('--token: the API needs it (401 without, 200 with) and the token is never printed', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--token', TOKEN, '--data-dir', tempDir('styleloom-sec-'), '--weights', VGG_PARTIAL, '--threads', '1'], {
      env: { ...cliEnv(), STYLELOOM_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      let stderr = '';
      child.stderr.setEncoding('utf8');
      const base = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (s: string) => {
          stderr += s;
          const m = /serving on (http:\/\/127\.0\.0\.1:\d+) /.exec(stderr);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
      assert.match(stderr, /the API needs the token/);
      assert.ok(!stderr.includes(TOKEN), stderr);
      assert.equal((await fetch(`${base}/api/jobs`)).status, 401);
      assert.equal((await fetch(`${base}/api/jobs`, { headers: auth })).status, 200);
      assert.equal((await fetch(`${base}/api/health`)).status, 200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
