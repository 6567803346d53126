// The temporal term inside the real frame loss graph (VGG conv1_1..conv3_4, a 24x16 frame): its value is
// temporal_weight · mean(c · (x − warped)²) and its gradient 2 · temporal_weight · c · (x − warped) / numel,
// on top of the Gatys terms, which it leaves alone; the op's own gradient is checked against finite
// differences in graph-ops.test.ts (WeightedMse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toCaffe } from '../src/image/caffe.js';
import { resolveLayers } from '../src/model/vgg19.js';
import { loadVggWeights } from '../src/model/vgg19-file.js';
import { createFrameEvaluator } from '../src/video/frame-loss.js';
import { VGG_PARTIAL } from './helpers/fixtures.js';
import { panFrames } from './helpers/clips.js';
import { randn } from './helpers/rand.js';

test('the temporal term in the frame loss graph: value and gradient as the formula, the other terms unchanged', async () => {
  const weights = await loadVggWeights(VGG_PARTIAL);
  const layers = resolveLayers(weights, undefined, undefined);
  const [f0, f1] = await panFrames(2, 24, 16, 1, 0);
  const style = { data: toCaffe(f1), width: 24, height: 16 };
  const spec = { weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight: 1, styleWeight: 1e3, tvWeight: 1, pool: 'max' as const };
  const w = 50;
  const withT = await createFrameEvaluator({ ...spec, temporalWeight: w }, 24, 16, [style], { threads: 1 });
  const without = await createFrameEvaluator(spec, 24, 16, [style], { threads: 1 });
  try {
    const content = toCaffe(f0);
    const target = toCaffe(f1);
    const mask = Float32Array.from({ length: 24 * 16 }, (_, k) => (k % 7 === 0 ? 0 : k % 5 === 0 ? 0.5 : 1));
    const noise = randn(content.length, 3, 20);
    const x = content.map((v, k) => v + noise[k]);
    await withT.setFrame(content, { target, mask });
    await without.setFrame(content, null);
    const a = await withT.evaluate(x);
    const b = await without.evaluate(x);
    let sum = 0;
    const n = x.length;
    const expected = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const c = mask[k % (24 * 16)];
      sum += c * (x[k] - target[k]) ** 2;
      expected[k] = (2 * w * c * (x[k] - target[k])) / n;
    }
    const term = (w * sum) / n;
    assert.ok(Math.abs(a.loss.temporal - term) <= 1e-4 * term, `temporal ${a.loss.temporal} vs ${term}`);
    for (const t of ['content', 'style', 'tv'] as const) assert.ok(Math.abs(a.loss[t] - b.loss[t]) <= 1e-5 * Math.abs(b.loss[t]), `${t} unchanged`);
    assert.equal(b.loss.temporal, 0);
    assert.ok(Math.abs(a.loss.total - (b.loss.total + term)) <= 1e-4 * a.loss.total);
    let err = 0;
    let scale = 0;
    for (let k = 0; k < n; k++) {
      err = Math.max(err, Math.abs(a.grad[k] - b.grad[k] - expected[k]));
      scale = Math.max(scale, Math.abs(expected[k]));
    }
    assert.ok(scale > 0 && err <= 1e-3 * Math.max(scale, ...Array.from(b.grad, Math.abs)), `gradient of the temporal term: max error ${err} (scale ${scale})`);
    // the first frame of a clip (no previous result) has a zero temporal term in the same graph
    await withT.setFrame(content, null);
    assert.equal((await withT.evaluate(x)).loss.temporal, 0);
  } finally {
    await withT.release();
    await without.release();
  }
});
