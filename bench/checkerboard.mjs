// The fine grid of stride-2 upsampling, measured: how far the spectral power of an image's luma on the Nyquist lines
// (where a period-2 pattern puts its power) stands above the lines next to them (gridPeak: about 1 for a smooth
// spectrum); for each photo itself, the demo networks (transposed convs) and the built-in networks (resize-conv).
//
// Usage: npm run build && node bench/checkerboard.mjs [--size 512] [--photos chelsea.png,astronaut.png,coffee.png,rocket.jpg]
//          [--nets A.safetensors,B.safetensors]
// The demo networks are read from $STYLELOOM_FAST_MODELS, else ../shared/assets/fast-style (never copied here).
// --nets measures just these network files of styleloom train (their upsampling read from the file) instead.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(path.join(REPO, 'dist', 'src', p)).href);
const { listBuiltinModels } = await dist('fast/catalog.js');
const { readSafetensors } = await dist('model/safetensors.js');
const { fastStylize, loadFastModel } = await dist('fast/stylize-fast.js');
const { readImage, resizeLongSide } = await dist('image/io.js');

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '512' },
    photos: { type: 'string', default: 'chelsea.png,astronaut.png,coffee.png,rocket.jpg' },
    threads: { type: 'string', default: '2' },
    nets: { type: 'string' },
  },
});
const IMAGES = path.join(REPO, '..', 'shared', 'assets', 'images');
const DEMO = process.env.STYLELOOM_FAST_MODELS ?? path.join(REPO, '..', 'shared', 'assets', 'fast-style');

/** Power of `y` (W x H, row-major) summed over the frequency line at vertical frequency v (all horizontal ones). */
function linePower(y, W, H, v) {
  const zr = new Float64Array(W);
  const zi = new Float64Array(W);
  for (let r = 0; r < H; r++) {
    const t = (-2 * Math.PI * v * r) / H;
    const [c0, s0] = [Math.cos(t), Math.sin(t)];
    for (let c = 0; c < W; c++) {
      zr[c] += c0 * y[r * W + c];
      zi[c] += s0 * y[r * W + c];
    }
  }
  let power = 0;
  for (let u = 0; u < W; u++) {
    let re = 0;
    let im = 0;
    for (let c = 0; c < W; c++) {
      const t = (-2 * Math.PI * u * c) / W;
      const [co, si] = [Math.cos(t), Math.sin(t)];
      re += zr[c] * co - zi[c] * si;
      im += zr[c] * si + zi[c] * co;
    }
    power += re * re + im * im;
  }
  return power;
}

/**
 * How much a period-2 grid stands out in `img`'s luma: the spectral power on the Nyquist line (vertical frequency
 * H/2, every horizontal one) over the mean of the three lines below it, and the same across (W/2); the mean of the
 * two. A smooth spectrum gives about 1; a fine grid, more. Even sides (cropped to them).
 */
export function gridPeak(img) {
  const W = img.width - (img.width % 2);
  const H = img.height - (img.height % 2);
  const y = new Float64Array(W * H);
  const yt = new Float64Array(W * H);
  for (let r = 0; r < H; r++)
    for (let c = 0; c < W; c++) {
      const i = 3 * (r * img.width + c);
      y[r * W + c] = yt[c * H + r] = 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
    }
  const peak = (im, w, h) => linePower(im, w, h, h / 2) / ([1, 2, 3].reduce((s, d) => s + linePower(im, w, h, h / 2 - d), 0) / 3);
  return (peak(y, W, H) + peak(yt, H, W)) / 2;
}

const size = Number(a.size);
const photos = a.photos.split(',');
/** A network file's upsampling, from the architecture its training recorded. */
async function upsampleOf(file) {
  const arch = JSON.parse((await readSafetensors(file, { include: () => false })).metadata.architecture ?? '{}');
  return arch.upsample === 'resize' ? 'resize-conv' : arch.upsample === 'transposed' ? 'transposed conv' : 'unknown';
}

const nets = a.nets
  ? await Promise.all(a.nets.split(',').map(async (f) => ({ name: path.basename(f).replace(/\.safetensors$/, ''), kind: `given (${await upsampleOf(f)})`, path: path.resolve(f) })))
  : [
      ...fs.readdirSync(DEMO).filter((d) => fs.existsSync(path.join(DEMO, d, 'manifest.json'))).map((d) => ({ name: d, kind: 'demo (transposed conv)', path: path.join(DEMO, d) })),
      ...(await listBuiltinModels()).map((m) => ({ name: m.name, kind: 'built-in (resize-conv)', path: m.path })),
    ];
const rows = [];
const inputs = await Promise.all(photos.map(async (p) => resizeLongSide(await readImage(path.join(IMAGES, p)), size)));
rows.push({ name: 'the photo itself', kind: 'input', shares: inputs.map(gridPeak) });
for (const n of nets) {
  const model = await loadFastModel(n.path);
  const shares = [];
  for (const img of inputs) shares.push(gridPeak(await fastStylize(img, model, { threads: Number(a.threads) })));
  await model.release();
  rows.push({ ...n, shares });
  process.stderr.write(`${n.name}: ${shares.map((s) => s.toExponential(2)).join(' ')}\n`);
}
const e = (v) => v.toFixed(2);
process.stdout.write(`| network | upsampling | ${photos.join(' | ')} | mean |\n|---|---|${photos.map(() => '---|').join('')}---|\n`);
for (const r of rows) process.stdout.write(`| ${r.name} | ${r.kind} | ${r.shares.map(e).join(' | ')} | **${e(r.shares.reduce((s, v) => s + v, 0) / r.shares.length)}** |\n`);
