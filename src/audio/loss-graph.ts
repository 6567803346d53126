// The audio loss as graphs of the op IR (after Ulyanov & Lebedev): features F = ReLU(conv1d(S, W)) as a
// Conv of height 1 on S laid out [1, bins, 1, frames]; content = cw Σ(F - P)², style = sw Σ(G - A)² with
// G = F Fᵀ / T' (the time-normalised Gram), summed over the filter banks; plus d(total)/dS.
import { Graph, numel, type Value } from '../graph/ir.js';
import { outputTotalAndGradient } from '../graph/autodiff.js';
import type { FilterBank } from './filters.js';

/** A fixed linear map of the spectrogram's bins before the filters: [bands, bins] (the mel front end). */
export interface FrontEnd {
  bands: number;
  weight: Float32Array;
}

export interface AudioLossSpec {
  banks: FilterBank[];
  frontEnd?: FrontEnd;
  contentWeight: number;
  styleWeight: number;
}

export interface AudioLossGraph {
  graph: Graph;
  input: string;
  /** Input names of the targets, one per bank (absent when the term's weight is 0). */
  contentTargets: string[];
  styleTargets: string[];
  terms: { content?: string; style?: string };
  total: string;
  grad: string;
}

/** The features of each bank for a spectrogram input [1, bins, 1, frames] (through the front end, if any). */
function features(g: Graph, x0: Value, banks: FilterBank[], front?: FrontEnd): Value[] {
  const x = front ? g.conv(x0, g.constant('front_end', front.weight, [front.bands, x0.shape[1], 1, 1]), null, 0, 'bands') : x0;
  return banks.map((b, k) => {
    const w = g.constant(`filters_${k}`, b.weight, [b.filters, b.bins, 1, b.width]);
    return g.relu(g.conv(x, w, null, 0, `conv_${k}`), `features_${k}`);
  });
}

/**
 * The graph's Gram is F Fᵀ / (C·T'), the peer's F Fᵀ / T': G_peer = C·G, so Σ(G_peer - A_peer)² =
 * C² Σ(G - A)² = C⁴ mean((G - A)²). The features term: Σ(F - P)² = numel(F) mean((F - P)²).
 */
const styleFactor = (b: FilterBank) => b.filters ** 4;

/** Content features (from `content`) and Gram targets (one input per style sound), in the graph's normalisation. */
export function buildAudioTargetGraph(banks: FilterBank[], bins: number, contentFrames: number | null, styleFrames: number[], front?: FrontEnd): Graph {
  const g = new Graph();
  if (contentFrames !== null) {
    const c = g.input('content', [1, bins, 1, contentFrames]);
    features(g, c, banks, front).forEach((f, k) => g.output(g.scale(f, 1, `content_target_${k}`)));
  }
  styleFrames.forEach((frames, s) => {
    const x = g.input(`style_${s}`, [1, bins, 1, frames]);
    features(g, x, banks, front).forEach((f, k) => g.output(g.gram(f, `style_${s}_gram_${k}`)));
  });
  return g;
}

/** The loss graph for a spectrogram of `frames` frames: the terms, their total and the gradient. */
export function buildAudioLossGraph(spec: AudioLossSpec, bins: number, frames: number): AudioLossGraph {
  const g = new Graph();
  const x = g.input('spectrogram', [1, bins, 1, frames]);
  const feats = features(g, x, spec.banks, spec.frontEnd);
  const terms: Value[] = [];
  const names: AudioLossGraph['terms'] = {};
  const contentTargets: string[] = [];
  const styleTargets: string[] = [];
  if (spec.contentWeight !== 0) {
    const parts = feats.map((f, k) => {
      const t = g.input(`content_target_${k}`, f.shape);
      contentTargets.push(t.name);
      return g.scale(g.mse(f, t, `content_mse_${k}`), numel(f.shape), `content_sum_${k}`);
    });
    const term = g.output(g.scale(g.sum(parts, 'content_banks'), spec.contentWeight, 'loss_content'));
    names.content = term.name;
    terms.push(term);
  }
  if (spec.styleWeight !== 0) {
    const parts = feats.map((f, k) => {
      const gm = g.gram(f, `gram_${k}`);
      const t = g.input(`style_target_${k}`, gm.shape);
      styleTargets.push(t.name);
      return g.scale(g.mse(gm, t, `style_mse_${k}`), styleFactor(spec.banks[k]), `style_sum_${k}`);
    });
    const term = g.output(g.scale(g.sum(parts, 'style_banks'), spec.styleWeight, 'loss_style'));
    names.style = term.name;
    terms.push(term);
  }
  const { total, grad } = outputTotalAndGradient(g, terms, x);
  return { graph: g, input: x.name, contentTargets, styleTargets, terms: names, total: total.name, grad: grad.name };
}
