// Quality of the built-in networks (issue goal: on photos they never saw, the network's output has at most a third
// of the photo's own style loss): for each network and each held-out photo, `styleloom score` terms (content and
// style loss against the photo and the network's painting) of the photo itself, of the network's output, and of
// 200 iterations of the optimisation mode (for --opt photos); fast-mode time per image; each network's instability.
// The gallery of the README is `styleloom grid --mode fast` (its command is in RESULTS-train.md).
//
// Usage: npm run build && node bench/train-quality.mjs [--size 256] [--photos astronaut.png,chelsea.png,coffee.png,rocket.jpg]
//          [--opt chelsea.png,astronaut.png] [--opt-iters 200] [--threads 2] [--dir DIR] [--only NAME,...]
// --dir adds the networks in a folder (network files of your own training; their painting from the file's record),
// --only measures just the named networks, --opt '' skips the optimisation runs.
// Writes bench/results/train-quality-<date>[-N].json and prints the Markdown tables for RESULTS-train.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const dist = (p) => import(pathToFileURL(path.join(REPO, 'dist', 'src', p)).href);
const { listBuiltinModels, listFolderModels, summarizeFastModel } = await dist('fast/catalog.js');
const { fastStylize, loadFastModel } = await dist('fast/stylize-fast.js');
const { scoreImage } = await dist('transfer/score.js');
const { stylize } = await dist('transfer/stylize.js');
const { readImage, resizeLongSide } = await dist('image/io.js');
const { loadFastCheckpoint } = await dist('fast/checkpoint.js');
const { measureInstability } = await dist('train/stability.js');

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    photos: { type: 'string', default: 'astronaut.png,chelsea.png,coffee.png,rocket.jpg' },
    opt: { type: 'string', default: 'chelsea.png,astronaut.png' },
    'opt-iters': { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
    dir: { type: 'string' },
    only: { type: 'string' },
  },
});
const IMAGES = path.join(REPO, '..', 'shared', 'assets', 'images');
const weights = path.join(REPO, '..', 'shared', 'assets', 'models', 'vgg19-conv1_1-conv3_4.safetensors');
const size = Number(a.size);
const threads = Number(a.threads);
// the loss the networks were trained with: content conv3_2, style conv1_1/conv2_1/conv3_1 (the partial weights' defaults)
const lossOpts = { size, weights, threads, contentLayers: ['conv3_2'], styleLayers: ['conv1_1', 'conv2_1', 'conv3_1'] };
const score = async (photo, style, image) => (await scoreImage({ ...lossOpts, content: photo, styles: [style], image })).loss;

const sharp = (await import('sharp')).default;

/** The photos as centre square crops of `side` px, planar RGB 0..255 ([n, 3, side, side]). */
async function squareCrops(files, side) {
  const out = new Float32Array(files.length * 3 * side * side);
  for (const [k, f] of files.entries()) {
    const rgb = await sharp(path.join(IMAGES, f)).removeAlpha().resize(side, side, { fit: 'cover' }).raw().toBuffer();
    for (let i = 0; i < side * side; i++) for (let c = 0; c < 3; c++) out[(k * 3 + c) * side * side + i] = rgb[3 * i + c];
  }
  return out;
}

const only = a.only ? new Set(a.only.split(',')) : null;
const models = [...(await listBuiltinModels()), ...(a.dir ? await listFolderModels(a.dir) : [])].filter((m) => !only || only.has(m.name));
if (models.length === 0) throw new Error(only ? `none of ${a.only} is a built-in network${a.dir ? ` or in ${a.dir}` : ''}` : 'no built-in networks in models/');
for (const m of models) {
  m.styleFile = m.card?.style ?? (await summarizeFastModel(m)).style;
  if (!m.styleFile) throw new Error(`${m.path} does not record the painting it was trained on`);
}
const photos = a.photos.split(',');
const rows = [];
// each network's instability: mean squared change of its output (0..255) when its input gets noise of 8 grey levels
// (what --stability-weight trains down), on the photos' centre crops at 192 px, the training size
const crops = await squareCrops(photos, 192);
const instability = {};
for (const m of models) instability[m.name] = await measureInstability(await loadFastCheckpoint(m.path), crops, 192, 8, 1, { threads });
for (const m of models) {
  const style = path.join(IMAGES, m.styleFile);
  const net = await loadFastModel(m.path);
  for (const p of photos) {
    const photo = await resizeLongSide(await readImage(path.join(IMAGES, p)), size);
    const t = performance.now();
    const out = await fastStylize(photo, net, { threads });
    const fastMs = performance.now() - t;
    const own = await score(photo, style, photo);
    const got = await score(photo, style, out);
    const row = { network: m.name, photo: p, own, network_out: got, style_ratio: got.style / own.style, fast_ms: fastMs };
    if (a.opt.split(',').includes(p)) {
      const t1 = performance.now();
      const r = await stylize({ ...lossOpts, content: photo, styles: [style], iters: Number(a['opt-iters']) });
      row.optimised = await score(photo, style, r.image);
      row.opt_s = (performance.now() - t1) / 1000;
    }
    rows.push(row);
    process.stderr.write(`${m.name} on ${p}: style ${got.style.toExponential(3)} vs the photo's ${own.style.toExponential(3)} (${row.style_ratio.toFixed(3)}), content ${got.content.toExponential(3)}${row.optimised ? `; ${a['opt-iters']} optimisation iterations: style ${row.optimised.style.toExponential(3)}, content ${row.optimised.content.toExponential(3)} in ${row.opt_s.toFixed(0)} s` : ''}\n`);
  }
  await net.release?.();
}

const out = { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`, args: a, rows, instability };
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
let file = path.join(here, 'results', `train-quality-${out.date.slice(0, 10)}.json`);
for (let k = 2; fs.existsSync(file); k++) file = path.join(here, 'results', `train-quality-${out.date.slice(0, 10)}-${k}.json`);
fs.writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
const e = (v) => v.toExponential(2);
process.stdout.write(`| network | photo | photo's own style | network's style | ratio | network's content | ${a['opt-iters']} optimisation iterations: style / content | fast ms |\n|---|---|---|---|---|---|---|---|\n`);
for (const r of rows) process.stdout.write(`| ${r.network} | ${r.photo} | ${e(r.own.style)} | ${e(r.network_out.style)} | **${r.style_ratio.toFixed(3)}** | ${e(r.network_out.content)} | ${r.optimised ? `${e(r.optimised.style)} / ${e(r.optimised.content)} (${r.opt_s.toFixed(0)} s)` : '–'} | ${r.fast_ms.toFixed(0)} |\n`);
process.stdout.write(`\n| network | instability: mean (f(x + noise) − f(x))², noise 8 grey levels |\n|---|---|\n`);
for (const m of models) process.stdout.write(`| ${m.name} | ${instability[m.name].toFixed(1)} |\n`);
process.stdout.write(`\n(${path.relative(REPO, file)})\n`);
