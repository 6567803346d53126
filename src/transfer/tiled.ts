// Tiled evaluation of the Gatys loss and its gradient for images too large for one graph: two passes
// over halo-extended tiles (global Gram sums, then per-tile gradients of the linearised loss), so the
// result equals the untiled loss and gradient up to float32 round-off; total variation runs globally.
// Masks (regions of the style loss) are tiled with the image: each tile gets its core's part of them.
import { StyleloomError } from '../errors.js';
import { toOnnx } from '../graph/onnx-export.js';
import type { LossSpec } from '../loss/gatys.js';
import { buildTileGradGraph, buildTileStatsGraph, coreBox, haloFor, poolsBefore, type TileMargins } from '../loss/tiled.js';
import { createRunner, type Runner, type SessionOptions } from '../runtime/session.js';
import type { Graph } from '../graph/ir.js';
import type { LossTerms } from './types.js';
import type { TargetGuide } from './targets.js';
import { styleKey } from '../loss/gatys.js';
import { maskAfterPools, maskEnergy, type MaskPlane } from '../loss/regions.js';

export interface Tile {
  /** Extended region (core + halo) in image pixels: rows [y0, y1), columns [x0, x1). */
  y0: number;
  y1: number;
  x0: number;
  x1: number;
  margins: TileMargins;
}

/** Core boundaries along one axis: about `tile` apart, on multiples of `align`, the last at `size`. */
function cuts(size: number, tile: number, align: number): number[] {
  const n = Math.max(1, Math.round(size / tile));
  const out = [0];
  for (let i = 1; i < n; i++) out.push(Math.floor((i * size) / n / align) * align);
  out.push(size);
  return out.filter((v, i, a) => i === 0 || v > a[i - 1]);
}

/** Tiles covering an H x W image with cores about `tile` px and halos of `halo` px. */
export function planTiles(h: number, w: number, tile: number, halo: number, align: number): Tile[] {
  if (tile < 2 * align) throw new StyleloomError('E_USAGE', `--tile ${tile} is too small; use at least ${2 * align}`);
  const ys = cuts(h, tile, align);
  const xs = cuts(w, tile, align);
  const tiles: Tile[] = [];
  for (let i = 0; i + 1 < ys.length; i++)
    for (let j = 0; j + 1 < xs.length; j++) {
      const y0 = Math.max(0, ys[i] - halo);
      const y1 = Math.min(h, ys[i + 1] + halo);
      const x0 = Math.max(0, xs[j] - halo);
      const x1 = Math.min(w, xs[j + 1] + halo);
      tiles.push({ y0, y1, x0, x1, margins: { top: ys[i] - y0, left: xs[j] - x0, bottom: y1 - ys[i + 1], right: x1 - xs[j + 1] } });
    }
  return tiles;
}

/** Copy the extended region of a 1x3xHxW tensor. */
function extract(x: Float32Array, h: number, w: number, t: Tile): Float32Array {
  const th = t.y1 - t.y0;
  const tw = t.x1 - t.x0;
  const out = new Float32Array(3 * th * tw);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < th; i++) {
      const src = (c * h + t.y0 + i) * w + t.x0;
      out.set(x.subarray(src, src + tw), (c * th + i) * tw);
    }
  return out;
}

function accumulate(grad: Float32Array, h: number, w: number, t: Tile, g: Float32Array): void {
  const th = t.y1 - t.y0;
  const tw = t.x1 - t.x0;
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < th; i++) {
      const dst = (c * h + t.y0 + i) * w + t.x0;
      const src = (c * th + i) * tw;
      for (let j = 0; j < tw; j++) grad[dst + j] += g[src + j];
    }
}

/** Total variation of LOSS.md on the whole image, and its gradient added into `grad`. */
export function tvLossAndGrad(x: Float32Array, h: number, w: number, weight: number, grad: Float32Array): number {
  let s = 0;
  const k = (2 * weight) / (h * w);
  for (let c = 0; c < 3; c++) {
    const base = c * h * w;
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const p = base + i * w + j;
        if (j + 1 < w) {
          const d = x[p + 1] - x[p];
          s += d * d;
          grad[p] -= k * d;
          grad[p + 1] += k * d;
        }
        if (i + 1 < h) {
          const d = x[p + w] - x[p];
          s += d * d;
          grad[p] -= k * d;
          grad[p + w] += k * d;
        }
      }
  }
  return (weight * s) / (h * w);
}

export interface TiledSpec extends LossSpec {
  /** Core tile size, px. */
  tile: number;
  session: SessionOptions;
}

/** A compiled tile graph: its runner and the names and shapes of its outputs. */
interface TileSession {
  runner: Runner;
  outputs: Map<string, readonly number[]>;
}

/** Sessions per tile geometry (kind, size, margins), created on first use; arena off so idle ones hold no memory. */
class SessionCache {
  private readonly sessions = new Map<string, Promise<TileSession>>();
  constructor(private readonly session: SessionOptions) {}
  get(key: string, build: () => Graph): Promise<TileSession> {
    let r = this.sessions.get(key);
    if (!r) {
      const g = build();
      r = createRunner(toOnnx(g, 'tile'), { ...this.session, arena: false }).then((runner) => ({
        runner,
        outputs: new Map(g.outputs.map((v) => [v.name, v.shape])),
      }));
      this.sessions.set(key, r);
    }
    return r;
  }
  async release(): Promise<void> {
    for (const r of this.sessions.values()) await (await r).runner.release();
    this.sessions.clear();
  }
}

const geomKey = (t: Tile) => `${t.y1 - t.y0}x${t.x1 - t.x0}:${t.margins.top},${t.margins.left},${t.margins.bottom},${t.margins.right}`;

/** The tiles of an h x w image for this spec's layers and tile size. */
function tilesFor(spec: TiledSpec, h: number, w: number): Tile[] {
  const { halo, align } = haloFor([...spec.contentLayers, ...spec.styleLayers]);
  return planTiles(h, w, spec.tile, halo, align);
}

type Feed = { data: Float32Array; dims: readonly number[] };

/** Region masks of an image at each style layer (2x2 averages per pooling, as the features). */
function layerMasks(masks: MaskPlane[], layers: string[]): Map<string, MaskPlane> {
  const out = new Map<string, MaskPlane>();
  for (const l of layers) masks.forEach((m, r) => out.set(styleKey(l, r), maskAfterPools(m, poolsBefore(l))));
  return out;
}

/** The part of a layer mask under a tile's core, as the stats and gradient graphs' `mask_<l>_r<r>` input. */
function coreMask(m: MaskPlane, layer: string, t: Tile): Feed {
  const s = 2 ** poolsBefore(layer);
  const b = coreBox(layer, t.y1 - t.y0, t.x1 - t.x0, t.margins);
  const top = t.y0 / s + b.top;
  const left = t.x0 / s + b.left;
  const data = new Float32Array(b.h * b.w);
  for (let i = 0; i < b.h; i++) data.set(m.data.subarray((top + i) * m.width + left, (top + i) * m.width + left + b.w), i * b.w);
  return { data, dims: [1, 1, b.h, b.w] };
}

/** The mask feeds of one tile: every style layer, every region. */
function maskFeeds(masks: Map<string, MaskPlane> | null, layers: string[], regions: number, t: Tile): Record<string, Feed> {
  const feeds: Record<string, Feed> = {};
  if (!masks) return feeds;
  for (const l of layers) for (let r = 0; r < regions; r++) feeds[`mask_${l}_r${r}`] = coreMask(masks.get(styleKey(l, r))!, l, t);
  return feeds;
}

/**
 * Unnormalised Gram sums (and content core features per tile) of an image, tile by tile; with `masks`
 * (regions at the image's size) one guided sum per region, keyed `layer/region`.
 */
async function tiledStats(
  spec: TiledSpec,
  cache: SessionCache,
  image: Float32Array,
  h: number,
  w: number,
  tiles: Tile[],
  contentLayers: string[],
  styleLayers: string[],
  masks: MaskPlane[] = [],
): Promise<{ sums: Map<string, Float64Array>; numel: Map<string, number>; cores: Map<string, Feed>[] }> {
  const sums = new Map<string, Float64Array>();
  const numel = new Map<string, number>();
  const cores: Map<string, Feed>[] = [];
  const regions = masks.length;
  const lm = regions ? layerMasks(masks, styleLayers) : null;
  const tag = `stats:${contentLayers.join(',')}|${styleLayers.join(',')}|${regions}`;
  for (const t of tiles) {
    const eh = t.y1 - t.y0;
    const ew = t.x1 - t.x0;
    const ts = await cache.get(`${tag}:${geomKey(t)}`, () =>
      buildTileStatsGraph(spec.weights, eh, ew, t.margins, contentLayers, styleLayers, spec.pool, regions),
    );
    const out = await ts.runner.run({ image: { data: extract(image, h, w, t), dims: [1, 3, eh, ew] }, ...maskFeeds(lm, styleLayers, regions, t) });
    const core = new Map<string, Feed>();
    for (const l of contentLayers) {
      core.set(l, { data: out[`content_${l}`], dims: ts.outputs.get(`content_${l}`)! });
      numel.set(l, (numel.get(l) ?? 0) + out[`content_${l}`].length);
    }
    cores.push(core);
    for (const l of styleLayers) {
      for (let r = 0; r < Math.max(1, regions); r++) {
        const key = regions ? styleKey(l, r) : styleKey(l);
        const s = out[regions ? `gramsum_${l}_r${r}` : `gramsum_${l}`];
        let acc = sums.get(key);
        if (!acc) sums.set(key, (acc = new Float64Array(s.length)));
        for (let k = 0; k < s.length; k++) acc[k] += s[k];
      }
    }
  }
  return { sums, numel, cores };
}

/**
 * Channels C and the normalisation N of each Gram sum: C·H_l·W_l for a plain one, C·Σm_l² for a guided
 * one (keys `layer/region`, masks at the image's size).
 */
function gramNorms(grams: Map<string, Float64Array>, h: number, w: number, masks: MaskPlane[] = []): Map<string, { c: number; n: number }> {
  const out = new Map<string, { c: number; n: number }>();
  for (const [key, g] of grams) {
    const c = Math.round(Math.sqrt(g.length));
    const [l, r] = key.split('/');
    const px = r === undefined ? featurePixels(l, h, w) : maskEnergy(maskAfterPools(masks[Number(r)], poolsBefore(l)));
    if (!(px > 0)) throw new StyleloomError('E_INPUT', `a mask region has no pixel left at layer ${l}; use a larger mask region or a larger size`);
    out.set(key, { c, n: c * px });
  }
  return out;
}

/** Feature-map pixels at a layer for an h x w image (floor pooling). */
export function featurePixels(layer: string, h: number, w: number): number {
  let fh = h;
  let fw = w;
  for (let p = 0; p < poolsBefore(layer); p++) {
    fh = Math.floor(fh / 2);
    fw = Math.floor(fw / 2);
  }
  return fh * fw;
}

export class TiledEvaluator {
  private constructor(
    private readonly spec: TiledSpec,
    private readonly cache: SessionCache,
    private readonly h: number,
    private readonly w: number,
    private readonly tiles: Tile[],
    private readonly contentTargets: Map<string, Feed>[],
    private readonly contentNumel: Map<string, number>,
    private readonly styleTargets: Map<string, Float64Array>,
    private readonly norms: Map<string, { c: number; n: number }>,
    /** The regions' masks at each style layer (keys `layer/region`), null without regions. */
    private readonly masks: Map<string, MaskPlane> | null,
  ) {}

  /**
   * Computes the targets tile by tile (content features; blended style Grams, guided by the style regions
   * of `guide`, one per region of `guide.groups`) and prepares the tiles.
   */
  static async create(
    spec: TiledSpec,
    content: { data: Float32Array; height: number; width: number },
    styles: { data: Float32Array; height: number; width: number }[],
    blend: number[],
    guide: TargetGuide = {},
  ): Promise<TiledEvaluator> {
    const cache = new SessionCache(spec.session);
    const { height: h, width: w } = content;
    const cl = spec.contentWeight ? spec.contentLayers : [];
    const sl = spec.styleWeight ? spec.styleLayers : [];
    const tiles = tilesFor(spec, h, w);
    const c = await tiledStats(spec, cache, content.data, h, w, tiles, cl, []);
    const styleTargets = new Map<string, Float64Array>();
    const groups = guide.groups ?? [styles.map((_, k) => k)];
    for (let k = 0; k < styles.length; k++) {
      if (blend[k] === 0 || sl.length === 0) continue;
      const s = styles[k];
      const region = guide.styleRegions?.[k];
      const masks = region ? [region] : [];
      const st = await tiledStats(spec, cache, s.data, s.height, s.width, tilesFor(spec, s.height, s.width), [], sl, masks);
      const norms = gramNorms(st.sums, s.height, s.width, masks);
      groups.forEach((members, gi) => {
        if (!members.includes(k)) return;
        const total = members.reduce((a, m) => a + blend[m], 0);
        for (const l of sl) {
          const from = region ? styleKey(l, 0) : styleKey(l);
          const key = guide.groups ? styleKey(l, gi) : styleKey(l);
          const sum = st.sums.get(from)!;
          let acc = styleTargets.get(key);
          if (!acc) styleTargets.set(key, (acc = new Float64Array(sum.length)));
          const f = blend[k] / total / norms.get(from)!.n;
          for (let i = 0; i < sum.length; i++) acc[i] += f * sum[i];
        }
      });
    }
    const regions = spec.regions?.masks ?? [];
    const masks = regions.length ? layerMasks(regions, sl) : null;
    return new TiledEvaluator(spec, cache, h, w, tiles, c.cores, c.numel, styleTargets, gramNorms(styleTargets, h, w, regions), masks);
  }

  get tileCount(): number {
    return this.tiles.length;
  }

  async evaluate(x: Float32Array): Promise<{ loss: LossTerms; grad: Float32Array }> {
    const { spec, h, w } = this;
    const cl = spec.contentWeight ? spec.contentLayers : [];
    const sl = spec.styleWeight ? spec.styleLayers : [];
    // Pass 1: global Grams -> style loss and dS = dL/dG / N per style layer (and region).
    const regions = spec.regions?.masks.length ?? 0;
    let style = 0;
    const dS = new Map<string, Float32Array>();
    if (sl.length > 0) {
      const { sums } = await tiledStats(spec, this.cache, x, h, w, this.tiles, [], sl, spec.regions?.masks);
      const lw = spec.styleLayerWeights;
      const lwSum = lw ? lw.reduce((a, b) => a + b, 0) : 0;
      sl.forEach((l, k) => {
        const parts: [string, number][] = regions ? spec.regions!.weights.map((wr, r) => [styleKey(l, r), wr]) : [[styleKey(l), 1]];
        for (const [key, wr] of parts) {
          const { c, n } = this.norms.get(key)!;
          const a = this.styleTargets.get(key)!;
          const s = sums.get(key)!;
          const wl = (wr * (lw ? (lw[k] / lwSum) * sl.length : 1) * spec.styleWeight) / sl.length;
          let mse = 0;
          const d = new Float32Array(s.length);
          for (let i = 0; i < s.length; i++) {
            const diff = s[i] / n - a[i];
            mse += diff * diff;
            d[i] = (wl * 2 * diff) / (c * c) / n;
          }
          style += (wl * mse) / (c * c);
          dS.set(key, d);
        }
      });
    }
    // Pass 2: per-tile gradients of the linearised loss, summed over overlapping halos.
    const grad = new Float32Array(x.length);
    let content = 0;
    if (cl.length + sl.length > 0) {
      for (let ti = 0; ti < this.tiles.length; ti++) {
        const t = this.tiles[ti];
        const eh = t.y1 - t.y0;
        const ew = t.x1 - t.x0;
        const ts = await this.cache.get(`grad:${regions}:${geomKey(t)}`, () =>
          buildTileGradGraph(spec.weights, eh, ew, t.margins, cl, sl, spec.contentWeight, this.contentNumel, spec.pool, regions).graph,
        );
        const gradName = [...ts.outputs.keys()].find((k) => k !== 'tile_content')!;
        const feeds: Record<string, Feed> = { image: { data: extract(x, h, w, t), dims: [1, 3, eh, ew] }, ...maskFeeds(this.masks, sl, regions, t) };
        for (const [key, d] of dS) {
          const c = this.norms.get(key)!.c;
          feeds[`dS_${key.replace('/', '_r')}`] = { data: d, dims: [c, c] };
        }
        for (const l of cl) feeds[`target_${l}`] = this.contentTargets[ti].get(l)!;
        const out = await ts.runner.run(feeds);
        if (cl.length > 0) content += out.tile_content[0];
        accumulate(grad, h, w, t, out[gradName]);
      }
    }
    const tv = spec.tvWeight ? tvLossAndGrad(x, h, w, spec.tvWeight, grad) : 0;
    return { loss: { content, style, tv, total: content + style + tv }, grad };
  }

  release(): Promise<void> {
    return this.cache.release();
  }
}
