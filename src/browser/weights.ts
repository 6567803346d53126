// VGG-19 weights in the browser, from a URL, an ArrayBuffer or a File: the safetensors header first,
// then only the conv tensors the loss needs (HTTP range requests where the server allows them),
// kept in Cache Storage so that the next run reads them locally.
import { StyleloomError } from '../errors.js';
import { bytesOf, downloadError, get, openCache } from './fetch.js';
import { layersNeeded, VGG19_LAYERS, chooseLayers, vggWeightsFrom, type VggWeights } from '../model/vgg19.js';
import { parseHeader, readHeaderLength, toFloat32, type Safetensors, type Tensor, type TensorEntry } from '../model/safetensors-format.js';

export type WeightsSource = string | URL | ArrayBuffer | Uint8Array | Blob;

/** Name of the Cache Storage cache holding fetched tensor bytes. */
export const WEIGHTS_CACHE = 'styleloom-weights-v1';
/** Bytes asked for first: the 8-byte length and, almost always, the whole JSON header. */
const FIRST_CHUNK = 64 * 1024;

/** Random access to the bytes of a weights file. */
interface ByteSource {
  name: string;
  size: number;
  /** Bytes [begin, end). */
  read(begin: number, end: number): Promise<Uint8Array>;
  /** Where fetched bytes may be cached (URL sources only). */
  cacheKey?: (begin: number, end: number) => string;
}

function memorySource(bytes: Uint8Array, name: string): ByteSource {
  return { name, size: bytes.byteLength, read: async (a, b) => bytes.subarray(a, b) };
}

/** A URL: ranges where the server answers 206, else the whole file once (held in memory). */
async function urlSource(url: string): Promise<ByteSource> {
  const first = await get(url, [0, FIRST_CHUNK], 'weights');
  if (first.status !== 206) return memorySource(await bytesOf(first), url);
  const total = /\/(\d+)\s*$/.exec(first.headers.get('content-range') ?? '');
  const head = await bytesOf(first);
  if (!total) return memorySource(concat(head, await bytesOf(await get(url, undefined, 'weights'))), url);
  const size = Number(total[1]);
  const tag = first.headers.get('etag') ?? first.headers.get('last-modified') ?? '';
  return {
    name: url,
    size,
    async read(a, b) {
      if (b <= head.byteLength) return head.subarray(a, b);
      if (a >= b) return new Uint8Array(0);
      const r = await get(url, [a, b], 'weights');
      const got = await bytesOf(r);
      if (r.status === 206) {
        if (got.byteLength !== b - a) throw downloadError(`weights ${url}`, `asked for ${b - a} bytes, got ${got.byteLength}; the file is truncated or changed on the server`);
        return got;
      }
      return got.subarray(a, b); // the server sent the whole file after all
    },
    cacheKey: (a, b) => `${url}#styleloom-bytes=${a}-${b}&size=${size}&tag=${encodeURIComponent(tag)}`,
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

function blobSource(b: Blob): ByteSource {
  const name = (b as File).name ? `${(b as File).name}` : 'the weights blob';
  return { name, size: b.size, read: async (a, e) => new Uint8Array(await b.slice(a, e).arrayBuffer()) };
}

async function sourceOf(w: WeightsSource): Promise<ByteSource> {
  if (typeof w === 'string' || w instanceof URL) {
    const url = new URL(String(w), (globalThis as { location?: { href: string } }).location?.href).href;
    return urlSource(url);
  }
  if (w instanceof ArrayBuffer) return memorySource(new Uint8Array(w), 'the weights ArrayBuffer');
  if (w instanceof Uint8Array) return memorySource(w, 'the weights bytes');
  if (typeof Blob !== 'undefined' && w instanceof Blob) return blobSource(w);
  throw new StyleloomError('E_USAGE', 'weights must be a URL, an ArrayBuffer, a Uint8Array or a File (VGG-19 safetensors)');
}

/** Bytes [a, b) of `src`, from Cache Storage when there (and stored there after a fetch). */
async function cachedRead(src: ByteSource, a: number, b: number, stats: { cached: boolean }): Promise<Uint8Array> {
  const key = src.cacheKey?.(a, b);
  const cache = key ? await openCache(WEIGHTS_CACHE) : null;
  if (cache && key) {
    const hit = await cache.match(key).catch(() => undefined);
    if (hit) {
      const bytes = await bytesOf(hit);
      if (bytes.byteLength === b - a) {
        stats.cached = true;
        return bytes;
      }
    }
  }
  const bytes = await src.read(a, b);
  if (cache && key) await cache.put(key, new Response(bytes.slice(), { headers: { 'content-type': 'application/octet-stream' } })).catch(() => undefined);
  return bytes;
}

/** Tensors wanted, grouped into byte ranges read at once: neighbours less than MAX_GAP apart share one. */
const MAX_GAP = 1 << 20;
function spans(picked: [string, TensorEntry][]): [number, number, [string, TensorEntry][]][] {
  const sorted = [...picked].sort((a, b) => a[1].begin - b[1].begin);
  const out: [number, number, [string, TensorEntry][]][] = [];
  for (const t of sorted) {
    const last = out[out.length - 1];
    if (last && t[1].begin - last[1] < MAX_GAP) {
      last[1] = Math.max(last[1], t[1].end);
      last[2].push(t);
    } else out.push([t[1].begin, t[1].end, [t]]);
  }
  return out;
}

export interface LoadedWeights {
  weights: VggWeights;
  layers: { content: string[]; style: string[] };
  /** Bytes of tensor data read, and whether they came from Cache Storage. */
  bytes: number;
  cached: boolean;
}

/**
 * Reads the header of `w`, picks the layers (given or the defaults of what the file has), and loads only
 * the conv tensors up to the deepest of them. Errors: E_DOWNLOAD (fetch), E_WEIGHTS (format), E_USAGE (layers).
 */
export async function loadWeights(w: WeightsSource, contentLayers?: readonly string[], styleLayers?: readonly string[]): Promise<LoadedWeights> {
  const src = await sourceOf(w);
  const prefix = await src.read(0, Math.min(8, src.size));
  const len = readHeaderLength(prefix, src.size, src.name);
  const header = parseHeader(await src.read(8, 8 + len), src.size - 8 - len, src.name);
  const has = (conv: string) => {
    const l = VGG19_LAYERS.find((x) => x.name === conv);
    return !!l && header.entries.has(`features.${l.index}.weight`);
  };
  const chosen = chooseLayers(has, contentLayers, styleLayers);
  const wanted = new Set<string>();
  for (const name of layersNeeded([...chosen.content, ...chosen.style])) {
    const l = VGG19_LAYERS.find((x) => x.name === name)!;
    if (l.kind === 'conv') for (const part of ['weight', 'bias']) wanted.add(`features.${l.index}.${part}`);
  }
  const picked: [string, TensorEntry][] = [...header.entries].filter(([n, e]) => wanted.has(n) && e.end > e.begin);
  const tensors = new Map<string, Tensor>();
  const stats = { cached: false };
  let bytes = 0;
  for (const [lo, hi, members] of spans(picked)) {
    const span = await cachedRead(src, header.dataStart + lo, header.dataStart + hi, stats);
    bytes += span.byteLength;
    for (const [n, e] of members) tensors.set(n, { dtype: e.dtype, shape: [...e.shape], data: toFloat32(span.subarray(e.begin - lo, e.end - lo), e.dtype) });
  }
  const st: Safetensors = { metadata: header.metadata, tensors, entries: header.entries };
  const weights = vggWeightsFrom(st, src.name);
  return { weights, layers: chosen, bytes, cached: stats.cached };
}
