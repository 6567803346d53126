// Load check of the HTTP service (not part of npm test): starts `styleloom serve` as a child process on
// 127.0.0.1 with a temporary data dir, submits N jobs at once (small Gatys jobs, 32 px, 2 iterations,
// and fast-mode jobs when a fast network is there), and checks that every job either was accepted and
// ends done or was refused with 429 — none lost, none duplicated. Refused jobs are then submitted again
// (after a short pause) until all are in, so the run ends with N results. The server's RSS is sampled
// from /proc (or ps) every 100 ms; the maximum is reported.
//
// Usage: npm run build && node bench/server-load.mjs [--jobs 50] [--concurrency 1] [--max-queue 20]
//          [--threads 1] [--timeout 600] [--no-fast] [--markdown]
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const ASSETS = path.resolve(REPO, '..', 'shared', 'assets');
const { values: a } = parseArgs({
  options: {
    jobs: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '1' },
    'max-queue': { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '600' },
    'no-fast': { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
  },
});
const N = Number(a.jobs);
const deadline = Date.now() + Number(a.timeout) * 1000;
const weights = path.join(ASSETS, 'models', 'vgg19-conv1_1-conv3_4.safetensors');
const fastDir = process.env.STYLELOOM_FAST_MODELS ?? path.join(ASSETS, 'fast-style');
const haveFast = !a['no-fast'] && fs.existsSync(path.join(fastDir, 'wave', 'manifest.json'));
const content = fs.readFileSync(path.join(ASSETS, 'images', 'chelsea.png'));
const style = fs.readFileSync(path.join(ASSETS, 'images', 'starry_night.jpg'));
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-load-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const left = () => deadline - Date.now();

function fail(msg) {
  throw new Error(`server-load: ${msg}`);
}

// --- the server, as a child process -------------------------------------------------------------
const args = ['bin/styleloom.js', 'serve', '--port', '0', '--data-dir', dataDir, '--weights', weights, '--fast-models', fastDir,
  '--concurrency', a.concurrency, '--max-queue', a['max-queue'], '--threads', a.threads];
const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: ask ps
  }
  try {
    return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) || 0;
  } catch {
    return 0;
  }
}
const rss = [];
const sampler = setInterval(() => rss.push(rssKb(child.pid)), 100);

async function main() {
  let base;
  for (;;) {
    const m = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
    if (m) {
      base = m[1];
      break;
    }
    if (child.exitCode !== null) fail(`the server exited: ${stderr}`);
    if (left() < 0) fail('the server did not start');
    await sleep(50);
  }
  const idleRssKb = rssKb(child.pid);

  const kinds = Array.from({ length: N }, (_, k) => (haveFast && k % 2 === 1 ? 'fast' : 'gatys'));
  const form = (kind) => {
    const fd = new FormData();
    fd.append('content', new Blob([content]), 'chelsea.png');
    if (kind === 'fast') {
      fd.append('mode', 'fast');
      fd.append('model', 'wave');
    } else {
      fd.append('style', new Blob([style]), 'starry_night.jpg');
      fd.append('iters', '2');
    }
    fd.append('size', '32');
    return fd;
  };
  const submitted = new Map(); // id -> { kind, t0 }
  const post = async (k) => {
    const t0 = Date.now();
    const r = await fetch(`${base}/api/jobs`, { method: 'POST', body: form(kinds[k]), signal: AbortSignal.timeout(Math.max(1000, left())) });
    const body = await r.json();
    if (r.status === 201) {
      if (submitted.has(body.id)) fail(`duplicate id ${body.id}`);
      submitted.set(body.id, { kind: kinds[k], t0, k });
    } else if (r.status !== 429) fail(`POST ${k}: ${r.status} ${JSON.stringify(body)}`);
    return r.status;
  };

  // wave 1: all N at once
  const t0 = Date.now();
  const first = await Promise.all(kinds.map((_, k) => post(k)));
  const accepted1 = first.filter((s) => s === 201).length;
  const refused1 = first.filter((s) => s === 429).length;
  if (accepted1 + refused1 !== N) fail('a submission got neither 201 nor 429');
  let pending = kinds.map((_, k) => k).filter((k) => first[k] === 429);
  let retries = 0;

  // poll the list; resubmit refused jobs while there is room; bounded by the deadline
  const finished = new Map();
  while (finished.size < N) {
    if (left() < 0) fail(`timed out: ${finished.size}/${N} finished, ${pending.length} not accepted`);
    await sleep(200);
    const list = await (await fetch(`${base}/api/jobs?limit=1000`)).json();
    const ids = list.jobs.map((j) => j.id);
    if (new Set(ids).size !== ids.length) fail('the job list has duplicates');
    for (const id of ids) if (!submitted.has(id)) fail(`unknown job ${id} in the list`);
    for (const j of list.jobs) {
      if (j.status === 'failed' || j.status === 'cancelled') fail(`job ${j.id} ${j.status}: ${j.error}`);
      if (j.status === 'done' && !finished.has(j.id)) finished.set(j.id, Date.parse(j.finishedAt) - submitted.get(j.id).t0);
    }
    for (const id of submitted.keys()) if (!ids.includes(id)) fail(`job ${id} was accepted but is not in the list (lost)`);
    if (pending.length && list.queue.queued < list.queue.maxQueue) {
      const room = list.queue.maxQueue - list.queue.queued;
      const batch = pending.slice(0, room);
      const res = await Promise.all(batch.map((k) => post(k)));
      retries += batch.length;
      pending = pending.filter((k) => !batch.includes(k) || res[batch.indexOf(k)] === 429);
    }
  }
  const wall = Date.now() - t0;

  // every result is a PNG
  let bytes = 0;
  for (const id of submitted.keys()) {
    const r = await fetch(`${base}/api/jobs/${id}/result`);
    const b = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200 || !b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) fail(`result of ${id}: ${r.status}`);
    bytes += b.length;
  }
  if (submitted.size !== N) fail(`${submitted.size} accepted in all, expected ${N}`);

  child.kill('SIGINT');
  let timer;
  const exit = await Promise.race([exited, new Promise((r) => (timer = setTimeout(() => r({ code: 'timeout' }), 15_000)))]);
  clearTimeout(timer);
  clearInterval(sampler);
  if (exit.code !== 0) fail(`the server exit status was ${exit.code}: ${stderr}`);

  const lat = [...finished.values()].sort((p, q) => p - q);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  const maxRss = Math.max(...rss);
  const summary = {
    jobs: N,
    gatys: kinds.filter((k) => k === 'gatys').length,
    fast: kinds.filter((k) => k === 'fast').length,
    firstWave: { accepted: accepted1, refused429: refused1 },
    resubmissions: retries,
    done: finished.size,
    lost: 0,
    duplicated: 0,
    wallS: Number((wall / 1000).toFixed(2)),
    jobsPerS: Number((N / (wall / 1000)).toFixed(2)),
    latencyMs: { p50: pct(0.5), p95: pct(0.95), max: lat.at(-1) },
    rssMb: { idle: Number((idleRssKb / 1024).toFixed(1)), max: Number((maxRss / 1024).toFixed(1)), end: Number((rss.at(-2) / 1024).toFixed(1)) },
    rssSamples: rss.length,
    resultBytes: bytes,
    server: { concurrency: Number(a.concurrency), maxQueue: Number(a['max-queue']), threads: Number(a.threads) },
  };
  console.log(JSON.stringify(summary));
  console.error(
    `server-load: ${N} jobs (${summary.gatys} Gatys 32 px x 2 iters, ${summary.fast} fast wave 32 px): first wave ${accepted1} accepted, ${refused1} refused (429); ` +
      `all ${N} done after ${retries} resubmissions in ${summary.wallS} s (${summary.jobsPerS} jobs/s), none lost or duplicated; ` +
      `submit->done p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms; server RSS idle ${summary.rssMb.idle} MB, max ${summary.rssMb.max} MB`,
  );
  if (a.markdown) {
    console.log(`\n| | |\n|---|---:|\n| jobs (Gatys / fast) | ${N} (${summary.gatys} / ${summary.fast}) |\n| first wave accepted / 429 | ${accepted1} / ${refused1} |` +
      `\n| resubmissions until all accepted | ${retries} |\n| done / lost / duplicated | ${finished.size} / 0 / 0 |\n| wall time | ${summary.wallS} s (${summary.jobsPerS} jobs/s) |` +
      `\n| submit -> done p50 / p95 / max | ${pct(0.5)} / ${pct(0.95)} / ${lat.at(-1)} ms |\n| server RSS idle / max | ${summary.rssMb.idle} / ${summary.rssMb.max} MB |`);
  }
}

try {
  await main();
} catch (e) {
  console.error(e.message);
  process.exitCode = 1;
} finally {
  clearInterval(sampler);
  if (child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
