// Fast-mode benchmark: ms per image at 512 and 1024 px and images/s for a batch of 16, ours (the IR graph
// on onnxruntime-node) against the same network in PyTorch (bench/fast_torch.py), in the same run.
//
// Usage: npm run build && node bench/fast.mjs [--model DIR] [--threads 2] [--sizes 512,1024]
//          [--batch 16] [--batch-size 256] [--reps 3] [--rounds 1] [--python /usr/bin/python3]
// The model defaults to $STYLELOOM_FAST_MODELS/wave, else ../shared/assets/fast-style/wave (never copied here).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const dist = (p) => pathToFileURL(path.join(REPO, 'dist', 'src', p)).href;
const { loadFastModel } = await import(dist('fast/stylize-fast.js'));

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: path.join(process.env.STYLELOOM_FAST_MODELS ?? path.join(REPO, '..', 'shared', 'assets', 'fast-style'), 'wave') },
    threads: { type: 'string', default: '2' },
    sizes: { type: 'string', default: '512,1024' },
    batch: { type: 'string', default: '16' },
    'batch-size': { type: 'string', default: '256' },
    reps: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const threads = Number(a.threads);
const sizes = a.sizes.split(',').map(Number);
const batch = Number(a.batch);
const batchSize = Number(a['batch-size']);
const reps = Number(a.reps);
const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

function randomImage(n, h, w, seed) {
  const x = new Float32Array(n * 3 * h * w);
  let s = seed >>> 0;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 4294967296) * 255;
  }
  return x;
}

/** Median ms of `reps` runs after one warm-up run (which also compiles the session for that size). */
async function ours(model, n, h, w) {
  const x = randomImage(n, h, w, 1);
  const t0 = performance.now();
  await model.run(x, n, h, w, { threads });
  const firstMs = performance.now() - t0;
  const ts = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    await model.run(x, n, h, w, { threads });
    ts.push(performance.now() - t);
  }
  return { ms: median(ts), firstMs };
}

function torch(extra = []) {
  const r = spawnSync(a.python, [path.join(here, 'fast_torch.py'), '--model', a.model, '--threads', String(threads), ...extra], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`fast_torch.py failed: ${r.stderr || r.error}`);
  return r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').pop()) : null;
}

const model = await loadFastModel(a.model);

// Same network? One 64x48 image through both.
{
  const [h, w] = [48, 64];
  const x = randomImage(1, h, w, 7);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-fastbench-'));
  fs.writeFileSync(path.join(tmp, 'in.f32'), Buffer.from(x.buffer));
  torch(['--check', path.join(tmp, 'in.f32'), String(h), String(w), path.join(tmp, 'out.f32')]);
  const b = fs.readFileSync(path.join(tmp, 'out.f32'));
  const ref = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  const y = await model.run(x, 1, h, w, { threads });
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i] - ref[i]));
  fs.rmSync(tmp, { recursive: true, force: true });
  console.error(`check: max |ours - torch| on ${w}x${h} = ${m.toExponential(2)} (0..255)`);
  if (!(m < 0.05)) throw new Error('the torch network and ours disagree');
}

const best = { ours: {}, torch: {} };
const keep = (k, key, v) => (best[k][key] = Math.min(best[k][key] ?? Infinity, v));
for (let round = 0; round < Number(a.rounds); round++) {
  for (const s of sizes) {
    const r = await ours(model, 1, s, s);
    keep('ours', s, r.ms);
    console.error(`ours  ${s}x${s}: ${r.ms.toFixed(0)} ms/image (first run incl. session build ${r.firstMs.toFixed(0)} ms)`);
  }
  const rb = await ours(model, batch, batchSize, batchSize);
  keep('ours', 'batch', rb.ms);
  console.error(`ours  batch ${batch}x${batchSize}px: ${rb.ms.toFixed(0)} ms, ${((batch * 1000) / rb.ms).toFixed(2)} images/s`);
  await model.release(); // free the large sessions before torch runs
  const t = torch(['--sizes', sizes.join(','), '--batch', String(batch), '--batch-size', String(batchSize), '--reps', String(reps)]);
  for (const s of sizes) keep('torch', s, t.ms_per_image[String(s)]);
  keep('torch', 'batch', t.batch.ms);
  best.torchVersion = t.torch;
  console.error(`torch ${JSON.stringify(t)}`);
}

const ortVersion = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const rows = [
  ...sizes.map((s) => [`ms per image, ${s}x${s}`, best.ours[s], best.torch[s]]),
  [`ms per batch of ${batch} at ${batchSize}x${batchSize}`, best.ours.batch, best.torch.batch],
];
console.log(`model ${path.basename(a.model)}, ${threads} threads, ${cpu} (${os.cpus().length} logical CPUs), onnxruntime-node ${ortVersion}, torch ${best.torchVersion}; median of ${reps} after a warm-up, best of ${a.rounds} round(s)\n`);
console.log('| | styleloom (onnxruntime) | PyTorch | ratio ours/torch |');
console.log('|---|---:|---:|---:|');
for (const [name, o, t] of rows) console.log(`| ${name} | ${o.toFixed(0)} | ${t.toFixed(0)} | ${(o / t).toFixed(2)} |`);
const ips = (ms) => ((batch * 1000) / ms).toFixed(2);
console.log(`| images/s, batch of ${batch} at ${batchSize}x${batchSize} | ${ips(best.ours.batch)} | ${ips(best.torch.batch)} | ${(best.torch.batch / best.ours.batch).toFixed(2)} (speed) |`);
