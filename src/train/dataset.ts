// The training photos: a folder read recursively (any format sharp reads; unreadable files skipped with a
// warning and counted, each kept file's SHA-256 for the manifest), and seeded batches of random square crops
// (the whole short side, or a random share of it from a decoded copy kept in memory) with horizontal flips, decoded
// ahead of the training step in a small prefetch queue; with a noise level, each batch also with seeded Gaussian noise.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { StyleloomError } from '../errors.js';
import { Rng } from '../util/rng.js';

export interface Photo {
  /** Absolute path, and the path relative to the folder (with '/'), as the manifest lists it. */
  file: string;
  rel: string;
  sha256: string;
}

export interface PhotoSet {
  dir: string;
  photos: Photo[];
  /** Files that are not images sharp can read (skipped). */
  skipped: number;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** Scans `dir` (recursively, sorted, dot-files left out); throws E_INPUT when it has no readable image. */
export async function scanPhotos(dir: string, warn: (line: string) => void = () => {}): Promise<PhotoSet> {
  const abs = path.resolve(dir);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new StyleloomError('E_INPUT', `${dir}: no such folder; give --images a folder of training photos`);
  if (!st.isDirectory()) throw new StyleloomError('E_INPUT', `${dir}: is not a folder; give --images a folder of training photos`);
  const files = await listFiles(abs);
  if (files.length === 0) throw new StyleloomError('E_INPUT', `${dir}: the folder has no files; put training photos (JPEG, PNG, WebP, ...) in it`);
  const photos: Photo[] = [];
  const skippedLines: string[] = [];
  for (const file of files) {
    const rel = path.relative(abs, file).split(path.sep).join('/');
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      if (!meta.width || !meta.height) throw new Error('no size');
    } catch {
      skippedLines.push(`skipping ${rel}: not an image sharp can read`);
      continue;
    }
    photos.push({ file, rel, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  if (photos.length === 0) throw new StyleloomError('E_INPUT', `${dir}: none of its ${files.length} files is an image sharp can read; add training photos (JPEG, PNG, WebP, ...)`);
  skippedLines.forEach((line) => warn(line));
  return { dir: abs, photos, skipped: skippedLines.length };
}

/** Where one crop of a batch comes from: drawn from the training RNG, in order, before it is decoded. */
interface CropPlan {
  photo: number;
  /** Crop offset as a fraction of the free room along x and y, and whether to mirror it. */
  fx: number;
  fy: number;
  flip: boolean;
  /** With a crop scale below 1: where the crop's side lies between the smallest and the whole short side (0..1). */
  fs?: number;
}

export interface Batch {
  /** [batch, 3, size, size] RGB 0..255. */
  data: Float32Array;
  /** With a noise level: the crops plus Gaussian noise of that std, clipped to 0..255 (the stability term's input). */
  perturbed?: Float32Array;
  /** The RNG state right after this batch's plan was drawn (what a checkpoint after this step saves). */
  rngAfter: ReturnType<Rng['getState']>;
}

/**
 * Decodes `photo` scaled (Lanczos) so that its short side is `size`, and copies the crop into `out` at `offset`
 * (planar RGB floats), mirrored if asked.
 */
async function decodeCrop(photo: Photo, plan: CropPlan, size: number, out: Float32Array, offset: number): Promise<void> {
  const { data, info } = await sharp(photo.file, { failOn: 'truncated', autoOrient: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(size, size, { fit: 'outside', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = info;
  const x0 = Math.min(w - size, Math.floor(plan.fx * (w - size + 1)));
  const y0 = Math.min(h - size, Math.floor(plan.fy * (h - size + 1)));
  copyPlanar(data, w, x0, y0, size, plan.flip, out, offset);
}

/** A photo decoded once at the short side its smallest crop needs (raw RGB), for crops at random scales. */
interface Decoded {
  data: Buffer;
  width: number;
  height: number;
}

/** Decoded photos kept for scaled crops, least recently used dropped beyond this many bytes. */
const DECODED_CACHE_BYTES = 512 * 1024 * 1024;

async function decodeWhole(photo: Photo, shortSide: number): Promise<Decoded> {
  const { data, info } = await sharp(photo.file, { failOn: 'truncated', autoOrient: true, limitInputPixels: false })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(shortSide, shortSide, { fit: 'outside', kernel: 'lanczos3' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Copies a `size` square of interleaved RGB `src` (`w` wide) at (x0, y0) into planar `out`, mirrored if asked. */
function copyPlanar(src: Buffer, w: number, x0: number, y0: number, size: number, flip: boolean, out: Float32Array, offset: number): void {
  const hw = size * size;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = x0 + (flip ? size - 1 - x : x);
      const s = ((y0 + y) * w + sx) * 3;
      const d = offset + y * size + x;
      out[d] = src[s];
      out[d + hw] = src[s + 1];
      out[d + 2 * hw] = src[s + 2];
    }
}

/** A crop of side between `minScale` and all of the decoded photo's short side, scaled (Lanczos) to `size`. */
async function scaledCrop(img: Decoded, plan: CropPlan, size: number, minScale: number, out: Float32Array, offset: number): Promise<void> {
  const short = Math.min(img.width, img.height);
  const side = Math.max(size, Math.min(short, Math.round(short * (minScale + (plan.fs ?? 1) * (1 - minScale)))));
  const left = Math.min(img.width - side, Math.floor(plan.fx * (img.width - side + 1)));
  const top = Math.min(img.height - side, Math.floor(plan.fy * (img.height - side + 1)));
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left, top, width: side, height: side })
    .resize(size, size, { kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  copyPlanar(data, size, 0, 0, size, plan.flip, out, offset);
}

/** `data` plus N(0, std²) noise from `new Rng(seed)`, clipped to 0..255. */
export function withNoise(data: Float32Array, std: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.min(255, Math.max(0, data[i] + std * rng.normal()));
  return out;
}

/**
 * Batches of `batch` crops of side `size`, planned from `rng` in order and decoded `depth` batches ahead, so the
 * same seed (or RNG state) gives the same batches. A photo that fails to decode is skipped (warned once) for the
 * next one in the folder's order. With `minScale` below 1 each crop covers a random share in [minScale, 1] of the
 * photo's short side (one more draw per crop), cut from a decoded copy kept in memory. With `noiseStd` above 0 each
 * batch also comes with a noisy copy (one more draw per batch seeds its noise).
 */
export class BatchQueue {
  private readonly pending: Promise<Batch>[] = [];
  private readonly bad = new Set<number>();
  private readonly decoded = new Map<number, Promise<Decoded>>();
  private readonly decodedSizes = new Map<number, number>();

  constructor(
    private readonly set: PhotoSet,
    private readonly rng: Rng,
    private readonly batch: number,
    private readonly size: number,
    private readonly warn: (line: string) => void = () => {},
    private readonly depth = 2,
    private readonly minScale = 1,
    private readonly noiseStd = 0,
  ) {
    for (let k = 0; k < depth; k++) this.pending.push(this.load());
  }

  /** The next batch (and starts decoding one more). */
  async next(): Promise<Batch> {
    const b = this.pending.shift()!;
    this.pending.push(this.load());
    return b;
  }

  /** Waits for the batches being decoded (so none is left running when training stops). */
  async close(): Promise<void> {
    await Promise.allSettled(this.pending);
  }

  private load(): Promise<Batch> {
    const n = this.set.photos.length;
    const plans: CropPlan[] = [];
    for (let i = 0; i < this.batch; i++) {
      const plan: CropPlan = { photo: Math.min(n - 1, Math.floor(this.rng.nextFloat() * n)), fx: this.rng.nextFloat(), fy: this.rng.nextFloat(), flip: this.rng.nextFloat() < 0.5 };
      if (this.minScale < 1) plan.fs = this.rng.nextFloat();
      plans.push(plan);
    }
    // one draw seeds the batch's noise, so the plans stay one short stream and the noise is made after decoding
    const noiseSeed = this.noiseStd > 0 ? this.rng.nextUint32() : undefined;
    const rngAfter = this.rng.getState();
    const data = new Float32Array(this.batch * 3 * this.size * this.size);
    const one = async (plan: CropPlan, i: number) => {
      for (let tries = 0; tries < n; tries++) {
        const k = (plan.photo + tries) % n;
        if (this.bad.has(k)) continue;
        try {
          const offset = i * 3 * this.size * this.size;
          if (this.minScale < 1) await scaledCrop(await this.decodedPhoto(k), plan, this.size, this.minScale, data, offset);
          else await decodeCrop(this.set.photos[k], plan, this.size, data, offset);
          return;
        } catch {
          this.decoded.delete(k);
          if (!this.bad.has(k)) this.warn(`skipping ${this.set.photos[k].rel}: its image data is truncated or corrupt`);
          this.bad.add(k);
        }
      }
      throw new StyleloomError('E_INPUT', `${this.set.dir}: no training photo could be decoded; check the files`);
    };
    const p = Promise.all(plans.map(one)).then((): Batch => (noiseSeed === undefined ? { data, rngAfter } : { data, perturbed: withNoise(data, this.noiseStd, noiseSeed), rngAfter }));
    p.catch(() => undefined); // surfaced when next() hands it out
    return p;
  }

  /** Photo `k` decoded at the short side its smallest crop needs, from the cache (least recently used dropped). */
  private decodedPhoto(k: number): Promise<Decoded> {
    const hit = this.decoded.get(k);
    if (hit) {
      this.decoded.delete(k);
      this.decoded.set(k, hit);
      return hit;
    }
    const p = decodeWhole(this.set.photos[k], Math.ceil(this.size / this.minScale));
    this.decoded.set(k, p);
    p.then((img) => {
      this.decodedSizes.set(k, img.data.length);
      let bytes = [...this.decodedSizes.values()].reduce((a, b) => a + b, 0);
      for (const key of [...this.decoded.keys()]) {
        if (bytes <= DECODED_CACHE_BYTES) break;
        if (key === k || !this.decodedSizes.has(key)) continue;
        bytes -= this.decodedSizes.get(key)!;
        this.decoded.delete(key);
        this.decodedSizes.delete(key);
      }
    }, () => undefined);
    return p;
  }
}
