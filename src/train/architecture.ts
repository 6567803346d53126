// The Johnson et al. (2016) transform network styleloom trains: 9x9 conv, two stride-2 convs, residual blocks,
// two x2 upsamplings (resize-convolution or transposed conv), 9x9 output conv; instance norm after each; seeded init.
import { StyleloomError } from '../errors.js';
import type { FastCheckpoint, FastLayer, FastLayerKind } from '../fast/checkpoint-format.js';
import type { Rng } from '../util/rng.js';

export const NETWORK_WIDTHS = ['full', 'half'] as const;
export type NetworkWidth = (typeof NETWORK_WIDTHS)[number];
/** resize: nearest x2 then a 3x3 conv (no checkerboard); transposed: a stride-2 transposed conv (as the demo networks). */
export const UPSAMPLE_KINDS = ['resize', 'transposed'] as const;
export type UpsampleKind = (typeof UPSAMPLE_KINDS)[number];
/** reflect: each convolution pads by mirroring the border (no dark frame or corner blobs); zero: as the demo networks. */
export const PADDING_KINDS = ['reflect', 'zero'] as const;
export type PaddingKind = (typeof PADDING_KINDS)[number];

/** What the network file's metadata records of the architecture (with the layer list, enough to rebuild it). */
export interface Architecture {
  name: 'johnson2016';
  width: NetworkWidth | 'custom';
  upsample: UpsampleKind;
  /** Channels after conv1, conv2, conv3 (full: 32, 64, 128; half: 16, 32, 64). */
  channels: [number, number, number];
  residualBlocks: number;
  /** How the convolutions pad (absent in files written before it: zero); transposed convs always crop, never pad. */
  padding?: PaddingKind;
}

/** A layer without its values: what the metadata lists. */
export type LayerShape = Omit<FastLayer, 'weight' | 'weightShape' | 'shift' | 'scale'>;

export function architectureFor(width: NetworkWidth, upsample: UpsampleKind, padding: PaddingKind = 'zero'): Architecture {
  const c = width === 'full' ? 32 : 16;
  return { name: 'johnson2016', width, upsample, channels: [c, 2 * c, 4 * c], residualBlocks: 5, padding };
}

/** The layers of `a` in order (names as the demo checkpoints': conv1..3, res<k>a/b, up1, up2, out). */
export function layerShapes(a: Architecture): LayerShape[] {
  const [c1, c2, c3] = a.channels;
  if (![c1, c2, c3, a.residualBlocks].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new StyleloomError('E_INTERNAL', `architecture channels [${a.channels}] / blocks ${a.residualBlocks} are not positive integers`);
  }
  const up: FastLayerKind = a.upsample === 'resize' ? 'upconv' : 'convT';
  const reflect = a.padding === 'reflect';
  const L = (name: string, kind: FastLayerKind, kernel: number, stride: number, cin: number, cout: number, relu = true): LayerShape =>
    reflect && kind !== 'convT' ? { name, kind, kernel, stride, cin, cout, relu, pad: 'reflect' } : { name, kind, kernel, stride, cin, cout, relu };
  const res: LayerShape[] = [];
  for (let r = 1; r <= a.residualBlocks; r++) res.push(L(`res${r}a`, 'conv', 3, 1, c3, c3), L(`res${r}b`, 'conv', 3, 1, c3, c3, false));
  return [L('conv1', 'conv', 9, 1, 3, c1), L('conv2', 'conv', 3, 2, c1, c2), L('conv3', 'conv', 3, 2, c2, c3), ...res, L('up1', up, 3, 2, c3, c2), L('up2', up, 3, 2, c2, c1), L('out', 'conv', 9, 1, c1, 3, false)];
}

/** ONNX weight layout of a layer: [cout, cin, k, k]; a transposed conv's [cin, cout, k, k]. */
export const weightShapeOf = (l: LayerShape): [number, number, number, number] => (l.kind === 'convT' ? [l.cin, l.cout, l.kernel, l.kernel] : [l.cout, l.cin, l.kernel, l.kernel]);

/**
 * A freshly initialised network: weights uniform in ±1/√(cin·k²) (torch's default for convolutions), instance-norm
 * scale 1 and shift 0, drawn from `rng` layer by layer.
 */
export function initNetwork(a: Architecture, rng: Rng, name = 'untrained'): FastCheckpoint {
  const layers = layerShapes(a).map((l): FastLayer => {
    const weightShape = weightShapeOf(l);
    const n = weightShape.reduce((p, d) => p * d, 1);
    const bound = 1 / Math.sqrt(l.cin * l.kernel * l.kernel);
    const weight = new Float32Array(n);
    for (let i = 0; i < n; i++) weight[i] = (2 * rng.nextFloat() - 1) * bound;
    return { ...l, weight, weightShape, scale: new Float32Array(l.cout).fill(1), shift: new Float32Array(l.cout) };
  });
  return { dir: '', name, layers, params: layers.reduce((p, l) => p + l.weight.length + 2 * l.cout, 0) };
}

/** The parameter tensors of a network in graph order (weight, scale, shift per layer), as buildFastGraph lists them. */
export function paramTensors(net: FastCheckpoint): { name: string; shape: number[]; data: Float32Array }[] {
  return net.layers.flatMap((l) => [
    { name: `${l.name}.weight`, shape: [...l.weightShape], data: l.weight },
    { name: `${l.name}.scale`, shape: [l.cout], data: l.scale },
    { name: `${l.name}.shift`, shape: [l.cout], data: l.shift },
  ]);
}

/**
 * The network's parameters as one flat vector (what Adam steps) with each layer's tensors re-pointed at views into
 * it, so that updating the vector updates the network.
 */
export function flattenParams(net: FastCheckpoint): Float32Array {
  const total = paramTensors(net).reduce((p, t) => p + t.data.length, 0);
  const flat = new Float32Array(total);
  let o = 0;
  const take = (src: Float32Array): Float32Array => {
    const view = flat.subarray(o, o + src.length);
    view.set(src);
    o += src.length;
    return view;
  };
  for (const l of net.layers) {
    l.weight = take(l.weight);
    l.scale = take(l.scale);
    l.shift = take(l.shift);
  }
  return flat;
}
