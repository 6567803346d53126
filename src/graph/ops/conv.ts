// Convolutions: Conv (any stride, symmetric or per-side zero padding) and ConvTranspose, each the other's
// data gradient, plus the weight and bias gradients (ConvWeightGrad, ConvBiasGrad) that training needs.
import { StyleloomError } from '../../errors.js';
import { f32, num, shapeAttr, expectRank, type Arr, type OpDef } from './common.js';
import { emitStride1ConvTransposeAsConv, emitWeightGrad } from './conv-grad-onnx.js';
import { emitWinogradConv, winogradApplies } from './winograd.js';
import type { Attrs, ConvOpName, GraphBuilder, Node, Shape, Value } from '../types.js';

/** W'[ci, co, kh-1-u, kw-1-v] = W[co, ci, u, v]: the weight whose convolution is conv's data gradient. */
export function flipTransposeWeight(w: Float32Array, shape: Shape): Float32Array {
  const [co, ci, kh, kw] = shape;
  const out = new Float32Array(w.length);
  for (let o = 0; o < co; o++)
    for (let c = 0; c < ci; c++)
      for (let u = 0; u < kh; u++)
        for (let v = 0; v < kw; v++)
          out[((c * co + o) * kh + (kh - 1 - u)) * kw + (kw - 1 - v)] = w[((o * ci + c) * kh + u) * kw + v];
  return out;
}

export const CONV_OPS = {
  /**
   * 2-D convolution, symmetric zero padding `pad`. Optional: `stride` (default 1) and `pads` = [top, left,
   * bottom, right] (overrides `pad`, may be asymmetric). Weight and bias may be constants or differentiated
   * values (a network's parameters fed as graph inputs): each input that leads to a target gets its gradient.
   */
  Conv: {
    infer([x, w, b], a) {
      expectRank('Conv', x, 4);
      expectRank('Conv', w, 4);
      if (x.shape[1] !== w.shape[1]) {
        throw new StyleloomError('E_INTERNAL', `Conv: input has ${x.shape[1]} channels, weight ${w.name} expects ${w.shape[1]}`);
      }
      if (b && (b.shape.length !== 1 || b.shape[0] !== w.shape[0])) {
        throw new StyleloomError('E_INTERNAL', `Conv: bias ${b.name} has shape [${b.shape}], expected [${w.shape[0]}]`);
      }
      const [pt, pl, pb, pr] = convPads(a);
      const s = convStride(a);
      const oh = Math.floor((x.shape[2] + pt + pb - w.shape[2]) / s) + 1;
      const ow = Math.floor((x.shape[3] + pl + pr - w.shape[3]) / s) + 1;
      if (oh < 1 || ow < 1) throw new StyleloomError('E_INTERNAL', `Conv: input [${x.shape}] is smaller than kernel [${w.shape}]`);
      return [f32([x.shape[0], w.shape[0], oh, ow])];
    },
    backward(g, node, [gy], needs = [true, true, true]) {
      if (!gy) return [null, null, null];
      const [x, w, b] = node.inputs;
      const name = node.outputs[0].name;
      const geometry = { stride: convStride(node.attrs), pads: convPads(node.attrs), kernel: [w.shape[2], w.shape[3]] };
      return [
        needs[0] ? convDataGrad(g, node, gy) : null,
        needs[1] ? g.add1('ConvWeightGrad', [gy, x], geometry, `${name}_dw`) : null,
        b && needs[2] ? g.add1('ConvBiasGrad', [gy], {}, `${name}_db`) : null,
      ];
    },
    evaluate([x, w, b], a) {
      return [conv2dGeneral(x, w, b, convPads(a), convStride(a))];
    },
    onnx(e, node, ins, outs) {
      const [, w] = node.inputs;
      const s = convStride(node.attrs);
      if (winogradApplies(e, node, convPads(node.attrs), s)) return emitWinogradConv(e, node, ins, outs, convPads(node.attrs));
      e.node('Conv', ins, { kernel_shape: [w.shape[2], w.shape[3]], pads: convPads(node.attrs), strides: [s, s] }, outs);
    },
  },

  /**
   * Transposed 2-D convolution (the adjoint of Conv with the same `stride` and `pads`), no bias.
   * Weight [C_in, C_out, kH, kW] (ONNX layout); `pads` = [top, left, bottom, right] are cropped from the
   * full output and `outPad` = [rows, cols] (each < stride) added at the bottom/right:
   * out = stride·(in − 1) + k − pads_begin − pads_end + outPad. Data gradient: Conv(dy, W) with the same stride/pads.
   */
  ConvTranspose: {
    infer([x, w], a) {
      expectRank('ConvTranspose', x, 4);
      expectRank('ConvTranspose', w, 4);
      if (x.shape[1] !== w.shape[0]) {
        throw new StyleloomError('E_INTERNAL', `ConvTranspose: input has ${x.shape[1]} channels, weight ${w.name} expects ${w.shape[0]}`);
      }
      const [oh, ow] = convTransposeOut(x.shape, w.shape, a);
      if (oh < 1 || ow < 1) throw new StyleloomError('E_INTERNAL', `ConvTranspose: output of [${x.shape}] would be empty`);
      return [f32([x.shape[0], w.shape[1], oh, ow])];
    },
    backward(g, node, [gy], needs = [true, true]) {
      if (!gy) return [null, null];
      const [x, w] = node.inputs;
      const geometry = { stride: convStride(node.attrs), pads: convPads(node.attrs) };
      const name = node.outputs[0].name;
      // y = ConvTranspose(x, W) is the adjoint of Conv(·, W) with the same geometry, whose output x is: dW is
      // that conv's weight gradient with input dy and output gradient x.
      return [
        needs[0] ? g.add1('Conv', [gy, w], geometry, `${name}_dx`) : null,
        needs[1] ? g.add1('ConvWeightGrad', [x, gy], { ...geometry, kernel: [w.shape[2], w.shape[3]] }, `${name}_dw`) : null,
      ];
    },
    evaluate([x, w], a) {
      return [convTranspose2d(x, w, convPads(a), convStride(a), outPadAttr(a))];
    },
    onnx(e, node, ins, outs) {
      const [, w] = node.inputs;
      const s = convStride(node.attrs);
      const op = outPadAttr(node.attrs);
      if (s === 1 && !op[0] && !op[1] && emitStride1ConvTransposeAsConv(e, ins[0], ins[1], w.shape, convPads(node.attrs), outs[0])) return;
      const attrs: Record<string, number[]> = { kernel_shape: [w.shape[2], w.shape[3]], strides: [s, s], pads: convPads(node.attrs) };
      if (op[0] || op[1]) attrs.output_padding = op;
      e.node('ConvTranspose', ins, attrs, outs);
    },
  },

  /**
   * Weight gradient of Conv given (dy, x) and the conv's `stride`, `pads` and `kernel` = [kH, kW]:
   * dW[o, c, u, v] = Σ_{n,i,j} dy[n, o, i, j] · x[n, c, s·i + u − top, s·j + v − left] (zero outside x).
   */
  ConvWeightGrad: {
    infer([gy, x], a) {
      expectRank('ConvWeightGrad', gy, 4);
      expectRank('ConvWeightGrad', x, 4);
      const [kh, kw] = shapeAttr(a, 'kernel');
      return [f32([gy.shape[1], x.shape[1], kh, kw])];
    },
    evaluate([gy, x], a) {
      return [convWeightGrad(gy, x, convPads(a), convStride(a), shapeAttr(a, 'kernel'))];
    },
    onnx(e, node, [gy, x], outs) {
      const geo = { x: node.inputs[1].shape, gy: node.inputs[0].shape, stride: convStride(node.attrs), pads: convPads(node.attrs), kernel: shapeAttr(node.attrs, 'kernel') };
      emitWeightGrad(e, gy, x, geo, outs[0]);
    },
  },

  /** Bias gradient of Conv: dy summed over batch and pixels, [C]. */
  ConvBiasGrad: {
    infer([gy]) {
      expectRank('ConvBiasGrad', gy, 4);
      return [f32([gy.shape[1]])];
    },
    evaluate([gy]) {
      const [n, c, h, w] = gy.shape;
      const out = new Float64Array(c);
      for (let p = 0; p < n * c; p++) for (let k = p * h * w; k < (p + 1) * h * w; k++) out[p % c] += gy.data[k];
      return [{ data: out, shape: [c] }];
    },
    onnx(e, _n, [gy], outs) {
      e.node('ReduceSum', [gy, e.int64([0, 2, 3])], { keepdims: 0 }, outs);
    },
  },
} satisfies Record<ConvOpName, OpDef>;

/** Conv/ConvTranspose padding as ONNX orders it: [top, left, bottom, right] (from `pads`, else symmetric `pad`). */
function convPads(a: Attrs): number[] {
  if (Array.isArray(a.pads)) return [...a.pads];
  const p = (a.pad as number | undefined) ?? 0;
  return [p, p, p, p];
}

function convStride(a: Attrs): number {
  return (a.stride as number | undefined) ?? 1;
}

function outPadAttr(a: Attrs): number[] {
  return Array.isArray(a.outPad) ? [...a.outPad] : [0, 0];
}

/** The original Conv: stride 1 and one symmetric `pad` (its flipped-weight backward applies). */
function isPlainConv(a: Attrs): boolean {
  return convStride(a) === 1 && a.pads === undefined;
}

/**
 * Data gradient of a Conv: for the plain conv with a constant weight, a conv with the flipped weight
 * (precomputed; faster than ConvTranspose), else the transposed convolution with the same geometry.
 */
function convDataGrad(g: GraphBuilder, node: Node, gy: Value): Value {
  const [x, w] = node.inputs;
  const name = `${node.outputs[0].name}_dx`;
  const data = g.constants.get(w.id);
  if (data && isPlainConv(node.attrs)) {
    const wt = g.constant(`${w.name}_flipT`, flipTransposeWeight(data, w.shape), [w.shape[1], w.shape[0], w.shape[2], w.shape[3]]);
    const p = num(node.attrs, 'pad') ?? 0;
    const [ph, pw] = [w.shape[2] - 1 - p, w.shape[3] - 1 - p];
    // a non-square kernel (the audio mode's 1 x width) needs the full-padding per axis
    if (ph !== pw) return g.add1('Conv', [gy, wt], { pads: [ph, pw, ph, pw] }, name);
    return g.conv(gy, wt, null, ph, name);
  }
  const s = convStride(node.attrs);
  const [pt, pl, pb, pr] = convPads(node.attrs);
  const outPad = [x.shape[2] - (s * (gy.shape[2] - 1) + w.shape[2] - pt - pb), x.shape[3] - (s * (gy.shape[3] - 1) + w.shape[3] - pl - pr)];
  return g.add1('ConvTranspose', [gy, w], { stride: s, pads: [pt, pl, pb, pr], outPad }, name);
}

function convTransposeOut(x: Shape, w: Shape, a: Attrs): [number, number] {
  const s = convStride(a);
  const [pt, pl, pb, pr] = convPads(a);
  const [oph, opw] = outPadAttr(a);
  return [s * (x[2] - 1) + w[2] - pt - pb + oph, s * (x[3] - 1) + w[3] - pl - pr + opw];
}

/** Convolution with any stride and per-side zero padding [top, left, bottom, right] (float64). */
function conv2dGeneral(x: Arr, w: Arr, b: Arr | undefined, pads: number[], s: number): Arr {
  const [n, ci, h, wd] = x.shape;
  const [co, , kh, kw] = w.shape;
  const [pt, pl, pb, pr] = pads;
  const oh = Math.floor((h + pt + pb - kh) / s) + 1;
  const ow = Math.floor((wd + pl + pr - kw) / s) + 1;
  const out = new Float64Array(n * co * oh * ow);
  for (let b0 = 0; b0 < n; b0++)
    for (let o = 0; o < co; o++) {
      const base = (b0 * co + o) * oh * ow;
      if (b) out.fill(b.data[o], base, base + oh * ow);
      for (let c = 0; c < ci; c++)
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const wv = w.data[((o * ci + c) * kh + u) * kw + v];
            for (let i = 0; i < oh; i++) {
              const yi = i * s + u - pt;
              if (yi < 0 || yi >= h) continue;
              const xrow = ((b0 * ci + c) * h + yi) * wd;
              for (let j = 0; j < ow; j++) {
                const xj = j * s + v - pl;
                if (xj >= 0 && xj < wd) out[base + i * ow + j] += wv * x.data[xrow + xj];
              }
            }
          }
    }
  return { data: out, shape: [n, co, oh, ow] };
}

/** Transposed convolution (float64): out[s·i + u − top, s·j + v − left] += x[i, j] · w[c, o, u, v]. */
function convTranspose2d(x: Arr, w: Arr, pads: number[], s: number, outPad: number[]): Arr {
  const [n, ci, h, wd] = x.shape;
  const [, co, kh, kw] = w.shape;
  const [pt, pl, pb, pr] = pads;
  const oh = s * (h - 1) + kh - pt - pb + outPad[0];
  const ow = s * (wd - 1) + kw - pl - pr + outPad[1];
  const out = new Float64Array(n * co * oh * ow);
  for (let b0 = 0; b0 < n; b0++)
    for (let c = 0; c < ci; c++)
      for (let o = 0; o < co; o++) {
        const base = (b0 * co + o) * oh * ow;
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const wv = w.data[((c * co + o) * kh + u) * kw + v];
            for (let i = 0; i < h; i++) {
              const y = i * s + u - pt;
              if (y < 0 || y >= oh) continue;
              const xrow = ((b0 * ci + c) * h + i) * wd;
              for (let j = 0; j < wd; j++) {
                const z = j * s + v - pl;
                if (z >= 0 && z < ow) out[base + y * ow + z] += wv * x.data[xrow + j];
              }
            }
          }
      }
  return { data: out, shape: [n, co, oh, ow] };
}

/** ConvWeightGrad's float64 kernel: dW[o, c, u, v] = Σ dy[n, o, i, j] · x[n, c, s·i + u − top, s·j + v − left]. */
function convWeightGrad(gy: Arr, x: Arr, pads: number[], s: number, [kh, kw]: number[]): Arr {
  const [n, co, oh, ow] = gy.shape;
  const [, ci, h, wd] = x.shape;
  const [pt, pl] = pads;
  const out = new Float64Array(co * ci * kh * kw);
  for (let b0 = 0; b0 < n; b0++)
    for (let o = 0; o < co; o++)
      for (let c = 0; c < ci; c++)
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            let acc = 0;
            for (let i = 0; i < oh; i++) {
              const yi = i * s + u - pt;
              if (yi < 0 || yi >= h) continue;
              for (let j = 0; j < ow; j++) {
                const xj = j * s + v - pl;
                if (xj >= 0 && xj < wd) acc += gy.data[((b0 * co + o) * oh + i) * ow + j] * x.data[((b0 * ci + c) * h + yi) * wd + xj];
              }
            }
            out[((o * ci + c) * kh + u) * kw + v] += acc;
          }
  return { data: out, shape: [co, ci, kh, kw] };
}
