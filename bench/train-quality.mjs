// Quality of the built-in networks (issue goal: on photos they never saw, the network's output has at most a third
// of the photo's own style loss): for each network and each held-out photo, `styleloom score` terms (content and
// style loss against the photo and the network's painting) of the photo itself, of the network's output, and of
// 200 iterations of the optimisation mode (for --opt photos); fast-mode time per image. Also writes a gallery sheet.
//
// Usage: npm run build && node bench/train-quality.mjs [--size 256] [--photos astronaut.png,chelsea.png,coffee.png,rocket.jpg]
//          [--opt chelsea.png,astronaut.png] [--opt-iters 200] [--threads 2] [--gallery docs/builtin-styles.png]
// Writes bench/results/train-quality-<date>.json and prints the Markdown tables for RESULTS-train.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '..');
const dist = (p) => import(pathToFileURL(path.join(REPO, 'dist', 'src', p)).href);
const { listBuiltinModels } = await dist('fast/catalog.js');
const { fastStylize, loadFastModel } = await dist('fast/stylize-fast.js');
const { scoreImage } = await dist('transfer/score.js');
const { stylize } = await dist('transfer/stylize.js');
const { readImage, resizeLongSide, writeImage } = await dist('image/io.js');

const { values: a } = parseArgs({
  options: {
    size: { type: 'string', default: '256' },
    photos: { type: 'string', default: 'astronaut.png,chelsea.png,coffee.png,rocket.jpg' },
    opt: { type: 'string', default: 'chelsea.png,astronaut.png' },
    'opt-iters': { type: 'string', default: '200' },
    threads: { type: 'string', default: '2' },
    gallery: { type: 'string', default: path.join(REPO, 'docs', 'builtin-styles.png') },
  },
});
const IMAGES = path.join(REPO, '..', 'shared', 'assets', 'images');
const weights = path.join(REPO, '..', 'shared', 'assets', 'models', 'vgg19-conv1_1-conv3_4.safetensors');
const size = Number(a.size);
const threads = Number(a.threads);
// the loss the networks were trained with: content conv3_2, style conv1_1/conv2_1/conv3_1 (the partial weights' defaults)
const lossOpts = { size, weights, threads, contentLayers: ['conv3_2'], styleLayers: ['conv1_1', 'conv2_1', 'conv3_1'] };
const score = async (photo, style, image) => (await scoreImage({ ...lossOpts, content: photo, styles: [style], image })).loss;

const models = await listBuiltinModels();
if (models.length === 0) throw new Error('no built-in networks in models/');
const photos = a.photos.split(',');
const rows = [];
const cells = []; // gallery: one row per photo, one column per network
for (const m of models) {
  const style = path.join(IMAGES, m.card.style);
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
    cells.push({ photo: p, network: m.name, image: out });
    process.stderr.write(`${m.name} on ${p}: style ${got.style.toExponential(3)} vs the photo's ${own.style.toExponential(3)} (${row.style_ratio.toFixed(3)}), content ${got.content.toExponential(3)}${row.optimised ? `; ${a['opt-iters']} optimisation iterations: style ${row.optimised.style.toExponential(3)}, content ${row.optimised.content.toExponential(3)} in ${row.opt_s.toFixed(0)} s` : ''}\n`);
  }
  await net.release?.();
}

// the gallery: photos down, the original then each network across, cells of the output's size (long side `size`)
const sharp = (await import('sharp')).default;
const cellW = size;
const cellH = Math.round((size * 2) / 3);
const tile = async (img) => sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } }).resize(cellW, cellH, { fit: 'cover' }).png().toBuffer();
const comps = [];
for (const [r, p] of photos.entries()) {
  comps.push({ input: await tile(await resizeLongSide(await readImage(path.join(IMAGES, p)), size)), left: 0, top: r * (cellH + 4) });
  for (const [c, m] of models.entries()) comps.push({ input: await tile(cells.find((x) => x.photo === p && x.network === m.name).image), left: (c + 1) * (cellW + 4), top: r * (cellH + 4) });
}
const sheetW = (models.length + 1) * (cellW + 4) - 4;
const sheetH = photos.length * (cellH + 4) - 4;
fs.mkdirSync(path.dirname(a.gallery), { recursive: true });
await sharp({ create: { width: sheetW, height: sheetH, channels: 3, background: '#ffffff' } }).composite(comps).png({ palette: true, colours: 256 }).toFile(a.gallery);

const out = { date: new Date().toISOString(), machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`, args: a, rows };
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', `train-quality-${out.date.slice(0, 10)}.json`);
fs.writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
const e = (v) => v.toExponential(2);
process.stdout.write(`| network | photo | photo's own style | network's style | ratio | network's content | ${a['opt-iters']} optimisation iterations: style / content | fast ms |\n|---|---|---|---|---|---|---|---|\n`);
for (const r of rows) process.stdout.write(`| ${r.network} | ${r.photo} | ${e(r.own.style)} | ${e(r.network_out.style)} | **${r.style_ratio.toFixed(3)}** | ${e(r.network_out.content)} | ${r.optimised ? `${e(r.optimised.style)} / ${e(r.optimised.content)} (${r.opt_s.toFixed(0)} s)` : '–'} | ${r.fast_ms.toFixed(0)} |\n`);
process.stdout.write(`\n(${path.relative(REPO, file)}, gallery ${path.relative(REPO, a.gallery)})\n`);
