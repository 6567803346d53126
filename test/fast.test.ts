// Fast mode: the network against the independent numpy reference (../shared/assets/tools), the
// checkpoint loader on corrupt folders, the library API (sizes, batches, colours), `styleloom fast`, and
// the sub-pixel form of the upsampling layers (subpixelWeight) against the transposed conv.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadFastCheckpoint, FAST_LAYERS, variableName } from '../src/fast/checkpoint.js';
import { buildFastGraph, bareOutputSide, subpixelWeight } from '../src/fast/network.js';
import { fastStylize, fastStylizeBatch, loadFastModel, type LoadedFastModel } from '../src/fast/stylize-fast.js';
import { rgbToYcbcr } from '../src/image/color.js';
import { readImage, resizeTo } from '../src/image/io.js';
import type { RgbImage } from '../src/image/types.js';
import { Graph, numel } from '../src/graph/ir.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner } from '../src/runtime/session.js';
import { StyleloomError } from '../src/errors.js';
import { ASSETS, maxRelErr } from './helpers/fixtures.js';
import { CHELSEA, COFFEE, assertNoOutput, assertOneLineError, runCli, showRun, tempDir } from './helpers/cli.js';
import { randn } from './helpers/rand.js';

const MODELS = process.env.STYLELOOM_FAST_MODELS ?? path.join(ASSETS, 'fast-style');
const REFERENCE = path.join(ASSETS, 'tools', 'fast_style_numpy_reference.py');
const PYTHON = process.env.STYLELOOM_PYTHON ?? '/usr/bin/python3';

function numpySkipReason(): string | false {
  if (!fs.existsSync(path.join(MODELS, 'wave', 'manifest.json'))) return `no fast-style models in ${MODELS}`;
  if (!fs.existsSync(REFERENCE)) return `no numpy reference at ${REFERENCE}`;
  const r = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' });
  return r.status === 0 ? false : `${PYTHON} with numpy is not available (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
}

const toPlanar = (img: RgbImage) => {
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) out[c * hw + i] = img.data[3 * i + c];
  return out;
};

const readF32 = (file: string) => {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
};

interface RefJob {
  model: string;
  img: RgbImage;
  /** numpy-side padding of the input (reflect), [top, bottom, left, right]; the output is cropped back. */
  pad?: [number, number, number, number];
}

/** Runs the numpy reference `transform` on each job in one python process; returns planar float32 outputs. */
function numpyReference(jobs: RefJob[]): { data: Float32Array; shape: number[] }[] {
  const dir = tempDir('styleloom-fastref-');
  const spec = jobs.map((j, k) => {
    fs.writeFileSync(path.join(dir, `in${k}.u8`), j.img.data);
    return { model: path.join(MODELS, j.model), h: j.img.height, w: j.img.width, pad: j.pad ?? [0, 0, 0, 0], out: path.join(dir, `out${k}.f32`) };
  });
  fs.writeFileSync(path.join(dir, 'jobs.json'), JSON.stringify(spec));
  const script = `
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import fast_style_numpy_reference as ref
dirname = sys.argv[2]
for k, j in enumerate(json.load(open(dirname + '/jobs.json'))):
    x = np.fromfile('%s/in%d.u8' % (dirname, k), dtype=np.uint8).reshape(j['h'], j['w'], 3).astype(np.float32)
    t, b, l, r = j['pad']
    x = np.pad(x, ((t, b), (l, r), (0, 0)), mode='reflect')
    y = ref.transform(ref.load_checkpoint(j['model']), x)
    if t + b + l + r:
        y = y[t:t + j['h'], l:l + j['w'], :]
    np.ascontiguousarray(y.transpose(2, 0, 1), dtype='<f4').tofile(j['out'])
    print(json.dumps(list(y.shape)))
`;
  const r = spawnSync(PYTHON, ['-c', script, path.dirname(REFERENCE), dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `numpy reference failed: ${r.stderr}`);
  const shapes = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[]);
  return spec.map((s, k) => ({ data: readF32(s.out), shape: shapes[k] }));
}

describe('fast network against the numpy reference', { skip: numpySkipReason() }, () => {
  let chelsea: RgbImage;
  const models = new Map<string, LoadedFastModel>();
  const model = async (name: string) => {
    if (!models.has(name)) models.set(name, await loadFastModel(path.join(MODELS, name)));
    return models.get(name)!;
  };
  before(async () => {
    chelsea = await readImage(CHELSEA);
  });
  after(async () => {
    for (const m of models.values()) await m.release();
  });

  test('bare network (TF SAME padding, odd and even sides) matches to float32 precision', async (t) => {
    // H x W: 33 x 47 (odd -> 17 -> 9 -> 18 -> 36 and 47 -> 24 -> 12 -> 48), 40 x 64, and 30 x 50 (even -> odd);
    // upsampling as ONNX ConvTranspose (the default) and as sub-pixel convs
    const cases = [
      { model: 'wave', h: 33, w: 47 },
      { model: 'udnie', h: 40, w: 64 },
      { model: 'scream', h: 30, w: 50, upsample: 'subpixel' as const },
    ];
    const imgs = await Promise.all(cases.map((c) => resizeTo(chelsea, c.w, c.h)));
    const refs = numpyReference(cases.map((c, k) => ({ model: c.model, img: imgs[k] })));
    for (const [k, c] of cases.entries()) {
      const ck = (await model(c.model)).checkpoint;
      const { graph, input, output } = buildFastGraph(ck, { height: c.h, width: c.w, exactSize: false, upsample: 'upsample' in c ? c.upsample : undefined });
      assert.deepEqual(output.shape, [1, 3, bareOutputSide(c.h), bareOutputSide(c.w)]);
      assert.deepEqual(refs[k].shape, [bareOutputSide(c.h), bareOutputSide(c.w), 3]);
      const runner = await createRunner(toOnnx(graph), { threads: 2 });
      const out = (await runner.run({ image: { data: toPlanar(imgs[k]), dims: input.shape } }))[output.name];
      await runner.release();
      const err = maxAbs(out, refs[k].data);
      t.diagnostic(`${c.model} ${c.h}x${c.w} (${'upsample' in c ? c.upsample : 'convtranspose'}) -> ${output.shape.slice(2).join('x')}: max |ours - numpy| = ${err.toExponential(2)} (of 0..255)`);
      // outputs are 0..255; float32 through 16 conv + instance-norm layers agrees to ~1e-3
      assert.ok(err < 0.01, `${c.model} ${c.h}x${c.w}: max |ours - numpy| = ${err}`);
    }
  });

  test('fastStylize keeps the input size (reflect pad to a multiple of 4, crop) and rounds the reference output', async () => {
    const img = await resizeTo(chelsea, 47, 33);
    // 33 -> pad 1 + 2 rows, 47 -> pad 0 + 1 column (the split fastStylize uses)
    const [ref] = numpyReference([{ model: 'wave', img, pad: [1, 2, 0, 1] }]);
    const out = await fastStylize(img, await model('wave'), { threads: 2 });
    assert.equal(out.width, 47);
    assert.equal(out.height, 33);
    let worst = 0;
    for (let c = 0; c < 3; c++)
      for (let i = 0; i < 47 * 33; i++) worst = Math.max(worst, Math.abs(out.data[3 * i + c] - ref.data[c * 47 * 33 + i]));
    assert.ok(worst <= 0.51, `max |ours (8-bit) - numpy (float)| = ${worst}`);
  });

  test('a batch gives the same images as one by one, and sessions are cached by size', async () => {
    const m = await model('wave');
    const a = await resizeTo(chelsea, 40, 28);
    const b = await resizeTo(await readImage(COFFEE), 40, 28);
    const before = m.sessions;
    const [ba, bb] = await fastStylizeBatch([a, b], m, { threads: 2 });
    const sa = await fastStylize(a, m, { threads: 2 });
    const sb = await fastStylize(b, m, { threads: 2 });
    assert.ok(maxAbs(ba.data, sa.data) <= 1 && maxAbs(bb.data, sb.data) <= 1, 'batch vs single');
    assert.equal(m.sessions, before + 2, 'one session for the batch of 2, one for single images of that size');
    await fastStylize(a, m, { threads: 2 });
    assert.equal(m.sessions, before + 2, 'the single-image session is reused');
  });

  test('--original-colors keeps the content chroma and the stylised luminance', async () => {
    const m = await model('udnie');
    const img = await resizeTo(chelsea, 36, 24);
    const plain = await fastStylize(img, m, { threads: 2 });
    const kept = await fastStylize(img, m, { threads: 2, originalColors: true });
    let dy = 0;
    let dc = 0;
    let moved = 0;
    for (let i = 0; i < 36 * 24 * 3; i += 3) {
      const [yk, cbk, crk] = rgbToYcbcr(kept.data[i], kept.data[i + 1], kept.data[i + 2]);
      const [yp, cbp, crp] = rgbToYcbcr(plain.data[i], plain.data[i + 1], plain.data[i + 2]);
      const [, cbc, crc] = rgbToYcbcr(img.data[i], img.data[i + 1], img.data[i + 2]);
      if (Math.max(...kept.data.subarray(i, i + 3)) < 255 && Math.min(...kept.data.subarray(i, i + 3)) > 0) {
        dy = Math.max(dy, Math.abs(yk - yp));
        dc = Math.max(dc, Math.abs(cbk - cbc), Math.abs(crk - crc));
      }
      moved = Math.max(moved, Math.abs(cbp - cbc), Math.abs(crp - crc));
    }
    assert.ok(dy < 1.5, `luminance kept from the stylised image (max diff ${dy})`);
    assert.ok(dc < 1.5, `chroma taken from the content (max diff ${dc})`);
    assert.ok(moved > 20, 'the plain stylised image has other colours');
  });

  test('size option resizes the long side; a tiny image is an E_INPUT error', async () => {
    const m = await model('wave');
    const out = await fastStylize(CHELSEA, m, { size: 48, threads: 2 });
    assert.deepEqual([out.width, out.height], [48, 32]);
    await assert.rejects(fastStylize({ data: new Uint8Array(3 * 5), width: 5, height: 1 }, m), (e: StyleloomError) => e.code === 'E_INPUT' && /too small/.test(e.message));
  });
});

// ---------- the loader, on tiny synthetic checkpoints (random weights, 4 channels) ----------

/** TF-layout shapes of a checkpoint with the real layout but `c` channels everywhere inside. */
function tinyShapes(c = 4): number[][] {
  return FAST_LAYERS.flatMap((L, k) => {
    const cin = k === 0 ? 3 : c;
    const cout = k === FAST_LAYERS.length - 1 ? 3 : c;
    const w = L.kind === 'conv' ? [L.kernel, L.kernel, cin, cout] : [L.kernel, L.kernel, cout, cin];
    return [w, [cout], [cout]];
  });
}

type Edit = (man: Record<string, { filename: string; shape: number[] }>, files: Map<string, Buffer>) => void;

/** Writes a checkpoint folder; `edit` may change the manifest object and the files before they are written. */
function writeCheckpoint(edit: Edit = () => {}): string {
  const dir = tempDir('styleloom-fastck-');
  const man: Record<string, { filename: string; shape: number[] }> = {};
  const files = new Map<string, Buffer>();
  tinyShapes().forEach((shape, i) => {
    const name = variableName(i);
    man[name] = { filename: name, shape };
    const n = shape.reduce((p, d) => p * d, 1);
    const vals = randn(n, 100 + i, 0.3);
    if (shape.length === 1 && i % 3 === 2) vals.forEach((v, k) => (vals[k] = 1 + v)); // IN scales around 1
    files.set(name, Buffer.from(vals.buffer));
  });
  edit(man, files);
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(man, null, 2));
  for (const [name, b] of files) fs.writeFileSync(path.join(dir, name), b);
  return dir;
}

async function loadError(dir: string): Promise<string> {
  try {
    await loadFastCheckpoint(dir);
  } catch (e) {
    assert.ok(e instanceof StyleloomError, `StyleloomError, got ${String(e)}`);
    assert.equal(e.code, 'E_WEIGHTS');
    assert.ok(!e.message.includes('\n'), 'one line');
    return e.message;
  }
  assert.fail('expected an error');
}

describe('fast checkpoint loader', () => {
  test('a valid folder loads (any inner width) and runs end to end', async () => {
    const dir = writeCheckpoint();
    const ck = await loadFastCheckpoint(dir);
    assert.equal(ck.layers.length, 16);
    assert.deepEqual(ck.layers[0].weightShape, [4, 3, 9, 9]);
    assert.deepEqual(ck.layers[13].weightShape, [4, 4, 3, 3]);
    const out = await fastStylize({ data: new Uint8Array(3 * 7 * 5).map((_, k) => (k * 37) % 256), width: 7, height: 5 }, dir, { threads: 1 });
    assert.deepEqual([out.width, out.height, out.data.length], [7, 5, 105]);
  });

  const bad: [string, Edit | 'nodir' | 'nomanifest', RegExp[]][] = [
    ['missing folder', 'nodir', [/no such directory/]],
    ['missing manifest', 'nomanifest', [/manifest\.json: not found/]],
    ['manifest not JSON', (_m, f) => f.set('manifest.json', Buffer.from('{"Variable": ')), [/manifest\.json: not valid JSON/]],
    ['manifest an array', (_m, f) => f.set('manifest.json', Buffer.from('[1,2]')), [/manifest\.json: expected a JSON object/]],
    ['a variable missing', (m) => delete m.Variable_12, [/manifest\.json: no entry for Variable_12/]],
    ['a shape of strings', (m) => (m.Variable_4.shape = ['4'] as unknown as number[]), [/Variable_4 has shape \["4"\]/, /positive integers/]],
    ['a filename outside the folder', (m) => (m.Variable_7.filename = '../Variable_7'), [/Variable_7 names "\.\.\/Variable_7"/, /plain name/]],
    ['a kernel of the wrong size', (m, f) => ((m.Variable_3.shape = [5, 5, 4, 4]), f.set('Variable_3', Buffer.alloc(5 * 5 * 16 * 4))), [/Variable_3: shape \[5,5,4,4\] does not fit/, /layer 1 \(conv2\)/]],
    ['a residual conv changing width', (m, f) => ((m.Variable_9.shape = [3, 3, 4, 8]), f.set('Variable_9', Buffer.alloc(3 * 3 * 32 * 4))), [/Variable_9: shape \[3,3,4,8\]/, /res1a/, /expected \[3,3,4,4\]/]],
    ['an IN scale of the wrong length', (m, f) => ((m.Variable_5.shape = [5]), f.set('Variable_5', Buffer.alloc(20))), [/Variable_5: shape \[5\]/, /instance-norm scale of layer 1/]],
    ['a truncated file', (_m, f) => f.set('Variable_15', f.get('Variable_15')!.subarray(0, 100)), [/Variable_15: 100 bytes/, /needs 576/, /truncated or corrupt/]],
    ['a missing file', (_m, f) => f.delete('Variable_46'), [/Variable_46: missing/]],
    ['a NaN weight', (_m, f) => f.get('Variable_45')!.writeFloatLE(NaN, 8), [/Variable_45: value 2 of Variable_45 is NaN/]],
  ];
  for (const [name, edit, patterns] of bad) {
    test(`E_WEIGHTS, one line naming the file: ${name}`, async () => {
      let dir: string;
      if (edit === 'nodir') dir = path.join(tempDir(), 'nope');
      else if (edit === 'nomanifest') {
        dir = writeCheckpoint();
        fs.rmSync(path.join(dir, 'manifest.json'));
      } else {
        let manifestText: Buffer | undefined;
        dir = writeCheckpoint((m, f) => {
          edit(m, f);
          manifestText = f.get('manifest.json');
          f.delete('manifest.json');
        });
        if (manifestText) fs.writeFileSync(path.join(dir, 'manifest.json'), manifestText);
      }
      const msg = await loadError(dir);
      for (const p of patterns) assert.match(msg, p);
    });
  }
});

// ---------- the command ----------

describe('styleloom fast', { skip: fs.existsSync(path.join(MODELS, 'wave', 'manifest.json')) ? false : `no fast-style models in ${MODELS}` }, () => {
  test('one image, --size 64, --json: a PNG of 64x43 and one JSON line', async () => {
    const out = path.join(tempDir(), 'cat.png');
    const r = await runCli(['fast', '--model', path.join(MODELS, 'wave'), '--content', CHELSEA, '--size', '64', '--threads', '1', '--json', '--out', out]);
    assert.equal(r.code, 0, showRun(r));
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, showRun(r));
    const j = JSON.parse(lines[0]);
    assert.equal(j.model, 'wave');
    assert.deepEqual([j.images.length, j.images[0].width, j.images[0].height, j.images[0].out], [1, 64, 43, out]);
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 64, 43]);
  });

  test('several images into a directory with --original-colors (model by name via $STYLELOOM_FAST_MODELS)', async () => {
    const dir = tempDir();
    const r = await runCli(['fast', '--model', 'udnie', '--content', CHELSEA, COFFEE, '--size', '32', '--original-colors', '--threads', '1', '--out', dir], { env: { STYLELOOM_FAST_MODELS: MODELS } });
    assert.equal(r.code, 0, showRun(r));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['chelsea.png', 'coffee.png']);
    assert.match(r.stderr, /fast 2\/2: .*coffee\.png/);
  });

  test('several images and a file --out: one-line usage error, nothing written', async () => {
    const out = path.join(tempDir(), 'x.png');
    const r = await runCli(['fast', '--model', path.join(MODELS, 'wave'), '--content', CHELSEA, COFFEE, '--out', out]);
    assertOneLineError(r, { code: 2, match: ['must be an existing directory'] });
    assertNoOutput(out);
  });

  test('a folder that is not a model: one-line E_WEIGHTS error', async () => {
    const out = path.join(tempDir(), 'x.png');
    const r = await runCli(['fast', '--model', tempDir(), '--content', CHELSEA, '--out', out]);
    assertOneLineError(r, { code: 1, match: ['manifest.json: not found'] });
    assertNoOutput(out);
  });
});

for (const [k, s, n] of [[3, 2, 3], [2, 2, 3], [3, 3, 2], [5, 4, 2]] as const) {
  test(`sub-pixel conv + DepthToSpace equals the transposed conv (k ${k}, stride ${s}, TF SAME output ${s}n)`, () => {
    const [cin, cout] = [3, 2];
    const g = new Graph();
    const x = g.input('x', [1, cin, n, n + 1]);
    const w = randn(cin * cout * k * k, 50 + k, 0.5);
    // TF 'SAME' for output s·n: total padding max(k − s, 0), the smaller half first (0 here)
    const total = Math.max(k - s, 0);
    const [p0, p1] = [Math.floor(total / 2), total - Math.floor(total / 2)];
    assert.equal(p0, 0);
    const ref = g.add1('ConvTranspose', [x, g.constant('w', w, [cin, cout, k, k])], { stride: s, pads: [p0, p0, p1, p1] });
    const sw = subpixelWeight(w, cin, cout, k, s);
    const D = sw.shape[2] - 1;
    const phases = g.add1('Conv', [x, g.constant('ws', sw.data, sw.shape)], { pads: [D, D, 0, 0] });
    const sub = g.add1('DepthToSpace', [phases], { block: s });
    assert.deepEqual(sub.shape, ref.shape);
    const [a, b] = evaluate(g, { x: randn(numel(x.shape), 4, 2) }, [ref, sub]);
    assert.ok(maxRelErr(b, a) < 1e-12, `err ${maxRelErr(b, a)}`);
  });
}
