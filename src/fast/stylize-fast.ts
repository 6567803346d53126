// Fast (feed-forward) style transfer: one pass of a pre-trained transform network per image, with one
// onnxruntime session per input size reused across images, and optional colour preservation.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import { toOnnx } from '../graph/onnx-export.js';
import { readImage, resizeLongSide } from '../image/io.js';
import { checkMaskAspect, compositeRgb, decodeHeldMask, resizeMask } from '../image/mask.js';
import type { RgbImage } from '../image/types.js';
import { createRunner, defaultThreads, type Runner, type SessionOptions } from '../runtime/session.js';
import { findFastModel, listFastModels } from './catalog.js';
import { isNetworkFilePath, loadFastCheckpoint, type FastCheckpoint } from './checkpoint.js';
import { buildFastGraph, FAST_MIN_SIDE } from './network.js';
import { fromPlanar, toPlanar } from './planar.js';
import type { OptionRows } from '../options/table.js';
import type { LibraryOptions } from '../options/types.js';
import { resolveTableOptions } from '../options/validate.js';

/** Options of fastStylize(): the rows of the option table that apply to the fast job (size, threads, device, originalColors). */
export type FastStylizeOptions = Omit<LibraryOptions<OptionRows, 'fast'>, 'content' | 'model'> & { signal?: AbortSignal } & Pick<SessionOptions, 'spinning'>;

/** Largest image (pixels per image, after --size) the fast network is run on without an explicit size. */
export const FAST_MAX_PIXELS = 16_000_000;

/** Sessions kept per model (one per input size/batch/threads/device); the least recently used goes first. */
const MAX_SESSIONS = 4;

interface CachedSession {
  runner: Promise<Runner>;
  busy: number;
  used: number;
}

/** A loaded checkpoint plus its compiled sessions; call release() when done. */
export interface LoadedFastModel {
  readonly name: string;
  readonly dir: string;
  readonly checkpoint: FastCheckpoint;
  /** Number of compiled sessions held now. */
  readonly sessions: number;
  /** Run [n, 3, h, w] float RGB 0..255 through the network; returns the output, same shape, 0..255 floats. */
  run(input: Float32Array, n: number, h: number, w: number, opts?: Pick<SessionOptions, 'threads' | 'device' | 'spinning'>): Promise<Float32Array>;
  release(): Promise<void>;
}

class FastModel implements LoadedFastModel {
  private readonly cache = new Map<string, CachedSession>();
  private tick = 0;
  constructor(readonly checkpoint: FastCheckpoint) {}

  get name(): string {
    return this.checkpoint.name;
  }
  get dir(): string {
    return this.checkpoint.dir;
  }
  get sessions(): number {
    return this.cache.size;
  }

  async run(input: Float32Array, n: number, h: number, w: number, opts: Pick<SessionOptions, 'threads' | 'device' | 'spinning'> = {}): Promise<Float32Array> {
    if (input.length !== n * 3 * h * w) throw new StyleloomError('E_INTERNAL', `fast input has ${input.length} values for ${n}x3x${h}x${w}`);
    const threads = opts.threads ?? defaultThreads();
    const device = opts.device ?? 'cpu';
    const spinning = opts.spinning ?? true;
    const key = `${n}x${h}x${w}|${threads}|${device}|${spinning}`;
    let entry = this.cache.get(key);
    if (!entry) {
      const { graph } = buildFastGraph(this.checkpoint, { batch: n, height: h, width: w });
      const runner = createRunner(toOnnx(graph, `fast_${this.name}`), { threads, device, spinning });
      const fresh: CachedSession = { runner, busy: 0, used: 0 };
      this.cache.set(key, fresh);
      runner.catch(() => {
        if (this.cache.get(key) === fresh) this.cache.delete(key); // a failed compile is not cached
      });
      this.evict();
      entry = fresh;
    }
    entry.used = ++this.tick;
    entry.busy++;
    try {
      const runner = await entry.runner;
      const out = await runner.run({ image: { data: input, dims: [n, 3, h, w] } }, ['stylized']);
      return out.stylized;
    } finally {
      entry.busy--;
    }
  }

  private evict(): void {
    while (this.cache.size > MAX_SESSIONS) {
      let oldest: [string, CachedSession] | undefined;
      for (const kv of this.cache) if (kv[1].busy === 0 && (!oldest || kv[1].used < oldest[1].used)) oldest = kv;
      if (!oldest) return; // all in use: keep them for now
      this.cache.delete(oldest[0]);
      void oldest[1].runner.then((r) => r.release()).catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    await Promise.all(all.map((e) => e.runner.then((r) => r.release()).catch(() => undefined)));
  }
}

/**
 * Where a model lives: `spec` as a path, else a network called `spec` — in `$STYLELOOM_FAST_MODELS` (a folder of
 * model folders and network files, e.g. `STYLELOOM_FAST_MODELS=../shared/assets/fast-style styleloom fast --model wave`)
 * or built in (`styleloom models` lists them).
 */
export async function resolveFastModelDir(spec: string): Promise<string> {
  const isDir = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() ?? false;
  if (await isDir(spec)) return spec;
  if (isNetworkFilePath(spec) && (await stat(spec).catch(() => null))?.isFile()) return spec;
  const root = process.env.STYLELOOM_FAST_MODELS;
  const byName = !spec.includes('/') && !spec.includes(path.sep) ? await findFastModel(spec, root) : undefined;
  if (byName) return byName.path;
  const names = (await listFastModels(root)).map((m) => m.name);
  const known = names.length ? `; the networks by name: ${names.join(', ')}` : '';
  const hint = root ? ` (nor a network in $STYLELOOM_FAST_MODELS=${root})` : '';
  throw new StyleloomError('E_WEIGHTS', `${spec}: no such model directory, network file or network name${hint}${known}; pass one of those, a fast-style model folder (manifest.json + Variable files) or a .safetensors network from styleloom train`);
}

/** Load and validate a fast-style checkpoint folder, a network file (.safetensors) or a name under $STYLELOOM_FAST_MODELS. */
export async function loadFastModel(dir: string): Promise<LoadedFastModel> {
  return new FastModel(await loadFastCheckpoint(await resolveFastModelDir(dir)));
}

async function prepare(image: RgbImage | string, options: FastStylizeOptions): Promise<RgbImage> {
  let img = typeof image === 'string' ? await readImage(image) : image;
  if (img.data.length !== img.width * img.height * 3) {
    throw new StyleloomError('E_USAGE', `image data has ${img.data.length} bytes but ${img.width}x${img.height} RGB needs ${img.width * img.height * 3}; pass a consistent RgbImage`);
  }
  if (options.size !== undefined) img = await resizeLongSide(img, options.size);
  else if (img.width * img.height > FAST_MAX_PIXELS) {
    throw new StyleloomError('E_INPUT', `${typeof image === 'string' ? image : 'image'}: ${img.width}x${img.height} is more than ${FAST_MAX_PIXELS / 1e6} MP; pass a size (--size) to downscale`);
  }
  if (Math.min(img.width, img.height) < FAST_MIN_SIDE) {
    throw new StyleloomError('E_INPUT', `${typeof image === 'string' ? image : 'image'}: ${img.width}x${img.height} is too small; each side needs at least ${FAST_MIN_SIDE} pixels`);
  }
  return img;
}

function checkOptions(o: FastStylizeOptions): void {
  const { signal: _signal, spinning: _spinning, ...rest } = o;
  resolveTableOptions('fast', rest);
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'fast style transfer cancelled');
}

async function withModel<T>(model: string | LoadedFastModel, f: (m: LoadedFastModel) => Promise<T>): Promise<T> {
  if (typeof model !== 'string') return f(model);
  const m = await loadFastModel(model);
  try {
    return await f(m);
  } finally {
    await m.release();
  }
}

/**
 * Repaint `image` (a path or decoded RGB) with a feed-forward style network (a model folder, or a model
 * from loadFastModel(): pass that to reuse its compiled sessions across calls). Output size = input size
 * (after `size`).
 */
export async function fastStylize(image: RgbImage | string, model: string | LoadedFastModel, options: FastStylizeOptions = {}): Promise<RgbImage> {
  const [out] = await fastStylizeBatch([image], model, options);
  return out;
}

/**
 * Several images in one network run (a batch); after `size` they must all have the same dimensions.
 * Returns one output per input, in order.
 */
export async function fastStylizeBatch(images: (RgbImage | string)[], model: string | LoadedFastModel, options: FastStylizeOptions = {}): Promise<RgbImage[]> {
  checkOptions(options);
  checkAborted(options.signal);
  if (images.length === 0) return [];
  const imgs = await Promise.all(images.map((im) => prepare(im, options)));
  const { width: w, height: h } = imgs[0];
  const other = imgs.find((im) => im.width !== w || im.height !== h);
  if (other) {
    throw new StyleloomError('E_USAGE', `a batch needs images of one size: ${w}x${h} and ${other.width}x${other.height}; pass a size or run them one by one`);
  }
  // the mask is read and checked before the network runs (one mask for the batch: all of one shape)
  const mask = options.mask === undefined ? null : await decodeHeldMask(options.mask, typeof options.mask === 'string' ? options.mask : 'mask');
  if (mask) {
    checkMaskAspect(mask, imgs[0], `the {mask} image ${typeof options.mask === 'string' ? options.mask : '(pixels)'}`, 'the content');
    if (!mask.data.some((v) => v >= 0.5 / 255)) throw optionError('E_INPUT', `the {mask} image ${typeof options.mask === 'string' ? options.mask : '(pixels)'} is entirely black: nothing to stylise (white marks where to stylise)`);
  }
  const fitted = mask ? await resizeMask(mask, w, h) : null;
  return withModel(model, async (m) => {
    checkAborted(options.signal);
    const n = imgs.length;
    const hw = h * w;
    const input = new Float32Array(n * 3 * hw);
    imgs.forEach((im, k) => toPlanar(im, input, k * 3 * hw));
    const out = await m.run(input, n, h, w, { threads: options.threads, device: options.device, spinning: options.spinning });
    checkAborted(options.signal);
    return imgs.map((im, k) => {
      const styled = fromPlanar(out, k * 3 * hw, w, h, options.originalColors ? im : undefined);
      return fitted ? compositeRgb(styled, im, fitted) : styled;
    });
  });
}
