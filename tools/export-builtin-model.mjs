// Makes a built-in network from a styleloom train run: the F32 network file rounded to F16, with its model card
// (`builtin` metadata: name, painting, licence, training figures) and the licence field set. Usage:
//   node tools/export-builtin-model.mjs RUN.safetensors NAME [OUT]   (OUT default models/NAME.safetensors)
// The run must have been trained on the photos of models/training-set.json and one of the paintings below.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensors } from '../dist/src/model/safetensors-format.js';
import { encodeSafetensors } from '../dist/src/model/safetensors-write.js';
import { loadFastCheckpoint } from '../dist/src/fast/checkpoint.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const PAINTINGS = {
  'starry_night.jpg': { title: 'The Starry Night', artist: 'Vincent van Gogh, 1889' },
  'great_wave.jpg': { title: 'The Great Wave off Kanagawa', artist: 'Katsushika Hokusai, c. 1831' },
  'the_scream.jpg': { title: 'The Scream', artist: 'Edvard Munch, 1893' },
  'turner_shipwreck.jpg': { title: 'The Wreck of a Transport Ship', artist: 'J. M. W. Turner, c. 1810' },
  'udnie.jpg': { title: 'Udnie', artist: 'Francis Picabia, 1913' },
};

const [run, name, outArg] = process.argv.slice(2);
if (!run || !name) {
  process.stderr.write('usage: node tools/export-builtin-model.mjs RUN.safetensors NAME [OUT]\n');
  process.exit(2);
}
const out = outArg ?? path.join(root, 'models', `${name}.safetensors`);
const st = parseSafetensors(fs.readFileSync(run), run);
const meta = st.metadata;
const training = JSON.parse(meta.training);
const painting = PAINTINGS[meta.style_file];
if (!painting) throw new Error(`${run}: style ${meta.style_file} is not one of the public-domain paintings ${Object.keys(PAINTINGS).join(', ')}`);
// the run's photos must be exactly the recorded training set (same files, same bytes)
const set = JSON.parse(fs.readFileSync(path.join(root, 'models', 'training-set.json'), 'utf8'));
const want = new Map(set.photos.map((p) => [p.file, p.sha256]));
const used = JSON.parse(meta.training_set);
if (used.length !== want.size || used.some((p) => want.get(path.basename(p.file)) !== p.sha256)) {
  throw new Error(`${run}: its training photos are not those of models/training-set.json; train on the fetched set (node tools/fetch-training-photos.mjs)`);
}
const licences = [...new Set(set.photos.map((p) => p.licence))].join(', ');
const card = {
  name,
  style: meta.style_file,
  title: painting.title,
  artist: painting.artist,
  licence: `MIT (trained by styleloom). Style: ${painting.title}, ${painting.artist}, public domain. Training photos: the ${set.photos.length} Debian wallpapers of models/training-set.json (${licences}), each listed there with its copyright.`,
  trained: {
    iterations: training.iterations,
    seconds: training.seconds,
    imagesPerS: Number(((training.iterations * training.batch) / Math.max(training.seconds, 1)).toFixed(2)),
    size: training.size,
    batch: training.batch,
    machine: training.machine,
    photos: training.photos,
  },
};
const tensors = [...st.tensors].map(([n, t]) => ({ name: n, shape: t.shape, data: t.data, dtype: 'F16' }));
const tmp = `${out.replace(/\.safetensors$/, "")}.tmp-${process.pid}.safetensors`;
fs.writeFileSync(tmp, Buffer.concat(encodeSafetensors(tensors, { ...meta, licence: card.licence, builtin: JSON.stringify(card) })));
await loadFastCheckpoint(tmp); // it must load as a network
fs.renameSync(tmp, out);
const worst = [...st.tensors.values()].reduce((m, t) => Math.max(m, ...t.data.map(Math.abs)), 0);
process.stdout.write(`${out}: ${(fs.statSync(out).size / 1e6).toFixed(2)} MB, largest |weight| ${worst.toFixed(3)}; ${card.trained.iterations} steps in ${(card.trained.seconds / 60).toFixed(1)} min\n`);
