// The library API stylize() at tiny sizes: result shape, progress events, snapshots, cancellation,
// decoded pixels as input, and the L-BFGS loss history LOSS.md describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { StyleloomError, stylize, type ProgressEvent, type RgbImage, type StylizeOptions, type StylizeResult } from '../src/index.js';
import { ASSETS, VGG_PARTIAL } from './helpers/fixtures.js';

const CHELSEA = path.join(ASSETS, 'images', 'chelsea.png'); // 451 x 300
const STARRY = path.join(ASSETS, 'images', 'starry_night.jpg');

/** 32 px (32 x 21), partial weights, one thread. */
function small(extra: Partial<StylizeOptions> = {}): StylizeOptions {
  return { content: CHELSEA, styles: [STARRY], weights: VGG_PARTIAL, size: 32, iters: 4, threads: 1, ...extra };
}

function isCode(code: string) {
  return (e: unknown) => {
    assert.ok(e instanceof StyleloomError, `expected a StyleloomError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  };
}

let fromPath: Promise<{ result: StylizeResult; events: ProgressEvent[] }> | undefined;
function runFromPath() {
  fromPath ??= (async () => {
    const events: ProgressEvent[] = [];
    const result = await stylize(small(), { onProgress: (e) => events.push(e) });
    return { result, events };
  })();
  return fromPath;
}

test('stylize() returns the image, a loss history of length iters, the final loss and ms per iteration', async () => {
  const { result: r } = await runFromPath();
  assert.equal(r.image.width, 32);
  assert.equal(r.image.height, 21); // round(300 * 32 / 451) = round(21.29)
  assert.ok(r.image.data instanceof Uint8Array);
  assert.equal(r.image.data.length, 32 * 21 * 3);
  assert.equal(r.iters, 4);
  assert.equal(r.lossHistory.length, 4);
  for (const v of r.lossHistory) assert.ok(Number.isFinite(v) && v > 0, `history value ${v}`);
  for (const [k, v] of Object.entries(r.loss)) assert.ok(Number.isFinite(v) && v > 0, `loss.${k} = ${v}`);
  assert.ok(Math.abs(r.loss.total - (r.loss.content + r.loss.style + r.loss.tv)) <= 1e-4 * r.loss.total, 'total = content + style + tv');
  assert.ok(Number.isFinite(r.msPerIter) && r.msPerIter > 0, `msPerIter ${r.msPerIter}`);
  // LOSS.md defaults with the partial weights
  assert.deepEqual(r.contentLayers, ['conv3_2']);
  assert.deepEqual(r.styleLayers, ['conv1_1', 'conv2_1', 'conv3_1']);
});

test('onProgress is called once per iteration, with increasing iter and the loss before each update', async () => {
  const { result, events } = await runFromPath();
  assert.deepEqual(events.map((e) => e.iter), [1, 2, 3, 4]);
  let elapsed = 0;
  events.forEach((e, k) => {
    assert.equal(e.iters, 4);
    assert.equal(e.loss.total, result.lossHistory[k], 'event k carries loss_history[k]');
    assert.ok(e.ms >= 0 && Number.isFinite(e.ms));
    assert.ok(e.elapsedMs >= elapsed, 'elapsedMs does not go back');
    elapsed = e.elapsedMs;
  });
});

test('content given as decoded pixels (RgbImage) gives the same result as the file', async () => {
  const { data, info } = await sharp(CHELSEA).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const content: RgbImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  assert.deepEqual([content.width, content.height], [451, 300]);
  const before = Buffer.from(content.data);
  const r = await stylize(small({ content }));
  const { result: ref } = await runFromPath();
  assert.deepEqual([r.image.width, r.image.height], [32, 21]);
  assert.deepEqual(r.lossHistory, ref.lossHistory);
  assert.ok(Buffer.from(r.image.data).equals(Buffer.from(ref.image.data)), 'same pixels as when read from the file');
  assert.ok(Buffer.from(content.data).equals(before), 'the caller\'s pixels are not modified');
});

test('an AbortController aborted in onProgress at iteration 3 rejects with E_ABORTED, with no further events', async () => {
  const controller = new AbortController();
  const seen: number[] = [];
  await assert.rejects(
    stylize(small({ iters: 20 }), {
      signal: controller.signal,
      onProgress: (e) => {
        seen.push(e.iter);
        if (e.iter === 3) controller.abort();
      },
    }),
    isCode('E_ABORTED'),
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(seen, [1, 2, 3]);
});

test('an already aborted signal rejects with E_ABORTED before any iteration', async () => {
  const seen: number[] = [];
  await assert.rejects(stylize(small(), { signal: AbortSignal.abort(), onProgress: (e) => seen.push(e.iter) }), isCode('E_ABORTED'));
  assert.deepEqual(seen, []);
});

test('onSnapshot every saveEvery iterations, not at the last one', async () => {
  const snaps: [number, number, number][] = [];
  await stylize(small({ iters: 5, saveEvery: 2 }), {
    onSnapshot: (img, iter) => {
      snaps.push([iter, img.width, img.height]);
    },
  });
  assert.deepEqual(snaps, [
    [2, 32, 21],
    [4, 32, 21],
  ]);
});

test('invalid options reject with E_USAGE before any work', async () => {
  await assert.rejects(stylize(small({ size: 0 })), isCode('E_USAGE'));
  await assert.rejects(stylize(small({ lr: Number.NaN })), isCode('E_USAGE'));
  await assert.rejects(stylize(small({ styles: [] })), isCode('E_USAGE'));
});

test('L-BFGS loss history at 48 px: the first step is tiny, then the total falls substantially over 30 iterations', async () => {
  const r = await stylize(small({ size: 48, iters: 30 }));
  const h = r.lossHistory;
  assert.equal(h.length, 30);
  for (const v of h) assert.ok(Number.isFinite(v), `history value ${v}`);
  // first step t = min(1, 1/||g||_1) with ||g||_1 huge in Caffe scale (LOSS.md): loss_history[0] ~ loss_history[1]
  assert.ok(Math.abs(h[1] - h[0]) / h[0] < 1e-2, `h[0] ${h[0]}, h[1] ${h[1]}`);
  // no line search, so not monotone (spikes are normal), but a clear fall overall (~14x here)
  assert.ok(h[29] < 0.25 * h[0], `h[29] ${h[29]} vs h[0] ${h[0]}`);
  assert.ok(r.loss.total < 0.25 * h[0], `final ${r.loss.total} vs h[0] ${h[0]}`);
  const tailMin = Math.min(...h.slice(20));
  assert.ok(tailMin < Math.min(...h.slice(0, 10)) / 2, 'the last iterations are well below the first ones');
});

test('L-BFGS with few iterations returns its best evaluated iterate, not the overshoot of its last step', async () => {
  // Without a line search the 5th update of this run overshoots (loss ~6x the 5th evaluation's,
  // saturated pixels); the result must be the best iterate evaluated (the final one included).
  const snaps = new Map<number, Buffer>();
  const events: ProgressEvent[] = [];
  const r = await stylize(small({ iters: 5, saveEvery: 1 }), {
    onProgress: (e) => events.push(e),
    onSnapshot: (img, iter) => {
      snaps.set(iter, Buffer.from(img.data));
    },
  });
  const h = r.lossHistory;
  const best = h.indexOf(Math.min(...h));
  assert.ok(r.loss.total <= h[best], `result loss ${r.loss.total} vs the best evaluated ${h[best]} (history ${h.join(', ')})`);
  if (r.loss.total === h[best]) {
    // lossHistory[k] is the loss of the image after k updates, the snapshot of iteration k
    assert.deepEqual(r.loss, events[best].loss, 'result.loss is the loss terms of the returned image');
    if (best > 0) assert.ok(Buffer.from(r.image.data).equals(snaps.get(best)!), `the returned image is the iterate after ${best} updates`);
  }
});
