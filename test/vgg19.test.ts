// Tests for the VGG-19 layout and weights loader (real fixture files and synthetic ones), layer
// selection with its defaults and errors, and where the weights file is looked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/model/safetensors.js';
import { VGG19_LAYERS, layersNeeded, resolveLayers } from '../src/model/vgg19.js';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { resolveWeightsPath } from '../src/model/weights.js';
import { isErr } from './helpers/errors.js';
import { renderMessage, type StyleloomError } from '../src/errors.js';
import { cliName } from '../src/options/names.js';
import { buildSafetensors, convTensors, type FixtureTensor } from './helpers/model-safetensors.js';

const TINY = '/work/shared/fixtures/tiny/weights.safetensors';
const PARTIAL = '/work/shared/assets/models/vgg19-conv1_1-conv3_4.safetensors';
const dir = mkdtempSync(join(tmpdir(), 'styleloom-vgg-'));
let counter = 0;

function file(tensors: FixtureTensor[], metadata?: Record<string, string>): string {
  const p = join(dir, `w${counter++}.safetensors`);
  writeFileSync(p, buildSafetensors(tensors, metadata));
  return p;
}

const CAFFE = { preprocess: 'caffe-bgr' };

test('VGG19_LAYERS: torchvision indices in order, channels chain', () => {
  assert.equal(VGG19_LAYERS.length, 21);
  const idx = Object.fromEntries(VGG19_LAYERS.map((l) => [l.name, l.index]));
  assert.deepEqual(idx, {
    conv1_1: 0, conv1_2: 2, pool1: 4, conv2_1: 5, conv2_2: 7, pool2: 9, conv3_1: 10, conv3_2: 12, conv3_3: 14, conv3_4: 16, pool3: 18,
    conv4_1: 19, conv4_2: 21, conv4_3: 23, conv4_4: 25, pool4: 27, conv5_1: 28, conv5_2: 30, conv5_3: 32, conv5_4: 34, pool5: 36,
  });
  let prev = 3;
  for (const l of VGG19_LAYERS) {
    if (l.kind === 'pool') continue;
    assert.equal(l.inChannels, prev, l.name);
    prev = l.outChannels!;
  }
  assert.equal(prev, 512);
});

test('loads the tiny fixture: 3 convs, shapes from the file, caffe-bgr', async () => {
  const w = await loadVggWeights(TINY);
  assert.deepEqual(w.available, ['conv1_1', 'conv1_2', 'conv2_1']);
  assert.equal(w.preprocess, 'caffe-bgr');
  assert.deepEqual(w.meanBgr, [103.939, 116.779, 123.68]);
  assert.deepEqual(w.conv.get('conv1_2')!.shape, [6, 4, 3, 3]);
  assert.deepEqual(w.conv.get('conv2_1')!.shape, [8, 6, 3, 3]);
  assert.equal(w.conv.get('conv2_1')!.bias.length, 8);
  assert.equal(w.path, TINY);
});

test('loads the partial real file: conv1_1..conv3_4, values as in the file', async () => {
  const w = await loadVggWeights(PARTIAL);
  assert.deepEqual(w.available, ['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'conv3_1', 'conv3_2', 'conv3_3', 'conv3_4']);
  assert.equal(w.preprocess, 'caffe-bgr');
  assert.deepEqual(w.meanBgr, [103.939, 116.779, 123.68]);
  assert.equal(w.metadata.format, 'vgg19-features');
  assert.deepEqual(w.conv.get('conv3_1')!.shape, [256, 128, 3, 3]);
  const st = await readSafetensors(PARTIAL);
  assert.deepEqual(w.conv.get('conv2_2')!.weight, st.tensors.get('features.7.weight')!.data);
  assert.deepEqual(w.conv.get('conv3_4')!.bias, st.tensors.get('features.16.bias')!.data);
});

test('resolveLayers defaults: partial file gives content conv3_2, style conv1_1,conv2_1,conv3_1', async () => {
  const w = await loadVggWeights(PARTIAL);
  assert.deepEqual(resolveLayers(w), { content: ['conv3_2'], style: ['conv1_1', 'conv2_1', 'conv3_1'] });
  assert.deepEqual(resolveLayers(w, ['conv2_2'], ['conv1_1', 'conv1_1', 'conv3_4']), { content: ['conv2_2'], style: ['conv1_1', 'conv3_4'] });
});

test('resolveLayers defaults with full VGG-19: content conv4_2, style conv1_1..conv5_1', async () => {
  const tensors: FixtureTensor[] = [];
  for (const l of VGG19_LAYERS) {
    if (l.kind === 'conv') tensors.push(...convTensors(l.index, l.index + 4, l.index === 0 ? 3 : tensors[tensors.length - 1].shape[0]));
  }
  const w = await loadVggWeights(file(tensors, { preprocess: 'torchvision' }));
  assert.equal(w.available.length, 16);
  assert.equal(w.meanBgr, undefined);
  assert.deepEqual(resolveLayers(w), { content: ['conv4_2'], style: ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'] });
});

test('resolveLayers errors: missing layer lists what the file has; unknown name is E_USAGE', async () => {
  const w = await loadVggWeights(PARTIAL);
  assert.throws(() => resolveLayers(w, ['conv4_2']), isErr('E_WEIGHTS',
    /^layer conv4_2 is not in weights file .*vgg19-conv1_1-conv3_4\.safetensors \(it has conv1_1,conv1_2,conv2_1,conv2_2,conv3_1,conv3_2,conv3_3,conv3_4\); choose contentLayers from those or use full VGG-19 weights \(styleloom weights download\)$/));
  // the library names the option by its key; the CLI renders its flag from the error's template
  assert.throws(() => resolveLayers(w, ['conv4_2']), (e: StyleloomError) => /choose --content-layers from those/.test(renderMessage(e, cliName)));
  assert.throws(() => resolveLayers(w, undefined, ['conv1_1', 'conv5_1']), isErr('E_WEIGHTS', /layer conv5_1 is not in weights file .* choose styleLayers/));
  assert.throws(() => resolveLayers(w, ['conv9_9']), isErr('E_USAGE', /^layer conv9_9 is not a VGG-19 conv layer \(conv1_1 \.\. conv5_4\)$/));
  assert.throws(() => resolveLayers(w, undefined, ['pool1']), isErr('E_USAGE', /layer pool1 is not a VGG-19 conv layer/));
  assert.throws(() => resolveLayers(w, []), isErr('E_USAGE', /contentLayers is empty/));
  const tiny = await loadVggWeights(TINY);
  assert.throws(() => resolveLayers(tiny), isErr('E_WEIGHTS', /layer conv3_2 is not in weights file .* \(it has conv1_1,conv1_2,conv2_1\)/));
  assert.deepEqual(resolveLayers(tiny, ['conv1_2', 'conv2_1']), { content: ['conv1_2', 'conv2_1'], style: ['conv1_1', 'conv2_1'] });
});

test('layersNeeded: every conv and pool up to the deepest; a gap in the file is an error', async () => {
  assert.deepEqual(layersNeeded(['conv1_1']), ['conv1_1']);
  assert.deepEqual(layersNeeded(['conv2_1', 'conv1_2']), ['conv1_1', 'conv1_2', 'pool1', 'conv2_1']);
  assert.deepEqual(layersNeeded(['conv3_2', 'conv1_1']), ['conv1_1', 'conv1_2', 'pool1', 'conv2_1', 'conv2_2', 'pool2', 'conv3_1', 'conv3_2']);
  assert.equal(layersNeeded(['conv5_4']).length, 20);
  assert.deepEqual(layersNeeded([]), []);
  assert.throws(() => layersNeeded(['conv6_1']), isErr('E_USAGE', /conv6_1 is not a VGG-19 conv layer/));
  const gap = await loadVggWeights(file([...convTensors(0, 4, 3), ...convTensors(5, 5, 4)], CAFFE));
  assert.deepEqual(gap.available, ['conv1_1', 'conv2_1']);
  assert.throws(() => resolveLayers(gap, ['conv2_1'], ['conv1_1']), isErr('E_WEIGHTS', /lacks conv1_2, which conv2_1 needs \(it has conv1_1,conv2_1\)/));
});

test('preprocessing: metadata wins, timm classifier keys mean torchvision, else a clear error', async () => {
  const c11 = convTensors(0, 4, 3);
  const timm = await loadVggWeights(file([...c11, { name: 'head.fc.weight', shape: [2, 2] }, { name: 'pre_logits.fc1.weight', shape: [1] }]));
  assert.equal(timm.preprocess, 'torchvision');
  assert.equal(timm.meanBgr, undefined);
  assert.equal((await loadVggWeights(file(c11, { preprocess: 'torchvision' }))).preprocess, 'torchvision');
  assert.deepEqual((await loadVggWeights(file(c11, { preprocess: 'caffe-bgr', mean_bgr: '1, 2,3' }))).meanBgr, [1, 2, 3]);
  await assert.rejects(loadVggWeights(file(c11)), isErr('E_WEIGHTS', /the preprocessing convention of these weights is unknown .* add __metadata__ \{"preprocess": "caffe-bgr"\}/));
  await assert.rejects(loadVggWeights(file(c11, { preprocess: 'rgb-0-1' })), isErr('E_WEIGHTS', /metadata preprocess is "rgb-0-1", which styleloom does not know/));
  await assert.rejects(loadVggWeights(file(c11, { preprocess: 'caffe-bgr', mean_bgr: '1,2' })), isErr('E_WEIGHTS', /mean_bgr is "1,2", not three comma-separated numbers/));
});

test('malformed conv tensors are E_WEIGHTS errors naming the tensor', async () => {
  const [w0, b0] = convTensors(0, 4, 3);
  await assert.rejects(loadVggWeights(file([w0], CAFFE)), isErr('E_WEIGHTS', /has features\.0\.weight but not features\.0\.bias \(conv1_1\)/));
  await assert.rejects(loadVggWeights(file([{ ...w0, shape: [4, 3, 9], data: undefined }, b0], CAFFE)), isErr('E_WEIGHTS', /features\.0\.weight \(conv1_1\) has shape \[4,3,9\] but a VGG-19 conv weight is \[out, in, 3, 3\]/));
  await assert.rejects(loadVggWeights(file([w0, { ...b0, shape: [5], data: undefined }], CAFFE)), isErr('E_WEIGHTS', /features\.0\.bias \(conv1_1\) has shape \[5\] but features\.0\.weight has 4 output channels/));
  await assert.rejects(loadVggWeights(file(convTensors(0, 4, 1), CAFFE)), isErr('E_WEIGHTS', /takes 1 input channels but the RGB input gives 3/));
  await assert.rejects(loadVggWeights(file([w0, b0, ...convTensors(2, 6, 5)], CAFFE)), isErr('E_WEIGHTS', /features\.2\.weight \(conv1_2\) takes 5 input channels but conv1_1 gives 4/));
  await assert.rejects(loadVggWeights(file([{ name: 'classifier.0.weight', shape: [2] }], CAFFE)), isErr('E_WEIGHTS', /has no VGG-19 conv layers/));
});

test('weights holding NaN or Infinity are refused when loaded, naming the tensor and element', async () => {
  const [w0, b0] = convTensors(0, 4, 3);
  const nanW = { ...w0, data: Array.from(w0.data!, (v, i) => (i === 7 ? NaN : v)) };
  await assert.rejects(loadVggWeights(file([nanW, b0], CAFFE)), isErr('E_WEIGHTS', /features\.0\.weight \(conv1_1\) holds NaN at element 7; the file is damaged — download it again/));
  const infB = { ...b0, data: Array.from(b0.data!, (v, i) => (i === 2 ? -Infinity : v)) };
  await assert.rejects(loadVggWeights(file([w0, infB], CAFFE)), isErr('E_WEIGHTS', /features\.0\.bias \(conv1_1\) holds -Infinity at element 2/));
});

test('resolveWeightsPath: --weights, then STYLELOOM_WEIGHTS, then the cache; clear errors', () => {
  const root = mkdtempSync(join(tmpdir(), 'styleloom-wp-'));
  const flag = join(root, 'flag.safetensors');
  const envFile = join(root, 'env.safetensors');
  writeFileSync(flag, 'x');
  writeFileSync(envFile, 'x');
  const cache = join(root, 'cache');
  mkdirSync(cache);
  const cached = join(cache, 'vgg19.safetensors');
  writeFileSync(cached, 'x');
  const xdg = join(root, 'xdg');
  mkdirSync(join(xdg, 'styleloom'), { recursive: true });
  writeFileSync(join(xdg, 'styleloom', 'vgg19.safetensors'), 'x');
  const home = join(root, 'home');
  mkdirSync(join(home, '.cache', 'styleloom'), { recursive: true });
  writeFileSync(join(home, '.cache', 'styleloom', 'vgg19.safetensors'), 'x');

  const env = { STYLELOOM_WEIGHTS: envFile, STYLELOOM_CACHE: cache, XDG_CACHE_HOME: xdg, HOME: home };
  assert.equal(resolveWeightsPath({ flag, env }), flag);
  assert.equal(resolveWeightsPath({ env }), envFile);
  assert.equal(resolveWeightsPath({ env: { ...env, STYLELOOM_WEIGHTS: '' } }), cached);
  assert.equal(resolveWeightsPath({ env: { XDG_CACHE_HOME: xdg, HOME: home } }), join(xdg, 'styleloom', 'vgg19.safetensors'));
  assert.equal(resolveWeightsPath({ env: { HOME: home } }), join(home, '.cache', 'styleloom', 'vgg19.safetensors'));

  assert.throws(() => resolveWeightsPath({ flag: join(root, 'missing.safetensors'), env }), isErr('E_INPUT', /missing\.safetensors \(from --weights\): no such weights file/));
  assert.throws(() => resolveWeightsPath({ env: { STYLELOOM_WEIGHTS: join(root, 'gone') } }), isErr('E_INPUT', /gone \(from STYLELOOM_WEIGHTS\)/));
  assert.throws(() => resolveWeightsPath({ flag: root, env }), isErr('E_INPUT', /is not a file/));
  assert.throws(() => resolveWeightsPath({ env: { STYLELOOM_CACHE: join(root, 'empty') } }), isErr('E_WEIGHTS',
    /no VGG-19 weights found .*empty\/vgg19\.safetensors.*--weights FILE.*STYLELOOM_WEIGHTS=FILE.*styleloom weights download.*vgg19-conv1_1-conv3_4\.safetensors is not used/));
});
