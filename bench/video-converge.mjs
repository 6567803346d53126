// Do frames after the first converge in a third of the first frame's iterations? Optimisation mode on a real
// clip, two runs through the library: temporally consistent (each later frame warm-started from the warped
// previous result, --frame-iters iterations) and independent (every frame from its content, --iters). Per later
// frame: the image loss (content + style + tv; the temporal term left out) each run reaches, best so far, and
// the iteration at which the warm-started frame first gets to the independent frame's final loss.
// Not part of npm test; run it on an idle machine.
//
//   npm run build && node bench/video-converge.mjs --clip ~/.cache/styleloom/clips/vtest.avi [--size 256]
//       [--duration 0.6] [--iters 150] [--frame-iters 50] [--style STYLE.jpg] [--threads 2] [--markdown]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const { stylizeVideo } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'video', 'stylize-video.js')).href);

function parseArgs(argv) {
  const a = { size: 256, duration: 0.6, iters: 150, 'frame-iters': 50, threads: 2, style: path.join(SHARED, 'assets', 'images', 'starry_night.jpg') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (k === 'markdown') a.markdown = true;
    else a[k] = argv[++i];
  }
  if (!a.clip) throw new Error('give --clip <video> (bench/fetch-clip.sh fetches the real one)');
  return a;
}

/** Runs the clip; returns per frame the image loss after each iteration (best so far) and the run's wall time. */
async function run(a, temporal, out) {
  const curves = new Map();
  const t0 = performance.now();
  const r = await stylizeVideo(
    {
      content: a.clip, styles: [a.style], out, size: Number(a.size), duration: Number(a.duration), iters: Number(a.iters), frameIters: Number(a['frame-iters']),
      temporal, threads: Number(a.threads), weights: a.weights ?? process.env.STYLELOOM_WEIGHTS ?? path.join(SHARED, 'assets', 'models', 'vgg19-conv1_1-conv3_4.safetensors'),
    },
    {
      onProgress: (e) => {
        if (e.phase !== 'iter') return;
        const c = curves.get(e.frame) ?? [];
        // the loss reported with iteration k is that of the iterate the k-th step starts from; best so far
        const image = e.loss.content + e.loss.style + e.loss.tv;
        c.push(Math.min(image, c.length ? c[c.length - 1] : Infinity));
        curves.set(e.frame, c);
      },
    },
  );
  return { curves, wallS: (performance.now() - t0) / 1000, frames: r.frames, width: r.width, height: r.height };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-bench-converge-'));
  try {
    const warm = await run(a, true, path.join(dir, 'temporal.mp4'));
    process.stderr.write(`temporal: ${warm.frames} frames in ${warm.wallS.toFixed(0)} s\n`);
    const cold = await run(a, false, path.join(dir, 'independent.mp4'));
    process.stderr.write(`independent: ${cold.frames} frames in ${cold.wallS.toFixed(0)} s\n`);
    const rows = [];
    for (let f = 2; f <= warm.frames; f++) {
      const w = warm.curves.get(f);
      const c = cold.curves.get(f);
      const target = c[c.length - 1];
      const reached = w.findIndex((v) => v <= target);
      const coldReach = c.findIndex((v) => v <= w[w.length - 1]);
      rows.push({ frame: f, warmIters: w.length, warmStart: w[0], warmFinal: w[w.length - 1], coldIters: c.length, coldStart: c[0], coldFinal: target, ratio: w[w.length - 1] / target, reachedAt: reached < 0 ? null : reached + 1, coldReachesWarmAt: coldReach < 0 ? null : coldReach + 1 });
    }
    const first = warm.curves.get(1);
    const summary = {
      clip: path.basename(a.clip), size: `${warm.width}x${warm.height}`, iters: Number(a.iters), frameIters: Number(a['frame-iters']), firstFrameFinal: first[first.length - 1],
      meanRatio: rows.reduce((s, r) => s + r.ratio, 0) / rows.length, maxRatio: Math.max(...rows.map((r) => r.ratio)), reachedAll: rows.every((r) => r.reachedAt !== null),
    };
    if (!a.markdown) {
      process.stdout.write(`${JSON.stringify({ summary, rows })}\n`);
      return;
    }
    const e = (x) => x.toExponential(3);
    const lines = [
      `${summary.clip} at ${summary.size}: first frame ${summary.iters} iterations; later frames ${summary.frameIters} warm-started (temporal) against ${summary.iters} from the content (independent)`,
      '',
      '| frame | warm start: loss at iteration 1 | best of ' + summary.frameIters + ' | independent: at iteration 1 | best of ' + summary.iters + ' | warm / independent | warm reaches the independent final at | independent reaches the warm final at |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.frame} | ${e(r.warmStart)} | ${e(r.warmFinal)} | ${e(r.coldStart)} | ${e(r.coldFinal)} | ${r.ratio.toFixed(3)} | ${r.reachedAt ?? `not within ${r.warmIters}`} | ${r.coldReachesWarmAt ?? `not within ${r.coldIters}`} |`),
      '',
      `mean warm/independent ${summary.meanRatio.toFixed(3)}, worst ${summary.maxRatio.toFixed(3)}; image loss = content + style + tv (temporal term left out), best of the iterates the steps start from (the same in both runs)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`bench/video-converge.mjs: ${e.message}\n`);
  process.exit(1);
});
