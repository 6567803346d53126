// Video style transfer: seconds per frame in both modes at each size (the optical flow's share split
// out), and flicker as the independent warping error of Lai et al. 2018 (../shared/metrics/warp_error.py:
// DIS flow on the input, occlusions masked) for temporal consistency against independent frames.
// Not part of npm test; run it on an idle machine.
//
//   node bench/video.mjs --clip CLIP.mp4 --style STYLE.jpg [--sizes 256,512] [--modes gatys,fast] [--duration 4] [--iters 300 --frame-iters 100] [--model starry-night] [--flow-scale 0.5] [--threads 2] [--markdown]
// The real clip: bench/fetch-clip.sh (vtest.avi, people walking); --model is a built-in network's name or a folder in $STYLELOOM_FAST_MODELS.
//   node bench/video.mjs --quick     # a smoke test: a synthetic camera pan over a photo, 48 px, 4 frames
//
// The flicker columns need /usr/bin/python3 with OpenCV and numpy (Debian: python3-opencv python3-numpy).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { lastJson, runChild } from './proc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(ROOT, '..', 'shared');
const METRIC = path.join(SHARED, 'metrics', 'warp_error.py');
const PY = '/usr/bin/python3';
const BIN = path.join(ROOT, 'bin', 'styleloom.js');

function parseArgs(argv) {
  const a = { sizes: '256,512', modes: 'gatys,fast', iters: 300, 'frame-iters': 100, model: 'starry-night', threads: 2, style: path.join(SHARED, 'assets', 'images', 'starry_night.jpg') };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (['quick', 'markdown'].includes(k)) a[k] = true;
    else a[k] = argv[++i];
  }
  if (a.quick) Object.assign(a, { sizes: '48', iters: 6, 'frame-iters': 2, threads: 1 });
  return a;
}

/** --quick's clip: a camera panning 40 px/s over chelsea.png, 160x120, 10 fps, 0.4 s. */
async function syntheticClip(dir) {
  const { ffmpegPath } = await import(path.join(ROOT, 'dist', 'src', 'media', 'ffmpeg.js'));
  const out = path.join(dir, 'pan.mp4');
  const photo = path.join(SHARED, 'assets', 'images', 'chelsea.png');
  const r = spawnSync(ffmpegPath(), ['-v', 'error', '-y', '-loop', '1', '-i', photo, '-vf', "crop=160:120:x='20+t*40':y=40", '-t', '0.4', '-r', '10', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-qp', '0', out]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return out;
}

const hasMetric = () => fs.existsSync(METRIC) && spawnSync(PY, ['-c', 'import cv2, numpy'], { stdio: 'ignore' }).status === 0;

function warpError(input, output) {
  const r = spawnSync(PY, [METRIC, input, output], { encoding: 'utf8', timeout: 600_000 });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
  }
}

async function run(a, flags, out) {
  const args = [BIN, 'video', ...flags, '--threads', String(a.threads), '--out', out, '--json'];
  const r = await runChild(process.execPath, args, { timeoutMs: 6 * 3600_000 });
  const j = r.code === 0 ? lastJson(r.stdout) : null;
  if (!j) throw new Error(`styleloom video failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  return { ...j, wallMs: r.wallMs, maxRssKb: r.maxRssKb, cmd: `node bin/styleloom.js video ${flags.join(' ')} --threads ${a.threads} --out ${path.basename(out)} --json` };
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'styleloom-bench-video-'));
  const clip = a.clip ?? (a.quick ? await syntheticClip(dir) : null);
  if (!clip) throw new Error('give --clip <video> (a real clip with people or camera motion), or --quick');
  const part = a.duration ? ['--duration', String(a.duration)] : [];
  const weights = a.weights ?? process.env.STYLELOOM_WEIGHTS ?? path.join(SHARED, 'assets', 'models', 'vgg19-conv1_1-conv3_4.safetensors');
  const models = process.env.STYLELOOM_FAST_MODELS ?? path.join(SHARED, 'assets', 'fast-style');
  const metric = hasMetric();
  const rows = [];
  for (const size of String(a.sizes).split(',').map(Number)) {
    const common = ['--content', clip, '--size', String(size), ...part, ...(a['flow-scale'] ? ['--flow-scale', String(a['flow-scale'])] : [])];
    const modes = {
      gatys: [...common, '--style', a.style, '--weights', weights, '--iters', String(a.iters), '--frame-iters', String(a['frame-iters'])],
      fast: [...common, '--mode', 'fast', '--model', fs.existsSync(path.join(models, a.model)) ? path.join(models, a.model) : a.model],
    };
    for (const [mode, flags] of Object.entries(modes).filter(([m]) => String(a.modes).split(',').includes(m))) {
      const results = {};
      for (const temporal of [true, false]) {
        const out = path.join(dir, `${mode}-${size}-${temporal ? 'temporal' : 'independent'}.mp4`);
        const r = await run(a, temporal ? flags : [...flags, '--no-temporal'], out);
        r.metric = metric ? warpError(clip, out) : null;
        results[temporal ? 'temporal' : 'independent'] = r;
        process.stderr.write(`${mode} ${size} px ${temporal ? 'temporal' : 'independent'}: ${r.s_per_frame} s/frame (flow ${r.flow_ms_per_frame} ms)${r.metric ? `, warp error ${r.metric.warp_error ?? r.metric.error}` : ''}\n`);
      }
      rows.push({ mode, size, ...results });
    }
  }
  const removed = (r) => {
    const t = r.temporal.metric;
    const i = r.independent.metric;
    if (!t?.warp_error || !i?.warp_error) return '';
    const added = i.warp_error - i.input_warp_error;
    return added > 0 ? `${Math.round((100 * (i.warp_error - t.warp_error)) / added)}%` : 'n/a';
  };
  const lines = [
    '| mode | size | frames | s/frame temporal | flow ms/frame | s/frame independent | warp error temporal | independent | input | flicker removed |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const t = r.temporal;
      const i = r.independent;
      const e = (x) => (x?.warp_error !== undefined ? x.warp_error.toExponential(2) : '');
      return `| ${r.mode} | ${t.width}x${t.height} | ${t.frames} | ${t.s_per_frame.toFixed(3)} | ${t.flow_ms_per_frame.toFixed(1)} | ${i.s_per_frame.toFixed(3)} | ${e(t.metric)} | ${e(i.metric)} | ${t.metric?.input_warp_error?.toExponential(2) ?? ''} | ${removed(r)} |`;
    }),
  ];
  if (!metric) lines.push('', `(no flicker columns: ${PY} lacks OpenCV/numpy for ${path.relative(ROOT, METRIC)})`);
  lines.push('', 'Commands:', '', ...rows.flatMap((r) => [r.temporal.cmd, r.independent.cmd]).map((c) => `    ${c}`));
  process.stdout.write(`${a.markdown ? lines.join('\n') : JSON.stringify(rows, null, 1)}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  process.stderr.write(`bench/video.mjs: ${e.message}\n`);
  process.exit(1);
});
