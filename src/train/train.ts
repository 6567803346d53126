// trainNetwork(): trains a feed-forward style network (Johnson et al. 2016) on a folder of photos: the step graph
// on onnxruntime, Adam in JS, checkpoints every --save-every iterations (and on interruption), --resume bit for
// bit, previews, and the network file written atomically at the end.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import { buildFastGraph } from '../fast/network.js';
import { fromPlanar, toPlanar } from '../fast/planar.js';
import { toOnnx } from '../graph/onnx-export.js';
import { readImage, resizeLongSide, writeImage } from '../image/io.js';
import { toCaffe } from '../image/caffe.js';
import { buildTargetGraph } from '../loss/gatys.js';
import type { LossTerms } from '../loss/types.js';
import { resolveLayers } from '../model/vgg19.js';
import { loadVggWeights } from '../model/vgg19-file.js';
import { resolveWeightsPath } from '../model/weights.js';
import { createRunner, type Runner } from '../runtime/session.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { architectureFor, flattenParams, initNetwork } from './architecture.js';
import { BatchQueue, scanPhotos, type PhotoSet } from './dataset.js';
import { CHECKPOINT_FORMAT, DEFAULT_LICENCE, encodeCheckpoint, encodeNetworkFile, parseNetworkFile, type NetworkInfo, type ReadNetwork, type TrainState } from './network-file.js';
import { checkNetworkOut, checkpointPathFor, previewPathFor, recordedOptions, resolveTrainOptions, resumedOptions, type ResolvedTrainOptions, type TrainOptions } from './options.js';
import { buildTrainGraph, estimateStepBytes, type TrainLossSpec } from './step-graph.js';
import { createTrainStep, learningRateAt, trainingAdam } from './trainer.js';

export type { TrainOptions } from './options.js';

export interface TrainProgress {
  /** Iterations done (the run's total, counting those before a resume). */
  iter: number;
  iters: number;
  /** The loss of this iteration's batch, before its update. */
  loss: LossTerms;
  ms: number;
  elapsedMs: number;
  /** Crops per second over this run so far (wall time of the loop: decoding, steps, checkpoints). */
  imagesPerS: number;
  /** The learning rate this iteration's update used ({lrHalfLife}'s schedule). */
  lr: number;
}

export interface TrainHooks {
  onProgress?: (e: TrainProgress) => void;
  /** Skipped files and other warnings, one line each (default: stderr). */
  onWarning?: (line: string) => void;
  signal?: AbortSignal;
}

export interface TrainResult {
  out: string;
  checkpoint?: string;
  /** Total loss of every iteration's batch, before its update (including those before a resume). */
  lossHistory: number[];
  iters: number;
  imagesPerS: number;
  /** Files in the photo folder that were skipped (not images sharp reads). */
  skipped: number;
  photos: number;
}

/** The share of the machine's memory a run may plan to use (the estimate leaves out onnxruntime's own temporaries). */
const MEMORY_SHARE = 0.7;

async function readCheckpoint(file: string): Promise<ReadNetwork & { state: TrainState }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StyleloomError('E_INPUT', code === 'ENOENT' ? `${file}: no such checkpoint; check the --resume path` : `${file}: cannot read the checkpoint (${code ?? String(e)})`);
  }
  const r = parseNetworkFile(bytes, file, path.basename(file));
  if (!r.state || !r.adam) throw new StyleloomError('E_WEIGHTS', `${file}: a finished network file, not a training checkpoint (${CHECKPOINT_FORMAT}); resume from <out name>.ckpt.safetensors`);
  return r as ReadNetwork & { state: TrainState };
}

async function sha256File(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Each style layer's Gram of the style image at long side `size` (the one-image target graph). */
async function styleGramsOf(o: ResolvedTrainOptions, spec: TrainLossSpec, styleFile: string): Promise<Map<string, Float32Array>> {
  const img = await resizeLongSide(await readImage(styleFile), o.size);
  const g = buildTargetGraph(spec.weights, img.height, img.width, [], spec.styleLayers, spec.pool);
  const runner = await createRunner(toOnnx(g, 'style_targets'), { threads: o.threads, device: o.device });
  try {
    const out = await runner.run({ image: { data: toCaffe(img), dims: [1, 3, img.height, img.width] } });
    return new Map(spec.styleLayers.map((l) => [l, out[`gram_${l}`]]));
  } finally {
    await runner.release();
  }
}

function checkSameData(file: string, saved: NetworkInfo, photos: PhotoSet, styleSha: string): void {
  if (saved.style.sha256 !== styleSha) throw new StyleloomError('E_INPUT', `${file}: the style image changed since the checkpoint (SHA-256 differs); resuming needs the same style image`);
  const now = photos.photos.map((p) => `${p.rel}:${p.sha256}`).join('\n');
  const then = saved.manifest.map((p) => `${p.file}:${p.sha256}`).join('\n');
  if (now !== then) throw new StyleloomError('E_INPUT', `${file}: the training photos in ${photos.dir} changed since the checkpoint; resuming bit for bit needs the same photos`);
}

/** Where the training ran, for the record: cores, CPU model and the threads the run used. */
function machineOf(threads: number | undefined): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${threads ?? 'all'} threads`;
}

/** The preview: the photo (long side {size}) through the network as it is now. */
class Previewer {
  private constructor(
    private readonly runner: Runner,
    private readonly feeds: () => Record<string, { data: Float32Array; dims: readonly number[] }>,
    private readonly w: number,
    private readonly h: number,
  ) {}

  static async create(file: string, o: ResolvedTrainOptions, net: ReturnType<typeof initNetwork>): Promise<Previewer> {
    const img = await resizeLongSide(await readImage(file), o.size);
    const fg = buildFastGraph(net, { height: img.height, width: img.width, params: 'input' });
    const input = new Float32Array(3 * img.width * img.height);
    toPlanar(img, input, 0);
    const runner = await createRunner(toOnnx(fg.graph, 'preview'), { threads: o.threads, device: o.device });
    const feeds = () => Object.fromEntries([[fg.input.name, { data: input, dims: fg.input.shape }], ...fg.params.map((p) => [p.value.name, { data: p.data, dims: p.value.shape }])]);
    return new Previewer(runner, feeds, img.width, img.height);
  }

  async write(out: string): Promise<void> {
    const res = await this.runner.run(this.feeds());
    await writeImage(out, fromPlanar(Object.values(res)[0], 0, this.w, this.h));
  }

  release = () => this.runner.release();
}

/**
 * Trains a network for `options.style` on the photos of `options.images` and writes it to `options.out` (with
 * `resume`, continues a checkpoint's run). Rejects with a StyleloomError before any work for bad inputs
 * (no readable photo, a style that is not an image, a batch too large for the memory, a corrupt checkpoint).
 */
export async function trainNetwork(options: TrainOptions, hooks: TrainHooks = {}): Promise<TrainResult> {
  const warn = hooks.onWarning ?? ((line: string) => process.stderr.write(`styleloom: warning: ${line}\n`));
  const resumed = options.resume ? await readCheckpoint(options.resume) : undefined;
  const o = resumed ? resumedOptions(resumed.state.options, options) : resolveTrainOptions(options);
  checkNetworkOut(o.out);
  if (path.resolve(o.out) === o.style) throw optionError('E_USAGE', `{out} ${o.out} is the style image; choose another output name`);
  const ckptPath = checkpointPathFor(o.out);
  if (resumed && o.iters <= resumed.state.iteration) {
    throw optionError('E_USAGE', `{iters} ${o.iters} is not more than the ${resumed.state.iteration} iterations the checkpoint has done; give a larger total`);
  }
  await readImage(o.style, { name: o.style }); // E_INPUT now if it is not an image
  if (o.preview) await readImage(o.preview, { name: o.preview });
  const styleSha = await sha256File(o.style);
  const photos = await scanPhotos(o.images, warn);
  if (resumed) checkSameData(options.resume!, resumed.info, photos, styleSha);

  const weights = await loadVggWeights(resolveWeightsPath({ flag: o.weights }));
  const layers = resolveLayers(weights, o.contentLayers, o.styleLayers);
  const spec: TrainLossSpec = { weights, contentLayers: layers.content, styleLayers: layers.style, contentWeight: o.contentWeight, styleWeight: o.styleWeight, tvWeight: o.tvWeight, pool: o.pool, stabilityWeight: o.stabilityWeight };
  const arch = resumed?.info.architecture ?? o.architecture ?? architectureFor(o.networkWidth, o.upsample, o.padding);
  const rng = new Rng(o.seed);
  const net = resumed ? resumed.net : initNetwork(arch, rng);
  if (resumed) rng.setState(resumed.state.rng);
  const flat = flattenParams(net);
  const graph = buildTrainGraph(net, spec, o.batch, o.size);
  const need = estimateStepBytes(graph.graph);
  if (need > MEMORY_SHARE * os.totalmem()) {
    const gb = (b: number) => (b / 2 ** 30).toFixed(1);
    throw optionError('E_USAGE', `{batch} ${o.batch} at {size} ${o.size} needs about ${gb(need)} GiB for one training step, more than this machine can hold (${gb(os.totalmem())} GiB); lower {batch} or {size}, or use {networkWidth} half`);
  }

  const grams = await styleGramsOf(o, spec, o.style);
  const step = await createTrainStep(net, spec, o.batch, o.size, grams, { threads: o.threads, device: o.device, graph });
  const adam = trainingAdam(o.lr);
  if (resumed) adam.setState({ kind: 'adam', t: resumed.state.adamT, m: resumed.adam!.m, v: resumed.adam!.v });
  const previewer = o.preview ? await Previewer.create(o.preview, o, net) : undefined;
  const queue = new BatchQueue(photos, rng, o.batch, o.size, warn, 2, o.cropScale, o.stabilityWeight > 0 ? o.stabilityNoise : 0);
  const history = resumed ? [...resumed.state.lossHistory] : [];
  let rngState = resumed ? resumed.state.rng : rng.getState();
  const start = resumed?.state.iteration ?? 0;
  const grad = new Float32Array(flat.length);
  const priorSeconds = resumed?.state.seconds ?? 0;
  const seconds = () => priorSeconds + (performance.now() - t0) / 1000;
  const info = (): NetworkInfo => ({
    architecture: arch,
    training: { ...recordedOptions(o), contentLayers: layers.content, styleLayers: layers.style, vgg: path.basename(weights.path), iterations: history.length, photos: photos.photos.length, seconds: Math.round(seconds()), machine: machineOf(o.threads), lossHistory: history },
    style: { file: path.basename(o.style), sha256: styleSha },
    manifest: photos.photos.map((p) => ({ file: p.rel, sha256: p.sha256 })),
    licence: DEFAULT_LICENCE,
  });
  const saveCheckpoint = async () => {
    const s = adam.getState();
    const state: TrainState = { iteration: history.length, adamT: s.t, rng: rngState, lossHistory: history, seconds: seconds(), options: { ...o } };
    await writeFileAtomic(ckptPath, encodeCheckpoint(net, info(), state, s.m.length ? s.m : new Float32Array(flat.length), s.v.length ? s.v : new Float32Array(flat.length)));
  };
  const t0 = performance.now();
  let saved = false;
  try {
    for (let iter = start + 1; iter <= o.iters; iter++) {
      if (hooks.signal?.aborted) {
        await saveCheckpoint();
        throw new StyleloomError('E_ABORTED', `training cancelled after iteration ${iter - 1}; checkpoint saved to ${ckptPath}: continue with styleloom train --resume ${ckptPath}`);
      }
      const b = await queue.next();
      const t = performance.now();
      const loss = await step.evaluate(b.data, grad, b.perturbed);
      if (!Number.isFinite(loss.total) || !grad.every(Number.isFinite)) {
        throw new StyleloomError('E_DIVERGED', `the loss became ${loss.total} at iteration ${iter}; lower {lr} (${o.lr}) and train again`);
      }
      adam.setLr(learningRateAt(o.lr, o.lrHalfLife, iter));
      adam.step(flat, loss.total, grad);
      history.push(loss.total);
      rngState = b.rngAfter;
      const ms = performance.now() - t;
      hooks.onProgress?.({ iter, iters: o.iters, loss, ms, elapsedMs: performance.now() - t0, imagesPerS: ((iter - start) * o.batch * 1000) / (performance.now() - t0), lr: adam.lr });
      if (o.saveEvery > 0 && iter % o.saveEvery === 0) {
        await saveCheckpoint();
        saved = true;
        if (previewer) await previewer.write(previewPathFor(o.out, iter));
      }
    }
  } finally {
    await queue.close();
    await step.release();
    await previewer?.release();
  }
  const wallMs = performance.now() - t0;
  await writeFileAtomic(o.out, encodeNetworkFile(net, info()));
  return { out: o.out, checkpoint: saved ? ckptPath : undefined, lossHistory: history, iters: o.iters, imagesPerS: ((o.iters - start) * o.batch * 1000) / Math.max(wallMs, 1e-9), skipped: photos.skipped, photos: photos.photos.length };
}
