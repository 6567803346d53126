// Graphs for one tile of a tiled evaluation (high resolution): features of the tile's core region,
// taken from a tile extended by a halo wide enough that the core's features equal the untiled ones.
// Stats graph: unnormalised Gram sums (and content features) of the core. Gradient graph: the
// linearised style term <dS, S_core> plus the core's content term, and its gradient to the tile. With
// regions (masks), one guided Gram sum per region, the core's masks fed at run time.
import { Graph, numel, type Value } from '../graph/ir.js';
import { gradients } from '../graph/autodiff.js';
import { VGG19_LAYERS, type VggWeights } from '../model/vgg19.js';
import type { PoolKind } from './types.js';
import { buildVggFeatures } from './vgg-graph.js';

/** The core region of an extended tile, as margins in input pixels (0 where the tile meets the image edge). */
export interface TileMargins {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** Number of 2x2 pools before a conv layer. */
export function poolsBefore(layer: string): number {
  let n = 0;
  for (const l of VGG19_LAYERS) {
    if (l.name === layer) return n;
    if (l.kind === 'pool') n++;
  }
  return n;
}

/**
 * Halo (px) that covers the receptive field of the deepest layer, rounded up to the pooling alignment,
 * and that alignment (2^pools): tile boundaries must fall on multiples of it.
 */
export function haloFor(layers: string[]): { halo: number; align: number } {
  const deepest = Math.max(...layers.map((l) => VGG19_LAYERS.findIndex((v) => v.name === l)));
  let scale = 1;
  let radius = 0;
  for (let k = 0; k <= deepest; k++) {
    if (VGG19_LAYERS[k].kind === 'conv') radius += scale;
    else {
      radius += scale;
      scale *= 2;
    }
  }
  const align = 2 ** Math.max(...layers.map(poolsBefore));
  return { halo: Math.ceil(radius / align) * align, align };
}

/** The core of a tile at a layer, in that layer's pixels relative to the extended tile: offset and size. */
export function coreBox(layer: string, extH: number, extW: number, m: TileMargins): { top: number; left: number; h: number; w: number } {
  const s = 2 ** poolsBefore(layer);
  let fh = extH;
  let fw = extW;
  for (let p = poolsBefore(layer); p > 0; p--) {
    fh = Math.floor(fh / 2);
    fw = Math.floor(fw / 2);
  }
  const top = m.top / s;
  const left = m.left / s;
  const bottom = m.bottom === 0 ? 0 : fh - (extH - m.bottom) / s;
  const right = m.right === 0 ? 0 : fw - (extW - m.right) / s;
  return { top, left, h: fh - top - bottom, w: fw - left - right };
}

/** Crop the core of feature map f (of layer `layer`) given the tile's margins in input pixels. */
function cropCore(g: Graph, f: Value, layer: string, extH: number, extW: number, m: TileMargins): Value {
  const [, , fh, fw] = f.shape;
  const b = coreBox(layer, extH, extW, m);
  const pads = [b.top, b.left, fh - b.top - b.h, fw - b.left - b.w];
  if (pads.every((v) => v === 0)) return f;
  return g.add1('Crop', [f], { pads }, `core_${layer}`);
}

/**
 * The unnormalised Gram sums of a core: `gramsum_<l>` (Σ F Fᵀ), or with `regions` > 0 one per region,
 * `gramsum_<l>_r<r>` (Σ (F∘m)(F∘m)ᵀ), the core's mask `mask_<l>_r<r>` (1 x 1 x core) fed at run time.
 */
function gramSums(g: Graph, c: Value, layer: string, regions: number): Value[] {
  if (regions === 0) return [g.scale(g.gram(c), numel(c.shape), `gramsum_${layer}`)];
  return Array.from({ length: regions }, (_, r) => g.guidedGram(c, g.input(`mask_${layer}_r${r}`, [1, 1, c.shape[2], c.shape[3]]), 1, `gramsum_${layer}_r${r}`));
}

/** Outputs the Gram sums of the core (gramSums) for style layers and `content_<l>` for content layers. */
export function buildTileStatsGraph(
  weights: VggWeights,
  extH: number,
  extW: number,
  margins: TileMargins,
  contentLayers: string[],
  styleLayers: string[],
  pool: PoolKind,
  regions = 0,
): Graph {
  const g = new Graph();
  const x = g.input('image', [1, 3, extH, extW]);
  const feats = buildVggFeatures(g, x, weights, [...new Set([...contentLayers, ...styleLayers])], pool);
  for (const l of contentLayers) g.output(g.scale(cropCore(g, feats.get(l)!, l, extH, extW, margins), 1, `content_${l}`));
  for (const l of styleLayers) for (const v of gramSums(g, cropCore(g, feats.get(l)!, l, extH, extW, margins), l, regions)) g.output(v);
  return g;
}

export interface TileGradGraph {
  graph: Graph;
  /** Input names: `image`, `dS_<l>` (C x C) per style layer (`dS_<l>_r<r>` and `mask_<l>_r<r>` per region), `target_<l>` (core-shaped) per content layer. */
  coreShapes: Map<string, readonly number[]>;
  content: string | null;
  grad: string;
}

/**
 * The tile's share of the loss, linearised in the Grams: Σ_l <dS_l, S_l(core)> + Σ_l cw/N_l Σ_core (F - P)²,
 * where dS_l = dL/dG_l / N_l is computed from the global Grams. Its gradient to the tile, summed over
 * all tiles (halos overlapping), is the exact gradient of the untiled content + style loss.
 */
export function buildTileGradGraph(
  weights: VggWeights,
  extH: number,
  extW: number,
  margins: TileMargins,
  contentLayers: string[],
  styleLayers: string[],
  contentWeight: number,
  globalContentNumel: Map<string, number>,
  pool: PoolKind,
  regions = 0,
): TileGradGraph {
  const g = new Graph();
  const x = g.input('image', [1, 3, extH, extW]);
  const feats = buildVggFeatures(g, x, weights, [...new Set([...contentLayers, ...styleLayers])], pool);
  const coreShapes = new Map<string, readonly number[]>();
  const terms: Value[] = [];
  let content: Value | null = null;
  if (contentLayers.length > 0) {
    const parts = contentLayers.map((l) => {
      const c = cropCore(g, feats.get(l)!, l, extH, extW, margins);
      coreShapes.set(l, c.shape);
      const t = g.input(`target_${l}`, c.shape);
      return g.scale(g.mse(c, t), (contentWeight * numel(c.shape)) / globalContentNumel.get(l)!, `content_part_${l}`);
    });
    content = g.output(g.scale(g.sum(parts, 'tile_content_sum'), 1, 'tile_content'));
    terms.push(content);
  }
  for (const l of styleLayers) {
    for (const s of gramSums(g, cropCore(g, feats.get(l)!, l, extH, extW, margins), l, regions)) {
      const key = s.name.slice('gramsum_'.length);
      terms.push(g.add1('Dot', [s, g.input(`dS_${key}`, s.shape)], {}, `style_lin_${key}`));
    }
  }
  const total = terms.length > 1 ? g.sum(terms, 'tile_total') : terms[0];
  const [grad] = gradients(g, total, [x]);
  g.output(grad);
  return { graph: g, coreShapes, content: content?.name ?? null, grad: grad.name };
}
