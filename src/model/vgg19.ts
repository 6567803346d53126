// The VGG-19 `features` layout (torchvision numbering), loading its conv weights from a
// safetensors file, the file's preprocessing convention, and choosing/validating loss layers.
// Browser-safe: reading the file from disk is vgg19-file.ts.

import { optionError, StyleloomError } from '../errors.js';
import type { Safetensors } from './safetensors-format.js';

export interface VggLayer {
  name: string;
  kind: 'conv' | 'pool';
  /** Index in torchvision's `features` (weights are `features.<index>.weight` / `.bias`). */
  index: number;
  inChannels?: number;
  outChannels?: number;
}

function conv(name: string, index: number, inChannels: number, outChannels: number): VggLayer {
  return { name, kind: 'conv', index, inChannels, outChannels };
}
function pool(name: string, index: number): VggLayer {
  return { name, kind: 'pool', index };
}

/** Every conv and pool of VGG-19's `features`, in order (ReLUs follow each conv implicitly). */
export const VGG19_LAYERS: readonly Readonly<VggLayer>[] = Object.freeze([
  conv('conv1_1', 0, 3, 64), conv('conv1_2', 2, 64, 64), pool('pool1', 4),
  conv('conv2_1', 5, 64, 128), conv('conv2_2', 7, 128, 128), pool('pool2', 9),
  conv('conv3_1', 10, 128, 256), conv('conv3_2', 12, 256, 256), conv('conv3_3', 14, 256, 256), conv('conv3_4', 16, 256, 256), pool('pool3', 18),
  conv('conv4_1', 19, 256, 512), conv('conv4_2', 21, 512, 512), conv('conv4_3', 23, 512, 512), conv('conv4_4', 25, 512, 512), pool('pool4', 27),
  conv('conv5_1', 28, 512, 512), conv('conv5_2', 30, 512, 512), conv('conv5_3', 32, 512, 512), conv('conv5_4', 34, 512, 512), pool('pool5', 36),
].map((l) => Object.freeze(l)));

export const VGG19_CONV_NAMES: readonly string[] = VGG19_LAYERS.filter((l) => l.kind === 'conv').map((l) => l.name);

export type Preprocess = 'caffe-bgr' | 'torchvision';

/** The ImageNet mean (B, G, R) of the Caffe convention, used when a caffe-bgr file does not state it. */
export const CAFFE_MEAN_BGR: readonly [number, number, number] = [103.939, 116.779, 123.68];

export interface ConvWeights {
  weight: Float32Array;
  /** OIHW */
  shape: [number, number, number, number];
  bias: Float32Array;
}

export interface VggWeights {
  path: string;
  preprocess: Preprocess;
  /** Only for caffe-bgr: the mean subtracted from B, G, R (0..255 scale). */
  meanBgr?: [number, number, number];
  /** Conv layers present in the file, in network order. */
  available: string[];
  conv: Map<string, ConvWeights>;
  metadata: Record<string, string>;
}

const DOWNLOAD_HINT = 'use full VGG-19 weights (styleloom weights download)';

function weightsError(path: string, problem: string): StyleloomError {
  return new StyleloomError('E_WEIGHTS', `${path}: ${problem}`);
}

function detectPreprocess(path: string, st: Safetensors): Preprocess {
  const declared = st.metadata.preprocess;
  if (declared !== undefined) {
    if (declared === 'caffe-bgr' || declared === 'torchvision') return declared;
    throw weightsError(path, `metadata preprocess is ${JSON.stringify(declared)}, which styleloom does not know; set it to "caffe-bgr" (BGR, 0..255, mean subtracted) or "torchvision" (RGB, 0..1, mean/std)`);
  }
  // timm's vgg19.tv_in1k (torchvision's ImageNet weights) carries its classifier as pre_logits.* / head.*.
  const names = [...st.entries.keys()];
  if (names.some((n) => n.startsWith('pre_logits.') || n.startsWith('head.'))) return 'torchvision';
  throw weightsError(path, 'the preprocessing convention of these weights is unknown (no "preprocess" in the safetensors metadata and not a known file); add __metadata__ {"preprocess": "caffe-bgr"} or {"preprocess": "torchvision"} to the file');
}

function parseMean(path: string, raw: string | undefined): [number, number, number] {
  if (raw === undefined) return [...CAFFE_MEAN_BGR];
  const parts = raw.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === '') || !nums.every(Number.isFinite)) {
    throw weightsError(path, `metadata mean_bgr is ${JSON.stringify(raw)}, not three comma-separated numbers; fix it (e.g. "103.939,116.779,123.68") or remove it`);
  }
  return [nums[0], nums[1], nums[2]];
}

/** Picks the conv layers out of the file and checks their shapes and the channel chain. */
function collectConvs(path: string, st: Safetensors): Map<string, ConvWeights> {
  const conv = new Map<string, ConvWeights>();
  let prevOut = 3;
  let prevName = 'the RGB input';
  for (const layer of VGG19_LAYERS) {
    if (layer.kind !== 'conv') continue;
    const wName = `features.${layer.index}.weight`;
    const bName = `features.${layer.index}.bias`;
    const w = st.tensors.get(wName);
    const b = st.tensors.get(bName);
    if (!w && !b) continue;
    if (!w || !b) {
      throw weightsError(path, `has ${w ? wName : bName} but not ${w ? bName : wName} (${layer.name}); the file is incomplete — use complete VGG-19 weights`);
    }
    const s = w.shape;
    if (s.length !== 4 || s[2] !== 3 || s[3] !== 3) {
      throw weightsError(path, `${wName} (${layer.name}) has shape ${JSON.stringify(s)} but a VGG-19 conv weight is [out, in, 3, 3]; this is not a VGG-19 file`);
    }
    const [o, i] = s;
    if (b.shape.length !== 1 || b.shape[0] !== o) {
      throw weightsError(path, `${bName} (${layer.name}) has shape ${JSON.stringify(b.shape)} but ${wName} has ${o} output channels; this is not a VGG-19 file`);
    }
    if (i !== prevOut) {
      throw weightsError(path, `${wName} (${layer.name}) takes ${i} input channels but ${prevName} gives ${prevOut}; the layers do not chain — this is not a VGG-19 file`);
    }
    for (const [name, data] of [[wName, w.data], [bName, b.data]] as const) {
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw weightsError(path, `${name} (${layer.name}) holds ${data[bad]} at element ${bad}; the file is damaged — download it again (styleloom weights download)`);
    }
    conv.set(layer.name, { weight: w.data, shape: [o, i, 3, 3], bias: b.data });
    prevOut = o;
    prevName = layer.name;
  }
  return conv;
}

/**
 * The VGG-19 conv weights (`features.N.*`) of parsed safetensors (a file read from disk, or the tensors
 * a browser fetched); `path` names the source in messages. Anything else in the file is not used.
 */
export function vggWeightsFrom(st: Safetensors, path: string): VggWeights {
  const preprocess = detectPreprocess(path, st);
  const conv = collectConvs(path, st);
  if (conv.size === 0) {
    throw weightsError(path, `has no VGG-19 conv layers (no features.0.weight / features.0.bias); give a VGG-19 safetensors file with torchvision names, or ${DOWNLOAD_HINT}`);
  }
  const out: VggWeights = {
    path,
    preprocess,
    available: [...conv.keys()],
    conv,
    metadata: st.metadata,
  };
  if (preprocess === 'caffe-bgr') out.meanBgr = parseMean(path, st.metadata.mean_bgr);
  return out;
}

function checkConvName(name: string): void {
  if (!VGG19_CONV_NAMES.includes(name)) {
    throw new StyleloomError('E_USAGE', `layer ${name} is not a VGG-19 conv layer (conv1_1 .. conv5_4)`);
  }
}

/**
 * Names of every conv and pool layer from the input up to and including the deepest of `names`
 * (the prefix of the network that has to be built). Throws E_USAGE for unknown names.
 */
export function layersNeeded(names: readonly string[]): string[] {
  let deepest = -1;
  for (const n of names) {
    checkConvName(n);
    deepest = Math.max(deepest, VGG19_LAYERS.findIndex((l) => l.name === n));
  }
  return VGG19_LAYERS.slice(0, deepest + 1).map((l) => l.name);
}

/** Throws E_WEIGHTS if a conv needed to compute `names` (they or any conv before them) is missing. */
export function assertLayersBuildable(w: VggWeights, names: readonly string[], option: 'contentLayers' | 'styleLayers'): void {
  const have = w.available.join(',');
  for (const n of names) {
    checkConvName(n);
    if (!w.conv.has(n)) {
      throw optionError('E_WEIGHTS', `layer ${n} is not in weights file ${w.path} (it has ${have}); choose {${option}} from those or ${DOWNLOAD_HINT}`);
    }
  }
  const needed = layersNeeded(names);
  for (const n of needed) {
    if (n.startsWith('conv') && !w.conv.has(n)) {
      const deepest = needed[needed.length - 1];
      throw new StyleloomError('E_WEIGHTS', `weights file ${w.path} lacks ${n}, which ${deepest} needs (it has ${have}); choose shallower layers or ${DOWNLOAD_HINT}`);
    }
  }
}

function uniqueChecked(list: readonly string[], option: 'contentLayers' | 'styleLayers'): string[] {
  if (list.length === 0) throw optionError('E_USAGE', `{${option}} is empty; name at least one conv layer (conv1_1 .. conv5_4)`);
  const out = [...new Set(list.map((s) => s.trim()))];
  for (const n of out) checkConvName(n);
  return out;
}

/**
 * The layer names resolveLayers() would use, given only which conv layers a file has (`has`); not yet
 * checked against the file (a browser knows them from the header, before fetching any tensor).
 */
export function chooseLayers(has: (conv: string) => boolean, contentLayers?: readonly string[], styleLayers?: readonly string[]): { content: string[]; style: string[] } {
  const content = contentLayers ? uniqueChecked(contentLayers, 'contentLayers') : [has('conv4_2') ? 'conv4_2' : 'conv3_2'];
  const style = styleLayers ? uniqueChecked(styleLayers, 'styleLayers') : ['conv1_1', 'conv2_1', 'conv3_1', 'conv4_1', 'conv5_1'].filter((n) => has(n));
  return { content, style };
}

/**
 * The content and style layers to use: the given ones (validated) or the defaults of LOSS.md —
 * content conv4_2 if the file has it, else conv3_2; style those of conv1_1..conv5_1 it has.
 */
export function resolveLayers(w: VggWeights, contentLayers?: readonly string[], styleLayers?: readonly string[]): { content: string[]; style: string[] } {
  const { content, style } = chooseLayers((n) => w.conv.has(n), contentLayers, styleLayers);
  assertLayersBuildable(w, content, 'contentLayers');
  assertLayersBuildable(w, style, 'styleLayers');
  return { content, style };
}
