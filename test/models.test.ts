// The fast-style networks by name: the four built-in networks in models/ (listed by `styleloom models --json`,
// half precision, at most 3 MB, each runs in `styleloom fast --model <name>` and repaints the photo its own way), the
// catalogue's rules on a temporary folder (user networks, built-in cards, name clashes), and F16 against F32.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { findFastModel, listBuiltinModels, listFastModels, type BuiltinCard } from '../src/fast/catalog.js';
import { fastStylize } from '../src/fast/stylize-fast.js';
import { parseSafetensors } from '../src/model/safetensors-format.js';
import { architectureFor, initNetwork } from '../src/train/architecture.js';
import { DEFAULT_LICENCE, encodeNetworkFile, type NetworkInfo } from '../src/train/network-file.js';
import { Rng } from '../src/util/rng.js';
import { CHELSEA, IMAGES, runCli, showRun, tempDir } from './helpers/cli.js';
import { ROOT } from './helpers/fixtures.js';

const BUILTIN = ['great-wave', 'shipwreck', 'starry-night', 'the-scream'];
const dir = tempDir('styleloom-models-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('styleloom models --json lists the four built-in networks with their painting, licence and training figures', async () => {
  const r = await runCli(['models', '--json'], { env: { STYLELOOM_FAST_MODELS: undefined } });
  assert.equal(r.code, 0, showRun(r));
  const rows = JSON.parse(r.stdout) as { name: string; builtin: boolean; style: string; licence: string; trained: BuiltinCard['trained']; params: number; bytes: number; path: string }[];
  assert.deepEqual(rows.map((m) => m.name), BUILTIN);
  for (const m of rows) {
    assert.equal(m.builtin, true);
    assert.ok(fs.existsSync(path.join(IMAGES, m.style)), `${m.name}: its painting ${m.style} is one of the samples`);
    assert.match(m.licence, /^MIT .*public domain.*training-set\.json/);
    assert.ok(m.trained.iterations >= 100 && m.trained.seconds > 0 && m.trained.photos === 25, `${m.name}: ${JSON.stringify(m.trained)}`);
    assert.ok(m.bytes <= 3e6, `${m.name} is ${m.bytes} bytes`);
    const st = parseSafetensors(fs.readFileSync(m.path), m.path);
    assert.ok([...st.entries.values()].every((e) => e.dtype === 'F16'), `${m.name} is stored in half precision`);
    assert.equal(m.params, [...st.entries.values()].reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0));
    assert.equal(path.dirname(m.path), path.join(ROOT, 'models'));
  }
  const human = await runCli(['models']);
  assert.equal(human.code, 0, showRun(human));
  for (const n of BUILTIN) assert.match(human.stdout, new RegExp(`^${n}\\s+built-in`, 'm'));
});

test('each built-in network runs by name in styleloom fast and repaints the photo its own way', async () => {
  const outs: Buffer[] = [];
  for (const name of BUILTIN) {
    const out = path.join(dir, `${name}.png`);
    const r = await runCli(['fast', '--model', name, '--content', CHELSEA, '--size', '96', '--out', out], { env: { STYLELOOM_FAST_MODELS: undefined } });
    assert.equal(r.code, 0, showRun(r));
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [96, 64]);
    outs.push(data);
  }
  const photo = await sharp(CHELSEA).resize(96, 64, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const meanAbs = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
  for (let i = 0; i < outs.length; i++) {
    assert.ok(meanAbs(outs[i], photo) > 10, `${BUILTIN[i]} changes the photo`);
    for (let j = 0; j < i; j++) assert.ok(meanAbs(outs[i], outs[j]) > 10, `${BUILTIN[i]} and ${BUILTIN[j]} give different pictures`);
  }
});

function network(seed: number): { net: ReturnType<typeof initNetwork>; info: NetworkInfo } {
  const architecture = architectureFor('half', 'resize', 'reflect');
  const net = initNetwork(architecture, new Rng(seed));
  return { net, info: { architecture, training: { iterations: 0 }, style: { file: 'starry_night.jpg', sha256: '0'.repeat(64) }, manifest: [], licence: DEFAULT_LICENCE } };
}

const card = (name: string): BuiltinCard => ({
  name,
  style: 'starry_night.jpg',
  title: 'The Starry Night',
  artist: 'Vincent van Gogh, 1889',
  licence: 'MIT (test)',
  trained: { iterations: 1, seconds: 1, imagesPerS: 1, size: 32, batch: 1, machine: 'test', photos: 0 },
});

test('the catalogue: built-in files need a card naming them; user folders give model folders and network files; a user network shadows a built-in name', async () => {
  const builtinDir = path.join(dir, 'builtin');
  const userDir = path.join(dir, 'user');
  fs.mkdirSync(builtinDir);
  fs.mkdirSync(path.join(userDir, 'folder-net'), { recursive: true });
  const { net, info } = network(1);
  const write = (file: string, extra?: Record<string, string>) => fs.writeFileSync(file, Buffer.concat(encodeNetworkFile(net, info, { dtype: 'F16', extra })));
  write(path.join(builtinDir, 'alpha.safetensors'), { builtin: JSON.stringify(card('alpha')) });
  write(path.join(builtinDir, 'beta.safetensors'), { builtin: JSON.stringify(card('beta')) });
  write(path.join(builtinDir, 'no-card.safetensors'));
  write(path.join(builtinDir, 'wrong-name.safetensors'), { builtin: JSON.stringify(card('other')) });
  fs.writeFileSync(path.join(builtinDir, 'broken.safetensors'), 'not a network');
  fs.writeFileSync(path.join(userDir, 'folder-net', 'manifest.json'), '{}');
  write(path.join(userDir, 'beta.safetensors'));
  write(path.join(userDir, 'mine.safetensors'));
  write(path.join(userDir, 'mine.ckpt.safetensors'));
  assert.deepEqual((await listBuiltinModels(builtinDir)).map((m) => m.name), ['alpha', 'beta']);
  const all = await listFastModels(userDir, builtinDir);
  assert.deepEqual(all.map((m) => `${m.name}:${m.builtin}`), ['alpha:true', 'beta:false', 'folder-net:false', 'mine:false']);
  assert.equal(all.find((m) => m.name === 'beta')!.path, path.join(userDir, 'beta.safetensors'));
  assert.equal((await findFastModel('../etc', userDir)), undefined);
  // a user network file runs by name through $STYLELOOM_FAST_MODELS
  const r = await runCli(['fast', '--model', 'mine', '--content', CHELSEA, '--size', '32', '--out', path.join(dir, 'mine.png')], { env: { STYLELOOM_FAST_MODELS: userDir } });
  assert.equal(r.code, 0, showRun(r));
  const bad = await runCli(['fast', '--model', 'nope', '--content', CHELSEA, '--size', '32', '--out', path.join(dir, 'nope.png')], { env: { STYLELOOM_FAST_MODELS: userDir } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /nope: no such model directory, network file or network name .*the networks by name: .*mine/);
  assert.ok(!fs.existsSync(path.join(dir, 'nope.png')));
});

test('a network stored in half precision repaints within 2 grey levels of its float32 original', async () => {
  const { net, info } = network(2);
  const f32 = path.join(dir, 'n32.safetensors');
  const f16 = path.join(dir, 'n16.safetensors');
  fs.writeFileSync(f32, Buffer.concat(encodeNetworkFile(net, info)));
  fs.writeFileSync(f16, Buffer.concat(encodeNetworkFile(net, info, { dtype: 'F16' })));
  assert.ok(fs.statSync(f16).size < 0.55 * fs.statSync(f32).size);
  const [a, b] = [await fastStylize(CHELSEA, f32, { size: 64 }), await fastStylize(CHELSEA, f16, { size: 64 })];
  let worst = 0;
  let changed = 0;
  for (let i = 0; i < a.data.length; i++) {
    worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]));
    if (a.data[i] !== b.data[i]) changed++;
  }
  assert.ok(worst <= 2, `largest difference ${worst} grey levels`);
  assert.ok(changed > 0, 'the rounding to half precision shows somewhere');
});
