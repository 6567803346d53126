// The Gatys loss of LOSS.md as graphs: a target graph (content features, style Grams) run once per
// image, and the loss graph whose outputs are the weighted terms, their total and d(total)/d(image).
import { StyleloomError } from '../errors.js';
import { Graph, type Value } from '../graph/ir.js';
import { outputTotalAndGradient } from '../graph/autodiff.js';
import type { VggWeights } from '../model/vgg19.js';
import type { PoolKind } from './types.js';
import { buildVggFeatures } from './vgg-graph.js';
import { poolsBefore } from './tiled.js';
import { maskAfterPools, maskEnergy, type MaskPlane, type StyleRegions } from './regions.js';
import { addTemporalTerm } from './temporal.js';

export interface LossSpec {
  weights: VggWeights;
  contentLayers: string[];
  styleLayers: string[];
  contentWeight: number;
  styleWeight: number;
  tvWeight: number;
  pool: PoolKind;
  /** Relative weight of each style layer (normalised to sum 1); default equal, i.e. 1/|S| as LOSS.md. */
  styleLayerWeights?: number[];
  /**
   * Regions of the image (masks at its size), each with its own style target: the style term is then
   * Σ_r weight_r · mean((G_l^r − A_l^r)²) per layer, with G_l^r the guided Gram of region r. Absent: one plain Gram.
   */
  regions?: StyleRegions;
  /** Weight of the temporal term of a video frame (temporal.ts); absent or 0: no term, no inputs for it. */
  temporalWeight?: number;
  /** Also output each layer's weighted share of the content and style terms (LossGraph.layerTerms; for scoring). */
  layerTerms?: boolean;
}

/** The key of a style target: the layer, or `layer/region` when the loss is guided by regions. */
export const styleKey = (layer: string, region?: number): string => (region === undefined ? layer : `${layer}/${region}`);

/** A mask as a graph constant at the resolution of `layer`, and the guided Gram's normalisation C·Σm² there. */
function layerMask(g: Graph, m: MaskPlane, layer: string, channels: number, name: string): { mask: Value; n: number } {
  const ml = maskAfterPools(m, poolsBefore(layer));
  const e = maskEnergy(ml);
  if (!(e > 0)) throw new StyleloomError('E_INPUT', `a mask region has no pixel left at layer ${layer} (${ml.width}x${ml.height}); use a larger mask region or a larger size`);
  return { mask: g.constant(name, ml.data, [1, 1, ml.height, ml.width]), n: channels * e };
}

export const TERM_NAMES = ['content', 'style', 'tv'] as const;
export type TermName = (typeof TERM_NAMES)[number];

export interface LossGraph {
  graph: Graph;
  /** Input names: the image, then one target per content layer and per style layer. */
  image: string;
  contentTargets: Map<string, Value>;
  styleTargets: Map<string, Value>;
  /** Output names of the weighted terms present (a term with weight 0 is left out and reads as 0). */
  terms: Partial<Record<TermName | 'temporal', string>>;
  /** With a temporal term: the names of its inputs (the warped previous frame, the consistency mask). */
  temporal?: { target: string; mask: string };
  total: string;
  grad: string;
  /** With spec.layerTerms: output names of each layer's weighted share of the content and style terms (they sum to the terms). */
  layerTerms?: { content: Map<string, string>; style: Map<string, string> };
}

/**
 * Graph computing content features and style Grams of an image of size h x w; with `region` (a mask at
 * that size) the Grams are guided by it (the part of a style image to take the style from).
 */
export function buildTargetGraph(weights: VggWeights, h: number, w: number, contentLayers: string[], styleLayers: string[], pool: PoolKind, region?: MaskPlane): Graph {
  const g = new Graph();
  const x = g.input('image', [1, 3, h, w]);
  const feats = buildVggFeatures(g, x, weights, [...contentLayers, ...styleLayers], pool);
  for (const l of contentLayers) g.output(renameOutput(g, feats.get(l)!, `content_${l}`));
  for (const l of styleLayers) {
    const f = feats.get(l)!;
    if (!region) {
      g.output(g.gram(f, `gram_${l}`));
      continue;
    }
    const { mask, n } = layerMask(g, region, l, f.shape[1], `region_${l}`);
    g.output(g.guidedGram(f, mask, n, `gram_${l}`));
  }
  return g;
}

/** An output may not also be consumed under the same name in ONNX only if it is an input; identity via Scale 1 keeps names stable. */
function renameOutput(g: Graph, v: Value, name: string): Value {
  return g.scale(v, 1, name);
}

/** The loss graph for an image of size h x w: outputs the weighted terms, the total and the gradient. */
export function buildLossGraph(spec: LossSpec, h: number, w: number): LossGraph {
  const g = new Graph();
  const x = g.input('image', [1, 3, h, w]);
  const layers = [...new Set([...spec.contentLayers, ...spec.styleLayers])];
  const active = { content: spec.contentWeight !== 0, style: spec.styleWeight !== 0 };
  const feats = buildVggFeatures(
    g,
    x,
    spec.weights,
    layers.filter((l) => (active.content && spec.contentLayers.includes(l)) || (active.style && spec.styleLayers.includes(l))),
    spec.pool,
  );
  const contentTargets = new Map<string, Value>();
  const styleTargets = new Map<string, Value>();
  const terms: Value[] = [];
  const names: LossGraph['terms'] = {};
  const layerTerms = spec.layerTerms ? { content: new Map<string, string>(), style: new Map<string, string>() } : undefined;
  const share = (kind: 'content' | 'style', layer: string, part: Value, weight: number) => {
    if (layerTerms) layerTerms[kind].set(layer, g.output(g.scale(part, weight, `loss_${kind}_${layer}`)).name);
  };
  if (active.content) {
    const parts = spec.contentLayers.map((l) => {
      const f = feats.get(l)!;
      const t = g.input(`content_target_${l}`, f.shape);
      contentTargets.set(l, t);
      const part = g.mse(f, t, `content_mse_${l}`);
      share('content', l, part, spec.contentWeight);
      return part;
    });
    const term = g.output(g.scale(g.sum(parts, 'content_sum'), spec.contentWeight, 'loss_content'));
    names.content = term.name;
    terms.push(term);
  }
  if (active.style) {
    const lw = spec.styleLayerWeights;
    const lwSum = lw ? lw.reduce((a, b) => a + b, 0) : 0;
    const regions = spec.regions;
    const parts = spec.styleLayers.map((l, k) => {
      const f = feats.get(l)!;
      let mse: Value;
      if (!regions) {
        const gm = g.gram(f, `gram_${l}`);
        const t = g.input(`style_target_${l}`, gm.shape);
        styleTargets.set(styleKey(l), t);
        mse = g.mse(gm, t, `style_mse_${l}`);
      } else {
        const per = regions.masks.map((m, r) => {
          const { mask, n } = layerMask(g, m, l, f.shape[1], `mask_${l}_r${r}`);
          const gm = g.guidedGram(f, mask, n, `gram_${l}_r${r}`);
          const t = g.input(`style_target_${l}_r${r}`, gm.shape);
          styleTargets.set(styleKey(l, r), t);
          const e = g.mse(gm, t, `style_mse_${l}_r${r}`);
          return regions.weights[r] === 1 ? e : g.scale(e, regions.weights[r], `style_region_w_${l}_r${r}`);
        });
        mse = per.length > 1 ? g.sum(per, `style_regions_${l}`) : per[0];
      }
      const part = lw ? g.scale(mse, (lw[k] / lwSum) * spec.styleLayers.length, `style_w_${l}`) : mse;
      share('style', l, part, spec.styleWeight / spec.styleLayers.length);
      return part;
    });
    const term = g.output(g.scale(g.sum(parts, 'style_sum'), spec.styleWeight / spec.styleLayers.length, 'loss_style'));
    names.style = term.name;
    terms.push(term);
  }
  if (spec.tvWeight !== 0) {
    const term = g.output(g.scale(g.tv(x), spec.tvWeight, 'loss_tv'));
    names.tv = term.name;
    terms.push(term);
  }
  let temporal: LossGraph['temporal'];
  if (spec.temporalWeight) {
    const t = addTemporalTerm(g, x, spec.temporalWeight);
    names.temporal = t.term.name;
    temporal = { target: t.target.name, mask: t.mask.name };
    terms.push(t.term);
  }
  const { total, grad } = outputTotalAndGradient(g, terms, x);
  return { graph: g, image: x.name, contentTargets, styleTargets, terms: names, temporal, total: total.name, grad: grad.name, layerTerms };
}
