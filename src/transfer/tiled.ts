// Tiled evaluation of the Gatys loss and its gradient for images too large for one graph: two passes
// over halo-extended tiles (global Gram sums, then per-tile gradients of the linearised loss), so the
// result equals the untiled loss and gradient up to float32 round-off; total variation runs globally.
import { StyleloomError } from '../errors.js';
import { toOnnx } from '../graph/onnx-export.js';
import type { LossSpec } from '../loss/gatys.js';
import { buildTileGradGraph, buildTileStatsGraph, haloFor, poolsBefore, type TileMargins } from '../loss/tiled.js';
import { createRunner, type Runner, type SessionOptions } from '../runtime/session.js';
import type { Graph } from '../graph/ir.js';
import type { LossTerms } from './types.js';
import type { TargetGuide } from './targets.js';

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

/** Unnormalised Gram sums (and content core features per tile) of an image, tile by tile. */
async function tiledStats(
  spec: TiledSpec,
  cache: SessionCache,
  image: Float32Array,
  h: number,
  w: number,
  tiles: Tile[],
  contentLayers: string[],
  styleLayers: string[],
): Promise<{ sums: Map<string, Float64Array>; numel: Map<string, number>; cores: Map<string, { data: Float32Array; dims: readonly number[] }>[] }> {
  const sums = new Map<string, Float64Array>();
  const numel = new Map<string, number>();
  const cores: Map<string, { data: Float32Array; dims: readonly number[] }>[] = [];
  const tag = `stats:${contentLayers.join(',')}|${styleLayers.join(',')}`;
  for (const t of tiles) {
    const eh = t.y1 - t.y0;
    const ew = t.x1 - t.x0;
    const ts = await cache.get(`${tag}:${geomKey(t)}`, () =>
      buildTileStatsGraph(spec.weights, eh, ew, t.margins, contentLayers, styleLayers, spec.pool),
    );
    const out = await ts.runner.run({ image: { data: extract(image, h, w, t), dims: [1, 3, eh, ew] } });
    const core = new Map<string, { data: Float32Array; dims: readonly number[] }>();
    for (const l of contentLayers) {
      core.set(l, { data: out[`content_${l}`], dims: ts.outputs.get(`content_${l}`)! });
      numel.set(l, (numel.get(l) ?? 0) + out[`content_${l}`].length);
    }
    cores.push(core);
    for (const l of styleLayers) {
      const s = out[`gramsum_${l}`];
      let acc = sums.get(l);
      if (!acc) sums.set(l, (acc = new Float64Array(s.length)));
      for (let k = 0; k < s.length; k++) acc[k] += s[k];
    }
  }
  return { sums, numel, cores };
}

/** Channels C and N = C·H_l·W_l of an h x w image at each layer of a map of C x C Grams. */
function gramNorms(grams: Map<string, Float64Array>, h: number, w: number): Map<string, { c: number; n: number }> {
  const out = new Map<string, { c: number; n: number }>();
  for (const [l, g] of grams) {
    const c = Math.round(Math.sqrt(g.length));
    out.set(l, { c, n: c * featurePixels(l, h, w) });
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
    private readonly contentTargets: Map<string, { data: Float32Array; dims: readonly number[] }>[],
    private readonly contentNumel: Map<string, number>,
    private readonly styleTargets: Map<string, Float64Array>,
    private readonly norms: Map<string, { c: number; n: number }>,
  ) {}

  /** Computes the targets tile by tile (content features; blended style Grams) and prepares the tiles. */
  static async create(
    spec: TiledSpec,
    content: { data: Float32Array; height: number; width: number },
    styles: { data: Float32Array; height: number; width: number }[],
    blend: number[],
    guide: TargetGuide = {},
  ): Promise<TiledEvaluator> {
    if (spec.regions || guide.styleRegions) throw new StyleloomError('E_USAGE', 'masks are not supported with tiling yet; use {tile} 0');
    const cache = new SessionCache(spec.session);
    const { height: h, width: w } = content;
    const cl = spec.contentWeight ? spec.contentLayers : [];
    const sl = spec.styleWeight ? spec.styleLayers : [];
    const tiles = tilesFor(spec, h, w);
    const c = await tiledStats(spec, cache, content.data, h, w, tiles, cl, []);
    const styleTargets = new Map<string, Float64Array>();
    const total = blend.reduce((a, b) => a + b, 0);
    for (let k = 0; k < styles.length; k++) {
      if (blend[k] === 0 || sl.length === 0) continue;
      const s = styles[k];
      const st = await tiledStats(spec, cache, s.data, s.height, s.width, tilesFor(spec, s.height, s.width), [], sl);
      const norms = gramNorms(st.sums, s.height, s.width);
      for (const [l, sum] of st.sums) {
        let acc = styleTargets.get(l);
        if (!acc) styleTargets.set(l, (acc = new Float64Array(sum.length)));
        const f = blend[k] / total / norms.get(l)!.n;
        for (let i = 0; i < sum.length; i++) acc[i] += f * sum[i];
      }
    }
    return new TiledEvaluator(spec, cache, h, w, tiles, c.cores, c.numel, styleTargets, gramNorms(styleTargets, h, w));
  }

  get tileCount(): number {
    return this.tiles.length;
  }

  async evaluate(x: Float32Array): Promise<{ loss: LossTerms; grad: Float32Array }> {
    const { spec, h, w } = this;
    const cl = spec.contentWeight ? spec.contentLayers : [];
    const sl = spec.styleWeight ? spec.styleLayers : [];
    // Pass 1: global Grams -> style loss and dS = dL/dG / N per style layer.
    let style = 0;
    const dS = new Map<string, Float32Array>();
    if (sl.length > 0) {
      const { sums } = await tiledStats(spec, this.cache, x, h, w, this.tiles, [], sl);
      const lw = spec.styleLayerWeights;
      const lwSum = lw ? lw.reduce((a, b) => a + b, 0) : 0;
      sl.forEach((l, k) => {
        const { c, n } = this.norms.get(l)!;
        const a = this.styleTargets.get(l)!;
        const s = sums.get(l)!;
        const wl = ((lw ? (lw[k] / lwSum) * sl.length : 1) * spec.styleWeight) / sl.length;
        let mse = 0;
        const d = new Float32Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const diff = s[i] / n - a[i];
          mse += diff * diff;
          d[i] = (wl * 2 * diff) / (c * c) / n;
        }
        style += (wl * mse) / (c * c);
        dS.set(l, d);
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
        const ts = await this.cache.get(`grad:${geomKey(t)}`, () =>
          buildTileGradGraph(spec.weights, eh, ew, t.margins, cl, sl, spec.contentWeight, this.contentNumel, spec.pool).graph,
        );
        const gradName = [...ts.outputs.keys()].find((k) => k !== 'tile_content')!;
        const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = { image: { data: extract(x, h, w, t), dims: [1, 3, eh, ew] } };
        for (const l of sl) {
          const c = this.norms.get(l)!.c;
          feeds[`dS_${l}`] = { data: dS.get(l)!, dims: [c, c] };
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
