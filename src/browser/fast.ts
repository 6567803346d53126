// fastStylize() in the browser: a feed-forward style network (manifest.json + Variable files, from a
// folder URL or picked files) built by the node library's graph code and run once on onnxruntime-web.
import { StyleloomError } from '../errors.js';
import { toOnnx } from '../graph/onnx-export.js';
import type { RgbImage } from '../image/types.js';
import { assembleCheckpoint, checkShapes, parseManifest, variableFromBytes, variableName, type FastCheckpoint } from '../fast/checkpoint-format.js';
import { buildFastGraph, FAST_MIN_SIDE } from '../fast/network.js';
import { fromPlanar, toPlanar } from '../fast/planar.js';
import type { OptionRows } from '../options/table.js';
import type { LibraryOptions } from '../options/types.js';
import { resolveTableOptions } from '../options/validate.js';
import { createWebRuntime, type WebBackend } from '../runtime/web.js';
import { bytesOf, get, openCache } from './fetch.js';
import { atLongSide, toRgb, type PixelSource } from './pixels.js';

/** A model folder: its URL (manifest.json and the files it lists under it), or its files (e.g. a folder picked). */
export type FastModelSource = string | URL | ArrayLike<File> | Iterable<File>;

export const MODELS_CACHE = 'styleloom-models-v1';

/** The node library's fast options (the option table's fast rows: size, originalColors, threads), browser inputs. */
export interface BrowserFastOptions extends Omit<LibraryOptions<OptionRows, 'fast'>, 'content' | 'model' | 'mask' | 'device'> {
  content: PixelSource;
  model: FastModelSource;
  backend?: WebBackend;
  wasmPaths?: string;
}

export interface BrowserFastResult {
  image: RgbImage;
  /** Time of the network run (after the session is built), ms. */
  ms: number;
  backend: 'wasm' | 'webgpu';
  name: string;
}

async function fetchCached(url: string): Promise<Uint8Array> {
  const cache = await openCache(MODELS_CACHE);
  const hit = await cache?.match(url).catch(() => undefined);
  if (hit) return bytesOf(hit);
  const bytes = await bytesOf(await get(url, undefined, 'fast model file'));
  await cache?.put(url, new Response(bytes.slice())).catch(() => undefined);
  return bytes;
}

/** Loads and checks a checkpoint in the browser (same checks and messages as node's loader). */
export async function loadFastModel(src: FastModelSource): Promise<FastCheckpoint> {
  if (typeof src === 'string' || src instanceof URL) {
    const dir = new URL(String(src).replace(/\/?$/, '/'), (globalThis as { location?: { href: string } }).location?.href).href;
    const manifestUrl = new URL('manifest.json', dir).href;
    const entries = parseManifest(new TextDecoder().decode(await bytesOf(await get(manifestUrl, undefined, 'fast model manifest'))), manifestUrl);
    const urlOf = (i: number) => new URL(entries[i].filename, dir).href;
    const channels = checkShapes(entries, urlOf);
    const data = await Promise.all(entries.map(async (e, i) => variableFromBytes(await fetchCached(urlOf(i)), urlOf(i), variableName(i), e.shape)));
    const name = decodeURIComponent(dir.replace(/\/$/, '').split('/').pop() ?? 'model');
    return assembleCheckpoint(dir, name, entries, channels, data);
  }
  const files = Array.from(src as ArrayLike<File>);
  const byName = new Map(files.map((f) => [f.name, f]));
  const manifest = byName.get('manifest.json');
  if (!manifest) throw new StyleloomError('E_WEIGHTS', 'the model files have no manifest.json; pick the whole model folder (manifest.json + Variable files)');
  const entries = parseManifest(await manifest.text(), 'manifest.json');
  const channels = checkShapes(entries, (i) => entries[i].filename);
  const data = await Promise.all(
    entries.map(async (e, i) => {
      const f = byName.get(e.filename);
      if (!f) throw new StyleloomError('E_WEIGHTS', `${e.filename}: missing (listed in manifest.json as ${variableName(i)}); pick the whole model folder`);
      return variableFromBytes(new Uint8Array(await f.arrayBuffer()), e.filename, variableName(i), e.shape);
    }),
  );
  const folder = (files[0] as File & { webkitRelativePath?: string }).webkitRelativePath?.split('/')[0] || 'model';
  return assembleCheckpoint(folder, folder, entries, channels, data);
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'fast style transfer cancelled');
}

/**
 * Repaints `content` with a feed-forward style network in this browser (one network run). Options as
 * node's fastStylize (`size`, `originalColors`, `threads`), validated by the same option table.
 */
export async function fastStylize(options: BrowserFastOptions, hooks: { signal?: AbortSignal } = {}): Promise<BrowserFastResult> {
  const { content, model, backend, wasmPaths, ...rest } = options;
  resolveTableOptions('fast', rest);
  checkAborted(hooks.signal);
  const runtime = await createWebRuntime({ backend, threads: rest.threads, wasmPaths });
  const raw = await toRgb(content, 'the content image');
  const img = rest.size === undefined ? raw : await atLongSide(raw, rest.size, 'the content image');
  if (Math.min(img.width, img.height) < FAST_MIN_SIDE) {
    throw new StyleloomError('E_INPUT', `the content image: ${img.width}x${img.height} is too small; each side needs at least ${FAST_MIN_SIDE} pixels`);
  }
  const ckpt = await loadFastModel(model);
  checkAborted(hooks.signal);
  const { width: w, height: h } = img;
  const { graph } = buildFastGraph(ckpt, { batch: 1, height: h, width: w });
  const runner = await runtime.createRunner(toOnnx(graph, `fast_${ckpt.name}`));
  try {
    const input = new Float32Array(3 * w * h);
    toPlanar(img, input, 0);
    const t = performance.now();
    const out = await runner.run({ image: { data: input, dims: [1, 3, h, w] } }, ['stylized']);
    const ms = performance.now() - t;
    checkAborted(hooks.signal);
    return { image: fromPlanar(out.stylized, 0, w, h, rest.originalColors ? img : undefined), ms, backend: runtime.backend, name: ckpt.name };
  } finally {
    await runner.release();
  }
}
