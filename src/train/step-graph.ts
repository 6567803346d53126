// The training step as one graph: the transform network (weights as inputs) on a batch of content crops ->
// VGG features of its output and of the crops -> content, Gram style, TV (and stability) losses -> d(total)/d(every weight).
import { StyleloomError } from '../errors.js';
import { gradients } from '../graph/autodiff.js';
import { Graph, numel, type Value } from '../graph/ir.js';
import { addFastBranch, buildFastGraph, type FastParam } from '../fast/network.js';
import type { FastCheckpoint } from '../fast/checkpoint-format.js';
import { buildVggFeatures } from '../loss/vgg-graph.js';
import type { LossSpec } from '../loss/gatys.js';
import { CAFFE_MEAN_BGR } from '../model/vgg19.js';

/** The loss options a training step uses (the Gatys loss's, without masks, layer weights or temporal terms). */
export type TrainLossSpec = Pick<LossSpec, 'weights' | 'contentLayers' | 'styleLayers' | 'contentWeight' | 'styleWeight' | 'tvWeight' | 'pool'> & {
  /** Weight of the stability term (0 or absent: no perturbed batch, the graph as without it). */
  stabilityWeight?: number;
};

export interface TrainGraph {
  graph: Graph;
  /** [batch, 3, size, size] RGB 0..255: the content crops. */
  input: Value;
  /** The network's parameters as inputs (graph order: weight, scale, shift per layer). */
  params: FastParam[];
  /** One input per style layer: the style image's Gram repeated per crop, [batch, C, C] (or [C, C] for batch 1). */
  styleTargets: Map<string, Value>;
  /** With a stability weight: [batch, 3, size, size], the crops perturbed (with noise), through the same network. */
  perturbed?: Value;
  /** Output names of the weighted terms present (a term of weight 0 is left out). */
  terms: { content?: string; style?: string; tv?: string; stability?: string };
  total: string;
  /** Output names of d(total)/d(param), in `params` order. */
  grads: string[];
}

/**
 * RGB 0..255 (the network's output, the crops) -> the Caffe space the loss is defined in (BGR, mean subtracted),
 * as a 1x1 conv with constants shared by both uses.
 */
function toCaffeSpace(g: Graph, x: Value, consts: { w?: Value; b?: Value }, name: string): Value {
  if (!consts.w || !consts.b) {
    const w = new Float32Array(9);
    for (let c = 0; c < 3; c++) w[c * 3 + (2 - c)] = 1;
    consts.w = g.constant('rgb_to_caffe_w', w, [3, 3, 1, 1]);
    consts.b = g.constant('rgb_to_caffe_b', Float32Array.from(CAFFE_MEAN_BGR, (m) => -m), [3]);
  }
  return g.conv(x, consts.w, consts.b, 0, name);
}

/**
 * The loss of a batch (each term the mean over its crops: LOSS.md's content and style terms of the output against
 * the crop and the style's Grams, the TV of the output) and its gradient with respect to every network weight.
 * With `stabilityWeight` w > 0 the perturbed crops x' go through the same network and add
 * w · mean((f(x') − f(x))²) over every output value (RGB 0..255), differentiated through both branches.
 */
export function buildTrainGraph(net: FastCheckpoint, spec: TrainLossSpec, batch: number, size: number): TrainGraph {
  const stability = spec.stabilityWeight ?? 0;
  const active = { content: spec.contentWeight !== 0, style: spec.styleWeight !== 0, tv: spec.tvWeight !== 0 };
  if (!active.content && !active.style && !active.tv && stability === 0) throw new StyleloomError('E_USAGE', 'the content, style, tv and stability weights are all 0: nothing to train');
  const fast = buildFastGraph(net, { batch, height: size, width: size, params: 'input' });
  const g = fast.graph;
  const consts = {};
  const shared = new Map<string, Value>();
  const layers = (want: boolean, l: string[]) => (want ? l : []);
  const outLayers = [...new Set([...layers(active.content, spec.contentLayers), ...layers(active.style, spec.styleLayers)])];
  const terms: Value[] = [];
  const names: TrainGraph['terms'] = {};
  const styleTargets = new Map<string, Value>();
  if (outLayers.length > 0) {
    const outFeats = buildVggFeatures(g, toCaffeSpace(g, fast.output, consts, 'output_caffe'), spec.weights, outLayers, spec.pool, shared);
    if (active.content) {
      const inFeats = buildVggFeatures(g, toCaffeSpace(g, fast.input, consts, 'input_caffe'), spec.weights, spec.contentLayers, spec.pool, shared);
      const parts = spec.contentLayers.map((l) => g.mse(outFeats.get(l)!, inFeats.get(l)!, `content_mse_${l}`));
      const term = g.output(g.scale(g.sum(parts, 'content_sum'), spec.contentWeight, 'loss_content'));
      names.content = term.name;
      terms.push(term);
    }
    if (active.style) {
      const parts = spec.styleLayers.map((l) => {
        const gm = g.gram(outFeats.get(l)!, `gram_${l}`);
        const t = g.input(`style_target_${l}`, gm.shape);
        styleTargets.set(l, t);
        return g.mse(gm, t, `style_mse_${l}`);
      });
      const term = g.output(g.scale(g.sum(parts, 'style_sum'), spec.styleWeight / spec.styleLayers.length, 'loss_style'));
      names.style = term.name;
      terms.push(term);
    }
  }
  if (active.tv) {
    // Tv sums over the batch; divided by it, each crop's TV as LOSS.md defines it, averaged
    const term = g.output(g.scale(g.tv(fast.output), spec.tvWeight / batch, 'loss_tv'));
    names.tv = term.name;
    terms.push(term);
  }
  let perturbed: Value | undefined;
  if (stability !== 0) {
    perturbed = g.input('image_perturbed', fast.input.shape);
    const out2 = addFastBranch(fast, net, perturbed, 'stylized_perturbed');
    const term = g.output(g.scale(g.sqDiff(out2, fast.output, 'stability_sqdiff'), stability, 'loss_stability'));
    names.stability = term.name;
    terms.push(term);
  }
  const total = g.output(terms.length > 1 ? g.sum(terms, 'loss_total') : g.scale(terms[0], 1, 'loss_total'));
  const grads = gradients(g, total, fast.params.map((p) => p.value));
  for (const gv of grads) g.output(gv);
  return { graph: g, input: fast.input, params: fast.params, styleTargets, perturbed, terms: names, total: total.name, grads: grads.map((v) => v.name) };
}

/**
 * Bytes the step needs at its peak, estimated from the graph: nodes run in order, each value held from the node
 * that makes it to its last use (graph outputs and inputs to the end), plus the constants; an estimate of what
 * onnxruntime allocates (its own temporaries come on top).
 */
export function estimateStepBytes(g: Graph): number {
  const lastUse = new Map<number, number>();
  g.nodes.forEach((n, k) => n.inputs.forEach((v) => lastUse.set(v.id, k)));
  for (const v of g.outputs) lastUse.set(v.id, g.nodes.length);
  let live = 0;
  for (const v of g.inputs) live += 4 * numel(v.shape);
  for (const v of g.constantValues) live += 4 * numel(v.shape);
  let peak = live;
  const freeAt = new Map<number, number>();
  g.nodes.forEach((n, k) => {
    for (const o of n.outputs) {
      const bytes = (o.dtype === 'int64' ? 8 : 4) * numel(o.shape);
      live += bytes;
      const end = lastUse.get(o.id) ?? k;
      freeAt.set(end, (freeAt.get(end) ?? 0) + bytes);
    }
    peak = Math.max(peak, live);
    live -= freeAt.get(k) ?? 0;
  });
  return peak;
}
