// Optical flow (Farnebäck, OpenCV.js) on a photo panned by known amounts, backward warping (bilinear),
// and the consistency mask of Ruder et al. at disocclusions, motion boundaries and the frame's borders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flowFrame, flowPair, loadOpenCv, type Flow } from '../src/video/flow.js';
import { startFlowService } from '../src/video/flow-service.js';
import { consistencyMask, rgbToPlanes, warpPlanar, warpRgb } from '../src/video/warp.js';
import { combineReferences } from '../src/video/references.js';
import { panFrames } from './helpers/clips.js';

const W = 64;
const H = 48;

/** A constant flow field. */
const constant = (dx: number, dy: number, w = W, h = H): Flow => {
  const data = new Float32Array(2 * w * h);
  for (let p = 0; p < w * h; p++) {
    data[2 * p] = dx;
    data[2 * p + 1] = dy;
  }
  return { data, width: w, height: h };
};

/** Mean endpoint error against (dx, dy) over the pixels at least `m` from the edges. */
function endpointError(f: Flow, dx: number, dy: number, m = 8): number {
  let s = 0;
  let n = 0;
  for (let y = m; y < f.height - m; y++)
    for (let x = m; x < f.width - m; x++) {
      const p = y * f.width + x;
      s += Math.hypot(f.data[2 * p] - dx, f.data[2 * p + 1] - dy);
      n++;
    }
  return s / n;
}

test('OpenCV.js loads, has Farnebäck, and leaves the process its own error handlers', async () => {
  const before = [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
  const cv = await loadOpenCv();
  assert.equal(typeof cv.calcOpticalFlowFarneback, 'function');
  // the Emscripten build adds handlers that print its 7 MB source on any uncaught exception: removed
  assert.deepEqual([process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')], before);
});

// measured (64x48, the defaults): mean endpoint error 0.001-0.016 px backward; the test allows the 0.3
for (const [dx, dy] of [[1, 0], [2, 1], [3, 0], [-2, 2]] as const) {
  test(`flow within 0.3 px (mean endpoint error, 8 px from the edges) on a photo panned by (${dx}, ${dy}) px, both directions`, async () => {
    const [f0, f1] = await panFrames(2, W, H, dx, dy);
    const a = await flowFrame(f0);
    const b = await flowFrame(f1);
    const { back, fwd } = await flowPair(a, b);
    a.delete();
    b.delete();
    const eb = endpointError(back, dx, dy);
    const ef = endpointError(fwd, -dx, -dy);
    assert.ok(eb < 0.3, `backward flow error ${eb.toFixed(3)} px`);
    assert.ok(ef < 0.3, `forward flow error ${ef.toFixed(3)} px`);
    // the flow is not trivially right: zero flow would be off by the whole shift
    assert.ok(endpointError(constant(0, 0), dx, dy) >= 1);
    // warping frame 0 along the estimated flow gives frame 1 where the mask says it is reliable
    const warped = warpRgb(f0, back);
    const { mask } = consistencyMask(back, fwd);
    let err = 0;
    let n = 0;
    let before = 0;
    for (let p = 0; p < W * H; p++) {
      if (!mask[p]) continue;
      n++;
      for (let c = 0; c < 3; c++) {
        err += Math.abs(warped.data[3 * p + c] - f1.data[3 * p + c]);
        before += Math.abs(f0.data[3 * p + c] - f1.data[3 * p + c]);
      }
    }
    assert.ok(n > 0.85 * W * H, `most pixels reliable on a pan: ${n} of ${W * H}`);
    assert.ok(err / (3 * n) < 3, `warped frame 0 matches frame 1 within 3 grey levels on reliable pixels: ${(err / (3 * n)).toFixed(2)} (unwarped ${(before / (3 * n)).toFixed(2)})`);
  });
}

test('bilinear warp: whole-pixel flow moves pixels exactly, half a pixel averages neighbours, sources clamp at the border', () => {
  const src = Float32Array.from([0, 10, 20, 30, 100, 110, 120, 130]); // 2 channels of 4 x 1
  const half = warpPlanar(src, 2, constant(0.5, 0, 4, 1));
  assert.deepEqual([...half], [5, 15, 25, 30, 105, 115, 125, 130]);
  const one = warpPlanar(src, 2, constant(-1, 0, 4, 1));
  assert.deepEqual([...one], [0, 0, 10, 20, 100, 100, 110, 120]);
  const g = Float32Array.from({ length: 12 }, (_, k) => k); // 4 x 3, one channel
  const diag = warpPlanar(g, 1, constant(0.5, 0.5, 4, 3));
  assert.equal(diag[0], (0 + 1 + 4 + 5) / 4);
  assert.equal(diag[5], (5 + 6 + 9 + 10) / 4);
});

test('consistency mask at the border: a pan of (+3, 0) px makes the 3 columns whose source left the frame unreliable', () => {
  const c = consistencyMask(constant(3, 0), constant(-3, 0));
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) assert.equal(c.mask[y * W + x], x >= W - 3 ? 0 : 1, `(${x}, ${y})`);
  assert.equal(c.outside, 3 * H);
  assert.equal(c.disoccluded, 0);
  assert.equal(c.motionBoundary, 0);
});

test('consistency mask at a disocclusion: a square moving right over a still background uncovers a strip', () => {
  // in the previous frame the square spans x 20..35, in the current x 24..39 (4 px to the right)
  const back = constant(0, 0);
  const fwd = constant(0, 0);
  const rows = [16, 32];
  for (let y = rows[0]; y < rows[1]; y++) {
    for (let x = 24; x < 40; x++) back.data[2 * (y * W + x)] = -4; // current square came from 4 px left
    for (let x = 20; x < 36; x++) fwd.data[2 * (y * W + x)] = 4; // previous square goes 4 px right
  }
  const c = consistencyMask(back, fwd);
  const at = (x: number, y: number) => c.mask[y * W + x];
  for (let y = rows[0] + 2; y < rows[1] - 2; y++) {
    for (let x = 20; x < 24; x++) assert.equal(at(x, y), 0, `uncovered background (${x}, ${y}) is disoccluded`);
    for (let x = 26; x < 38; x++) assert.equal(at(x, y), 1, `inside the square (${x}, ${y}) is reliable`);
    for (let x = 2; x < 18; x++) assert.equal(at(x, y), 1, `still background (${x}, ${y}) is reliable`);
    assert.equal(at(23, y) + at(24, y), 0, 'the square\'s left edge is a motion boundary');
  }
  assert.ok(c.disoccluded >= 4 * 16, `disoccluded ${c.disoccluded}`);
  assert.ok(c.motionBoundary > 0, 'motion boundaries found');
  assert.equal(c.outside, 0);
});

test('long-term references: each pixel follows the nearest earlier result where it is reliable (c_long = max(c_j − Σ_{k<j} c_k, 0))', () => {
  const img = (v: number) => ({ data: new Uint8Array(4 * 3).fill(v), width: 4, height: 1 });
  const still = constant(0, 0, 4, 1);
  const refs = [
    { distance: 1, out: img(10), back: still, mask: Float32Array.from([1, 0, 1, 0]) },
    { distance: 2, out: img(20), back: still, mask: Float32Array.from([1, 1, 0, 0]) },
    { distance: 4, out: img(40), back: still, mask: Float32Array.from([0, 1, 1, 1]) },
  ];
  const { target, mask } = combineReferences(refs, rgbToPlanes);
  assert.deepEqual([...mask], [1, 1, 1, 1]);
  assert.deepEqual([...target.subarray(0, 4)], [10, 20, 10, 40], 'pixel 1 from 2 back (occluded 1 back), pixel 3 from 4 back');
  const one = combineReferences([refs[0]], rgbToPlanes);
  assert.deepEqual([...one.mask], [1, 0, 1, 0]);
  assert.deepEqual([...one.target.subarray(0, 4)], [10, 0, 10, 0], 'with the previous frame alone: its warp where reliable, weight 0 elsewhere');
});

test('the flow thread gives the same flows and masks as the main thread, in order, and reports what it cannot do', async () => {
  const frames = await panFrames(3, W, H, 2, 1);
  const service = await startFlowService();
  try {
    frames.forEach((f, i) => service.add(i, f));
    // both pairs queued before either is awaited: the thread works while this one waits
    const pending = [service.pair(0, 1), service.pair(1, 2)];
    const got = await Promise.all(pending);
    for (const [k, r] of got.entries()) {
      const a = await flowFrame(frames[k]);
      const b = await flowFrame(frames[k + 1]);
      const { back, fwd } = await flowPair(a, b);
      a.delete();
      b.delete();
      assert.deepEqual(r.back.data, back.data, `pair ${k}: backward flow`);
      assert.equal(r.back.width, W);
      assert.deepEqual(r.mask, consistencyMask(back, fwd).mask, `pair ${k}: mask`);
      assert.ok(r.ms > 0);
    }
    service.dropBelow(2);
    assert.equal(service.has(1), false);
    assert.equal(service.has(2), true);
    await assert.rejects(service.pair(1, 2), /frame 1 was not added/);
  } finally {
    await service.close();
  }
  await assert.rejects(service.pair(2, 2), /closed/);
});

test('a session without spinning threads gives the same numbers as one with them', async () => {
  const { createRunner } = await import('../src/runtime/session.js');
  const { Graph } = await import('../src/graph/ir.js');
  const { toOnnx } = await import('../src/graph/onnx-export.js');
  const g = new Graph();
  const x = g.input('x', [1, 2, 6, 6]);
  g.output(g.conv(x, g.constant('w', Float32Array.from({ length: 36 }, (_, k) => Math.sin(k)), [2, 2, 3, 3]), null, 1));
  const feeds = { x: { data: Float32Array.from({ length: 72 }, (_, k) => Math.cos(k)), dims: [1, 2, 6, 6] } };
  const outs = [];
  for (const spinning of [true, false]) {
    const r = await createRunner(toOnnx(g), { threads: 2, spinning });
    outs.push(Object.values(await r.run(feeds))[0]);
    await r.release();
  }
  assert.deepEqual(outs[1], outs[0]);
  assert.ok(outs[0].some((v) => v !== 0));
});

// {flowScale}: the flow computed on frames scaled by 0.5 (64x48 of 128x96), resized back, its vectors doubled
for (const [dx, dy] of [[2, 0], [4, 2], [-3, 2]] as const) {
  test(`flow at scale 0.5 within 0.3 px on a 128x96 photo panned by (${dx}, ${dy}) px, both directions`, async () => {
    const [f0, f1] = await panFrames(2, 2 * W, 2 * H, dx, dy);
    const a = await flowFrame(f0, 0.5);
    const b = await flowFrame(f1, 0.5);
    assert.deepEqual([a.mat.cols, a.mat.rows, a.width, a.height], [W, H, 2 * W, 2 * H]);
    const { back, fwd } = await flowPair(a, b);
    a.delete();
    b.delete();
    assert.deepEqual([back.width, back.height, back.data.length], [2 * W, 2 * H, 2 * 4 * W * H]);
    const eb = endpointError(back, dx, dy, 12);
    const ef = endpointError(fwd, -dx, -dy, 12);
    assert.ok(eb < 0.3, `backward flow error ${eb.toFixed(3)} px`);
    assert.ok(ef < 0.3, `forward flow error ${ef.toFixed(3)} px`);
  });
}

test('the flow thread started with scale 0.5 computes the scaled flow (as the main thread at 0.5, not as at 1)', async () => {
  const frames = await panFrames(2, 2 * W, 2 * H, 3, 1);
  const service = await startFlowService(0.5);
  try {
    frames.forEach((f, i) => service.add(i, f));
    const r = await service.pair(0, 1);
    const flows = async (scale: number) => {
      const [a, b] = [await flowFrame(frames[0], scale), await flowFrame(frames[1], scale)];
      const f = await flowPair(a, b);
      a.delete();
      b.delete();
      return f;
    };
    const half = await flows(0.5);
    assert.deepEqual(r.back.data, half.back.data);
    assert.deepEqual(r.mask, consistencyMask(half.back, half.fwd).mask);
    assert.notDeepEqual(r.back.data, (await flows(1)).back.data);
  } finally {
    await service.close();
  }
});
