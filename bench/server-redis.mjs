// Scale-out check of the HTTP service (not part of npm test): N small Gatys jobs (32 px, 2 L-BFGS
// iterations, the real chelsea.png + starry_night.jpg uploads) through one API node (`styleloom
// serve --redis --workers 0`, on 127.0.0.1) and W `styleloom worker`s, all on this machine, against a
// private redis-server (free loopback port, temp dir, append-only file); then the same N jobs through
// the embedded queue (`styleloom serve --concurrency W`) for comparison. Each run checks that every job
// was accepted once, ends done, has exactly one "done" event in its log (no duplicate run) and a PNG
// result; it reports the wall time, p50/p95 time in queue (createdAt -> startedAt) and submit -> done,
// and the peak RSS of the API node, of each worker and of redis-server (sampled from /proc every 100 ms).
// The client behaves like a batch script should: at most --uploads POSTs in flight (the server's
// default --max-uploads is 8), and a 503 or 429 is retried after its Retry-After (counted, reported).
//
// Usage: npm run build && node bench/server-redis.mjs [--jobs 200] [--workers 2] [--threads 1]
//          [--uploads 8] [--timeout 900] [--only redis|local] [--markdown]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const ASSETS = path.resolve(REPO, '..', 'shared', 'assets');
const { values: a } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200' },
    workers: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    uploads: { type: 'string', default: '8' },
    timeout: { type: 'string', default: '900' },
    only: { type: 'string' },
    markdown: { type: 'boolean', default: false },
  },
});
const N = Number(a.jobs);
const W = Number(a.workers);
const deadline = Date.now() + Number(a.timeout) * 1000;
const weights = path.join(ASSETS, 'models', 'vgg19-conv1_1-conv3_4.safetensors');
const content = fs.readFileSync(path.join(ASSETS, 'images', 'chelsea.png'));
const style = fs.readFileSync(path.join(ASSETS, 'images', 'starry_night.jpg'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const left = () => deadline - Date.now();
const children = new Set();
const temps = [];

function fail(msg) {
  throw new Error(`server-redis: ${msg}`);
}

function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** A child process with its stderr kept and its RSS sampled every 100 ms. */
function launch(cmd, args, what) {
  const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const p = { what, child, stderr: '', maxKb: 0 };
  child.stderr.setEncoding('utf8').on('data', (s) => (p.stderr += s));
  p.exited = new Promise((resolve) => child.on('exit', (code, signal) => (children.delete(child), resolve({ code, signal }))));
  p.sampler = setInterval(() => (p.maxKb = Math.max(p.maxKb, rssKb(child.pid))), 100);
  return p;
}

async function waitFor(p, re) {
  for (;;) {
    const m = re.exec(p.stderr);
    if (m) return m;
    if (p.child.exitCode !== null) fail(`${p.what} exited: ${p.stderr}`);
    if (left() < 0) fail(`${p.what} did not start`);
    await sleep(50);
  }
}

async function stop(p, signal = 'SIGTERM') {
  if (p.child.exitCode === null) p.child.kill(signal);
  let timer;
  const r = await Promise.race([p.exited, new Promise((res) => (timer = setTimeout(() => res({ code: 'timeout' }), 30_000)))]);
  clearTimeout(timer);
  clearInterval(p.sampler);
  if (r.code !== 0) fail(`${p.what} exit status ${r.code} (${r.signal ?? ''}): ${p.stderr.slice(-500)}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const have = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (have.status !== 0) {
    const r = spawnSync('sh', [path.join(REPO, 'scripts', 'install-redis.sh')], { encoding: 'utf8', stdio: 'inherit' });
    if (r.status !== 0) fail('redis-server is missing and scripts/install-redis.sh could not install it');
  }
  const port = await freePort();
  const dir = tempDir('styleloom-bench-redis-');
  const p = launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--logfile', path.join(dir, 'redis.log')], 'redis-server');
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => (s.destroy(), resolve(false)));
    });
    if (ok) break;
    if (p.child.exitCode !== null || left() < 0) fail(`redis-server did not start: ${p.stderr}`);
    await sleep(30);
  }
  p.url = `redis://127.0.0.1:${port}`;
  return p;
}

const form = () => {
  const fd = new FormData();
  fd.append('content', new Blob([content]), 'chelsea.png');
  fd.append('style', new Blob([style]), 'starry_night.jpg');
  fd.append('iters', '2');
  fd.append('size', '32');
  return fd;
};

const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];

/** The N jobs through the server at `base`; every check of the header comment. */
async function drive(base) {
  const submitted = new Map();
  const t0 = Date.now();
  let next = 0;
  let retries = 0;
  const submitOne = async (k) => {
    const tk = Date.now();
    for (;;) {
      const r = await fetch(`${base}/api/jobs`, { method: 'POST', body: form(), signal: AbortSignal.timeout(Math.max(1000, left())) });
      const body = await r.json();
      if ((r.status === 503 || r.status === 429) && left() > 0) {
        retries++;
        await sleep(1000 * (Number(r.headers.get('retry-after')) || 1));
        continue;
      }
      if (r.status !== 201) fail(`POST ${k}: ${r.status} ${JSON.stringify(body)}`);
      if (submitted.has(body.id)) fail(`duplicate id ${body.id}`);
      submitted.set(body.id, tk);
      return;
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(N, Number(a.uploads)) }, async () => {
      while (next < N) await submitOne(next++);
    }),
  );
  let jobs;
  for (;;) {
    if (left() < 0) fail('timed out waiting for the jobs');
    await sleep(250);
    const list = await (await fetch(`${base}/api/jobs?limit=1000`)).json();
    jobs = list.jobs.filter((j) => submitted.has(j.id));
    for (const j of jobs) if (j.status === 'failed' || j.status === 'cancelled') fail(`job ${j.id} ${j.status}: ${j.error}`);
    if (jobs.length === N && jobs.every((j) => j.status === 'done')) break;
  }
  const wall = Date.now() - t0;
  if (new Set(jobs.map((j) => j.id)).size !== N) fail('the list has duplicates or misses jobs (lost)');
  let duplicated = 0;
  for (const id of submitted.keys()) {
    // the whole event log of the job (Last-Event-ID 0 replays it): one "done" state, or it ran twice
    const r = await fetch(`${base}/api/jobs/${id}/events`, { headers: { 'last-event-id': '0' }, signal: AbortSignal.timeout(10_000) });
    const text = await r.text();
    const dones = text.split('\n\n').filter((b) => /^id: /m.test(b) && /^event: state/m.test(b) && /"status":"done"/.test(b)).length;
    if (dones !== 1) duplicated++;
    const res = await fetch(`${base}/api/jobs/${id}/result`);
    const png = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || !png.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) fail(`result of ${id}: ${res.status}`);
  }
  if (duplicated) fail(`${duplicated} jobs have more than one done event`);
  const inQueue = jobs.map((j) => Date.parse(j.startedAt) - Date.parse(j.createdAt)).sort((p, q) => p - q);
  const total = jobs.map((j) => Date.parse(j.finishedAt) - submitted.get(j.id)).sort((p, q) => p - q);
  return { wallS: Number((wall / 1000).toFixed(2)), jobsPerS: Number((N / (wall / 1000)).toFixed(2)), inQueueMs: { p50: pct(inQueue, 0.5), p95: pct(inQueue, 0.95) }, submitToDoneMs: { p50: pct(total, 0.5), p95: pct(total, 0.95) }, retries, lost: 0, duplicated: 0 };
}

const mb = (kb) => Number((kb / 1024).toFixed(1));
const serveArgs = (dataDir) => ['bin/styleloom.js', 'serve', '--port', '0', '--data-dir', dataDir, '--weights', weights, '--max-queue', String(N + 10), '--threads', a.threads];

async function runRedis() {
  const redis = await startRedis();
  const api = launch(process.execPath, [...serveArgs(tempDir('styleloom-bench-api-')), '--redis', redis.url, '--workers', '0'], 'API node');
  const base = (await waitFor(api, /serving on (http:\/\/127\.0\.0\.1:\d+)/))[1];
  const workers = Array.from({ length: W }, (_, k) =>
    launch(process.execPath, ['bin/styleloom.js', 'worker', '--redis', redis.url, '--weights', weights, '--threads', a.threads, '--data-dir', tempDir(`styleloom-bench-w${k}-`)], `worker ${k + 1}`),
  );
  for (const w of workers) await waitFor(w, /taking jobs/);
  const r = await drive(base);
  await stop(api);
  for (const w of workers) await stop(w);
  await stop(redis);
  return { ...r, rssMb: { api: mb(api.maxKb), workers: workers.map((w) => mb(w.maxKb)), redis: mb(redis.maxKb) } };
}

async function runLocal() {
  const api = launch(process.execPath, [...serveArgs(tempDir('styleloom-bench-local-')), '--concurrency', String(W)], 'server');
  const base = (await waitFor(api, /serving on (http:\/\/127\.0\.0\.1:\d+)/))[1];
  const r = await drive(base);
  await stop(api, 'SIGINT');
  return { ...r, rssMb: { api: mb(api.maxKb) } };
}

async function main() {
  const out = { jobs: N, workers: W, threads: Number(a.threads), cpus: os.cpus().length, node: process.version };
  if (a.only !== 'local') out.redis = await runRedis();
  if (a.only !== 'redis') out.local = await runLocal();
  console.log(JSON.stringify(out));
  if (a.markdown) {
    const row = (name, r, mem) => `| ${name} | ${N} / 0 / 0 | ${r.retries} | ${r.wallS} s (${r.jobsPerS} jobs/s) | ${r.inQueueMs.p50} / ${r.inQueueMs.p95} ms | ${r.submitToDoneMs.p50} / ${r.submitToDoneMs.p95} ms | ${mem} |`;
    console.log('\n| queue | done / lost / duplicated | retried (503/429) | wall | in queue p50 / p95 | submit -> done p50 / p95 | peak RSS |\n|---|---:|---:|---:|---:|---:|---|');
    if (out.redis) console.log(row(`Redis, API node + ${W} workers`, out.redis, `API ${out.redis.rssMb.api} MB, workers ${out.redis.rssMb.workers.join(' / ')} MB, redis-server ${out.redis.rssMb.redis} MB`));
    if (out.local) console.log(row(`embedded, --concurrency ${W}`, out.local, `server ${out.local.rssMb.api} MB`));
  }
}

try {
  await main();
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGKILL');
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
}
