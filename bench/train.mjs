// Training benchmark: ms per training step (batch of crops through the network and the VGG loss, backward, Adam)
// of styleloom's trainer (bench/train-child.mjs: the real trainer on the training photos) against PyTorch training
// the same network with the same loss, batch and threads (bench/train_peer.py), alternating in the same run;
// peak memory of each process. Writes bench/results/train-<date>.json and prints a Markdown table for RESULTS-train.md.
//
// Usage: npm run build && node bench/train.mjs [--sizes 256,192] [--batch 4] [--threads 2] [--steps 5] [--warmup 2]
//          [--rounds 2] [--images DIR] [--python /usr/bin/python3]
//        node bench/train.mjs --from bench/results/train-DATE.json     (the table again, from a run's file)
// Each side's figure is the best of its rounds' medians (the rounds alternate which side goes first).
// DIR defaults to $STYLELOOM_TRAINING_PHOTOS, else ~/.cache/styleloom/training-photos (node tools/fetch-training-photos.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lastJson, runChild } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: a } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,192' },
    batch: { type: 'string', default: '4' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '2' },
    images: { type: 'string', default: process.env.STYLELOOM_TRAINING_PHOTOS ?? path.join(os.homedir(), '.cache', 'styleloom', 'training-photos') },
    python: { type: 'string', default: '/usr/bin/python3' },
    from: { type: 'string' },
  },
});

/** The Markdown table of a run's rows (each side: the best of its rounds' medians). */
function table(out) {
  const lines = [`machine: ${out.machine}; batch ${out.args.batch}, ${out.args.threads} threads, best of ${out.args.rounds} runs' medians of ${out.args.steps} steps after ${out.args.warmup} warm-up; torch ${out.torch}`, ''];
  lines.push('| crop | styleloom ms/step | PyTorch ms/step | peer/ours | styleloom images/s | PyTorch images/s | styleloom peak RSS | PyTorch peak RSS |', '|---|---|---|---|---|---|---|---|');
  for (const r of out.rows) {
    const best = (w) => Math.min(...r.runs[w].map((x) => x.ms_per_step));
    const rss = (w) => Math.max(...r.runs[w].map((x) => x.max_rss_mb));
    const [o, p] = [best('ours'), best('peer')];
    const b = Number(out.args.batch);
    lines.push(`| ${r.size} px | ${o.toFixed(0)} | ${p.toFixed(0)} | **${(p / o).toFixed(2)}×** | ${((b * 1000) / o).toFixed(2)} | ${((b * 1000) / p).toFixed(2)} | ${rss('ours').toFixed(0)} MB | ${rss('peer').toFixed(0)} MB |`);
  }
  return `${lines.join('\n')}\n`;
}
if (a.from) {
  process.stdout.write(table(JSON.parse(fs.readFileSync(a.from, 'utf8'))));
  process.exit(0);
}
if (!fs.existsSync(a.images)) {
  process.stderr.write(`bench/train: no training photos at ${a.images}; run node tools/fetch-training-photos.mjs ${a.images}\n`);
  process.exit(2);
}
const common = [a.batch, a.threads, a.steps, a.warmup];

async function side(which, size) {
  const [cmd, args] =
    which === 'ours'
      ? [process.execPath, [path.join(here, 'train-child.mjs'), String(size), ...common, a.images]]
      : [a.python, [path.join(here, 'train_peer.py'), '--size', String(size), '--batch', a.batch, '--threads', a.threads, '--steps', a.steps, '--warmup', a.warmup]];
  const r = await runChild(cmd, args, { timeoutMs: 30 * 60_000 });
  const j = lastJson(r.stdout);
  if (r.code !== 0 || !j) throw new Error(`${which} at ${size} px failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { ...j, max_rss_mb: r.maxRssKb ? r.maxRssKb / 1024 : j.max_rss_mb, wall_s: r.wallMs / 1000 };
}

const rows = [];
for (const size of a.sizes.split(',').map(Number)) {
  const runs = { ours: [], peer: [] };
  for (let k = 0; k < Number(a.rounds); k++) {
    for (const which of k % 2 ? ['peer', 'ours'] : ['ours', 'peer']) {
      const r = await side(which, size);
      runs[which].push(r);
      process.stderr.write(`${size} px ${which}: ${r.ms_per_step.toFixed(0)} ms/step (${r.steps_ms.join(', ')}), ${r.max_rss_mb.toFixed(0)} MB\n`);
    }
  }
  rows.push({ size, runs });
}
const cpu = os.cpus()[0]?.model ?? 'unknown';
const out = { date: new Date().toISOString(), machine: `${os.cpus().length} × ${cpu}`, args: a, torch: rows[0]?.runs.peer[0]?.torch, rows };
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', `train-${out.date.slice(0, 10)}.json`);
fs.writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
process.stdout.write(table(out));
process.stdout.write(`\n(${path.relative(path.join(here, '..'), file)})\n`);
