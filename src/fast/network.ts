// The feed-forward style network (Johnson et al. 2016, instance norm) as an IR graph for a fixed input size:
// TF 'SAME' zero padding, stride-2 convs, residual blocks, transposed-conv or resize-conv upsampling, tanh
// output; its parameters constants (inference) or graph inputs (training: differentiated like the image).
import { StyleloomError } from '../errors.js';
import { Graph, type Value } from '../graph/ir.js';
import type { FastCheckpoint, FastLayer } from './checkpoint-format.js';

/** Instance-norm epsilon of the checkpoints (inside the square root). */
export const FAST_IN_EPS = 1e-3;

export interface FastGraphOptions {
  height: number;
  width: number;
  /** Images per run (default 1); each is normalised on its own. */
  batch?: number;
  /**
   * true (default): reflection-pad the input to a multiple of 4 per side and crop the output back, so the
   * output has the input's size. false: the bare network, whose output is 4·ceil(n/4)-ish (e.g. 33 -> 36).
   */
  exactSize?: boolean;
  /**
   * How the stride-2 transposed convs run: 'convtranspose' (default; ONNX ConvTranspose) or 'subpixel' (a 2x2
   * conv to 4·C_out phase channels, then DepthToSpace: the same sums; on onnxruntime's CPU kernels it measured
   * the same speed, 68 vs 69 ms of ~440 at 512 px, so the plain op stays the default).
   */
  upsample?: 'subpixel' | 'convtranspose';
  /**
   * 'constant' (default): the weights are initializers. 'input': every layer's weight, instance-norm scale and
   * shift is a graph input (`<layer>_w`, `<layer>_scale`, `<layer>_shift`), listed in FastGraph.params, so that
   * gradients() can differentiate the loss with respect to them (training). 'subpixel' needs constants.
   */
  params?: 'constant' | 'input';
}

/** One parameter tensor of the network as a graph input, with the checkpoint's values. */
export interface FastParam {
  value: Value;
  data: Float32Array;
}

export interface FastGraph {
  graph: Graph;
  /** [N, 3, H, W] float RGB 0..255 (no mean subtraction). */
  input: Value;
  /** [N, 3, H', W'] float RGB 0..255: clip(tanh(x)·150 + 127.5, 0, 255). */
  output: Value;
  /** With params 'input': the parameter inputs in layer order (weight, scale, shift); empty otherwise. */
  params: FastParam[];
}

/** TensorFlow 'SAME' padding (before, after) along an axis of length n for kernel k, stride s. */
export function samePads(n: number, k: number, s: number): [number, number] {
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** The output side of the bare network for an input side n (stride 2 twice, then x2 twice). */
export function bareOutputSide(n: number): number {
  return 4 * Math.ceil(Math.ceil(n / 2) / 2);
}

/** Smallest side the exact-size network takes (reflection padding needs at least 2 pixels). */
export const FAST_MIN_SIDE = 2;

/** Smallest side a network with reflection-padded convolutions takes: 9x9 convs mirror 4 pixels, the 1/4-size level 1. */
export const REFLECT_MIN_SIDE = 5;

/**
 * The transposed conv (weight [C_in, C_out, k, k], stride s, no padding at the start, output s·n) as a conv
 * with weight [s²·C_out, C_in, D+1, D+1], D = floor((k−1)/s), top/left padding D, whose output channel
 * (a·s + b)·C_out + o is output phase (a, b): out[s·m + a] = Σ_d x[m − d]·w[a + s·d]. DepthToSpace (DCR) interleaves.
 */
export function subpixelWeight(w: Float32Array, cin: number, cout: number, k: number, s: number): { data: Float32Array; shape: [number, number, number, number] } {
  const D = Math.floor((k - 1) / s);
  const q = D + 1;
  const out = new Float32Array(s * s * cout * cin * q * q);
  for (let a = 0; a < s; a++)
    for (let b = 0; b < s; b++)
      for (let o = 0; o < cout; o++)
        for (let c = 0; c < cin; c++)
          for (let qy = 0; qy < q; qy++)
            for (let qx = 0; qx < q; qx++) {
              const [ty, tx] = [a + s * (D - qy), b + s * (D - qx)];
              if (ty >= k || tx >= k) continue;
              out[((((a * s + b) * cout + o) * cin + c) * q + qy) * q + qx] = w[((c * cout + o) * k + ty) * k + tx];
            }
  return { data: out, shape: [s * s * cout, cin, q, q] };
}

/** How a layer gets its parameters: as constants, or as graph inputs collected in `params`. */
type ParamMaker = (name: string, data: Float32Array, shape: readonly number[]) => Value;

function paramMaker(g: Graph, mode: 'constant' | 'input', params: FastParam[]): ParamMaker {
  if (mode === 'constant') return (name, data, shape) => g.constant(name, data, shape);
  return (name, data, shape) => {
    const value = g.input(name, shape);
    params.push({ value, data });
    return value;
  };
}

/** `x` padded for `L`'s convolution by `pads` [top, left, bottom, right]: mirrored (the layer's pad 'reflect') or left to the conv's zeros. */
function padFor(g: Graph, x: Value, L: FastLayer, pads: number[]): { x: Value; pads: number[] } {
  if (L.pad !== 'reflect' || pads.every((p) => p === 0)) return { x, pads };
  return { x: g.add1('ReflectPad', [x], { pads }, `${L.name}_pad`), pads: [0, 0, 0, 0] };
}

function layer(g: Graph, x: Value, L: FastLayer, upsample: 'subpixel' | 'convtranspose', param: ParamMaker): Value {
  let y: Value;
  const p = (L.kernel - 1) / 2;
  if (L.kind === 'convT' && upsample === 'subpixel' && samePads(2 * x.shape[2], L.kernel, L.stride)[0] === 0 && samePads(2 * x.shape[3], L.kernel, L.stride)[0] === 0) {
    const sw = subpixelWeight(L.weight, L.cin, L.cout, L.kernel, L.stride);
    const D = sw.shape[2] - 1;
    const phases = g.add1('Conv', [x, g.constant(`${L.name}_w_subpixel`, sw.data, sw.shape)], { pads: [D, D, 0, 0] }, `${L.name}_phases`);
    y = g.add1('DepthToSpace', [phases], { block: L.stride }, L.name);
  } else if (L.kind === 'convT') {
    const w = param(`${L.name}_w`, L.weight, L.weightShape);
    // tf.nn.conv2d_transpose(..., output [2n], 'SAME'): full output 2n+1, the last row/column dropped.
    const [pt, pb] = samePads(2 * x.shape[2], L.kernel, L.stride);
    const [pl, pr] = samePads(2 * x.shape[3], L.kernel, L.stride);
    y = g.add1('ConvTranspose', [x, w], { stride: L.stride, pads: [pt, pl, pb, pr] }, L.name);
  } else if (L.kind === 'upconv') {
    if (L.stride !== 2) throw new StyleloomError('E_INTERNAL', `${L.name}: resize-convolution upsamples by 2, not ${L.stride}`);
    const w = param(`${L.name}_w`, L.weight, L.weightShape);
    const u = padFor(g, g.add1('Upsample2', [x], {}, `${L.name}_up`), L, [p, p, p, p]);
    y = g.add1('Conv', [u.x, w], { pads: u.pads }, L.name);
  } else if (L.stride === 1) {
    const w = param(`${L.name}_w`, L.weight, L.weightShape);
    const u = padFor(g, x, L, [p, p, p, p]);
    y = g.add1('Conv', [u.x, w], { pads: u.pads }, L.name);
  } else {
    const w = param(`${L.name}_w`, L.weight, L.weightShape);
    const [pt, pb] = samePads(x.shape[2], L.kernel, L.stride);
    const [pl, pr] = samePads(x.shape[3], L.kernel, L.stride);
    const u = padFor(g, x, L, [pt, pl, pb, pr]);
    y = g.add1('Conv', [u.x, w], { stride: L.stride, pads: u.pads }, L.name);
  }
  const scale = param(`${L.name}_scale`, L.scale, [L.cout]);
  const shift = param(`${L.name}_shift`, L.shift, [L.cout]);
  y = g.add1('InstanceNorm', [y, scale, shift], { eps: FAST_IN_EPS }, `${L.name}_in`);
  return L.relu ? g.relu(y, `${L.name}_relu`) : y;
}

/** A residual block starts at a layer named res<k>a; it and the next layer are added to the block's input. */
const RESIDUAL_START = /^res\d+a$/;

/** Build the inference graph of `ckpt` for [batch, 3, height, width] inputs. */
export function buildFastGraph(ckpt: FastCheckpoint, opts: FastGraphOptions): FastGraph {
  const { height: h, width: w } = opts;
  const batch = opts.batch ?? 1;
  const exact = opts.exactSize ?? true;
  const up = opts.upsample ?? 'convtranspose';
  if (up === 'subpixel' && opts.params === 'input') throw new StyleloomError('E_INTERNAL', "fast network: upsample 'subpixel' needs constant weights");
  for (const [what, v, min] of [['height', h, exact ? FAST_MIN_SIDE : 1], ['width', w, exact ? FAST_MIN_SIDE : 1], ['batch', batch, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new StyleloomError('E_USAGE', `fast network ${what} ${v} is not valid; need an integer >= ${min}`);
  }
  if (exact && ckpt.layers.some((l) => l.pad === 'reflect') && Math.min(h, w) < REFLECT_MIN_SIDE) {
    throw new StyleloomError('E_INPUT', `the image is ${w}x${h}; this network (reflection padding) needs at least ${REFLECT_MIN_SIDE} pixels per side`);
  }
  const g = new Graph();
  const input = g.input('image', [batch, 3, h, w]);
  const params: FastParam[] = [];
  const output = g.output(networkOn(g, ckpt, input, exact, up, paramMaker(g, opts.params ?? 'constant', params), 'stylized'));
  return { graph: g, input, output, params };
}

/**
 * A second copy of a network built with params 'input' (e.g. for a perturbed batch in training): the same layers on
 * `input` (of `fast.input`'s shape) in `fast.graph`, reading the same parameter inputs, so that the gradient with
 * respect to each parameter sums both uses. Returns the copy's output (not marked as a graph output).
 */
export function addFastBranch(fast: FastGraph, ckpt: FastCheckpoint, input: Value, name: string): Value {
  if (fast.params.length === 0) throw new StyleloomError('E_INTERNAL', 'addFastBranch needs a network built with params: input');
  let k = 0;
  const reuse: ParamMaker = (pname, _data, shape) => {
    const p = fast.params[k++];
    if (!p || p.value.shape.join() !== shape.join()) throw new StyleloomError('E_INTERNAL', `addFastBranch: parameter ${pname} does not match the network's ${p?.value.name}`);
    return p.value;
  };
  const exact = fast.input.shape[2] === fast.output.shape[2] && fast.input.shape[3] === fast.output.shape[3];
  const out = networkOn(fast.graph, ckpt, input, exact, 'convtranspose', reuse, name);
  if (k !== fast.params.length) throw new StyleloomError('E_INTERNAL', `addFastBranch used ${k} of ${fast.params.length} parameters`);
  return out;
}

/** The layers of `ckpt` on `input` in `g` (padding to a multiple of 4 and cropping back when `exact`), named `outName`. */
function networkOn(g: Graph, ckpt: FastCheckpoint, input: Value, exact: boolean, up: 'subpixel' | 'convtranspose', param: ParamMaker, outName: string): Value {
  const [, , h, w] = input.shape;
  const padOf = (n: number) => {
    const p = (4 - (n % 4)) % 4;
    return [Math.floor(p / 2), p - Math.floor(p / 2)];
  };
  const [pt, pb] = exact ? padOf(h) : [0, 0];
  const [pl, pr] = exact ? padOf(w) : [0, 0];
  let x = pt + pb + pl + pr > 0 ? g.add1('ReflectPad', [input], { pads: [pt, pl, pb, pr] }, 'pad_to_4') : input;

  const L = ckpt.layers;
  for (let k = 0; k < L.length; k++) {
    if (RESIDUAL_START.test(L[k].name) && k + 1 < L.length) {
      x = g.add1('Add', [x, layer(g, layer(g, x, L[k], up, param), L[k + 1], up, param)], {}, `${L[k].name.slice(0, -1)}_sum`);
      k++;
    } else x = layer(g, x, L[k], up, param);
  }

  x = g.add1('Affine', [g.add1('Tanh', [x], {}, 'tanh')], { scale: 150, shift: 255 / 2 }, 'to_rgb');
  const crop = exact ? [pt, pl, x.shape[2] - h - pt, x.shape[3] - w - pl] : [0, 0, 0, 0];
  if (crop.some((c) => c < 0)) throw new StyleloomError('E_INTERNAL', `fast network output [${x.shape}] smaller than ${h}x${w}`);
  const cropped = crop.some((c) => c > 0);
  x = g.add1('Clip', [x], { min: 0, max: 255 }, cropped ? 'clip' : outName);
  return cropped ? g.add1('Crop', [x], { pads: crop }, outName) : x;
}
