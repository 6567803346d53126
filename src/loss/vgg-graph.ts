// Builds the VGG-19 prefix (conv+ReLU, pools) into a graph, up to the deepest layer asked for, and
// adapts the optimised Caffe-space image to the weights' own preprocessing convention.
import { StyleloomError } from '../errors.js';
import type { Graph, Value } from '../graph/ir.js';
import { CAFFE_MEAN_BGR, VGG19_LAYERS, type VggWeights } from '../model/vgg19.js';
import type { PoolKind } from './types.js';

const TV_MEAN_RGB = [0.485, 0.456, 0.406];
const TV_STD_RGB = [0.229, 0.224, 0.225];

/**
 * The 1x1 convolution mapping a Caffe-space image (BGR, 0..255 minus the Caffe mean) to the input
 * the weights expect, or null when they expect exactly that. Affine per channel, so exact.
 */
export function inputAdapter(w: VggWeights): { weight: Float32Array; bias: Float32Array } | null {
  const weight = new Float32Array(9);
  const bias = new Float32Array(3);
  if (w.preprocess === 'torchvision') {
    // out[c] (RGB) = ((x[2-c] + caffeMean[2-c]) / 255 - mean[c]) / std[c]
    for (let c = 0; c < 3; c++) {
      weight[c * 3 + (2 - c)] = 1 / (255 * TV_STD_RGB[c]);
      bias[c] = (CAFFE_MEAN_BGR[2 - c] / 255 - TV_MEAN_RGB[c]) / TV_STD_RGB[c];
    }
    return { weight, bias };
  }
  const mean = w.meanBgr ?? CAFFE_MEAN_BGR;
  if (mean.every((m, c) => m === CAFFE_MEAN_BGR[c])) return null;
  for (let c = 0; c < 3; c++) {
    weight[c * 4] = 1;
    bias[c] = CAFFE_MEAN_BGR[c] - mean[c];
  }
  return { weight, bias };
}

/**
 * Appends VGG-19 layers to `g` starting from image `x` and returns the ReLU output of each conv in
 * `wanted`. Only layers up to the deepest wanted one are built. `shared` (optional) holds the weight
 * constants by name, so that a second VGG in the same graph (training: the output and the content batch)
 * reuses the first one's instead of storing them twice.
 */
export function buildVggFeatures(g: Graph, x: Value, w: VggWeights, wanted: readonly string[], pool: PoolKind, shared?: Map<string, Value>): Map<string, Value> {
  const constant = (name: string, data: Float32Array, shape: readonly number[]): Value => {
    const have = shared?.get(name);
    if (have) return have;
    const v = g.constant(name, data, shape);
    shared?.set(name, v);
    return v;
  };
  const out = new Map<string, Value>();
  const want = new Set(wanted);
  const adapter = inputAdapter(w);
  let h = adapter
    ? g.conv(x, constant('input_adapter_w', adapter.weight, [3, 3, 1, 1]), constant('input_adapter_b', adapter.bias, [3]), 0, 'input_adapted')
    : x;
  for (const layer of VGG19_LAYERS) {
    if (out.size === want.size) break;
    if (layer.kind === 'pool') {
      h = pool === 'max' ? g.maxPool2(h, layer.name) : g.avgPool2(h, layer.name);
      continue;
    }
    const cw = w.conv.get(layer.name);
    if (!cw) {
      throw new StyleloomError('E_WEIGHTS', `layer ${layer.name} is needed but not in weights file ${w.path} (it has ${w.available.join(',')})`);
    }
    const wv = constant(`${layer.name}_w`, cw.weight, cw.shape);
    const bv = constant(`${layer.name}_b`, cw.bias, [cw.shape[0]]);
    h = g.relu(g.conv(h, wv, bv, (cw.shape[2] - 1) / 2, layer.name), `relu${layer.name.slice(4)}`);
    if (want.has(layer.name)) out.set(layer.name, h);
  }
  for (const l of want) {
    if (!out.has(l)) throw new StyleloomError('E_USAGE', `layer ${l} is not a VGG-19 conv layer (conv1_1 .. conv5_4)`);
  }
  return out;
}
