// One side of bench/train.mjs: styleloom's trainer as a user runs it (trainNetwork on the training photos, crops
// decoded ahead on other threads), timing each step (evaluation + Adam) after a warm-up. Prints one JSON line.
// Usage: node bench/train-child.mjs SIZE BATCH THREADS STEPS WARMUP IMAGES_DIR
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { trainNetwork } = await import(pathToFileURL(path.join(REPO, 'dist', 'src', 'train', 'train.js')).href);
const [size, batch, threads, steps, warmup] = process.argv.slice(2, 7).map(Number);
const images = process.argv[7];
const assets = path.join(REPO, '..', 'shared', 'assets');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-bench-train-'));
const ms = [];
try {
  await trainNetwork(
    {
      style: path.join(assets, 'images', 'starry_night.jpg'),
      images,
      out: path.join(dir, 'bench.safetensors'),
      weights: path.join(assets, 'models', 'vgg19-conv1_1-conv3_4.safetensors'),
      size, batch, threads, iters: warmup + steps, saveEvery: 0, cropScale: 0.4, styleWeight: 3,
    },
    { onProgress: (e) => e.iter > warmup && ms.push(e.ms), onWarning: () => undefined },
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const med = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
process.stdout.write(`${JSON.stringify({ peer: 'styleloom', size, batch, threads, ms_per_step: med, steps_ms: ms.map((v) => Math.round(v)), images_per_s: (batch * 1000) / med, max_rss_mb: process.resourceUsage().maxRSS / 1024 })}\n`);
