// Every op of the IR in one place, micrograd-style: shape rule, local backward rule (emitted as more
// IR ops), float64 reference evaluation, and its lowering to ONNX nodes.
import { StyleloomError } from '../errors.js';
import type { Attrs, DType, Graph, Node, Shape, Value } from './ir.js';

/** A float64 array with its shape (the reference evaluator's tensors; int64 indices are stored exactly). */
export interface Arr {
  data: Float64Array;
  shape: Shape;
}

/** What an op may do while lowering itself to ONNX (implemented in onnx-export.ts). */
export interface OnnxEmitter {
  /** Add an ONNX node; returns its output names (fresh names unless `outputs` are given). */
  node(opType: string, inputs: string[], attrs?: Record<string, number | number[] | string>, outputs?: string[] | number): string[];
  int64(values: number[]): string;
  float(values: number[], dims?: number[]): string;
}

export interface OpDef {
  infer(inputs: readonly Value[], attrs: Attrs): { shape: Shape; dtype: DType }[];
  /** Gradients of the loss with respect to each input, given those of the outputs (null = none). */
  backward?(g: Graph, node: Node, gys: (Value | null)[]): (Value | null)[];
  evaluate(inputs: Arr[], attrs: Attrs): Arr[];
  onnx(e: OnnxEmitter, node: Node, ins: string[], outs: string[]): void;
}

const f32 = (shape: Shape) => ({ shape, dtype: 'float32' as DType });
const num = (a: Attrs, k: string) => a[k] as number;
const shapeAttr = (a: Attrs, k: string) => a[k] as number[];

function expectRank(op: string, v: Value, rank: number): void {
  if (v.shape.length !== rank) {
    throw new StyleloomError('E_INTERNAL', `${op}: ${v.name} has shape [${v.shape}], expected rank ${rank}`);
  }
}
function expectSame(op: string, a: Value, b: Value): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, k) => d !== b.shape[k])) {
    throw new StyleloomError('E_INTERNAL', `${op}: shapes [${a.shape}] and [${b.shape}] differ`);
  }
}
const size = (s: Shape) => s.reduce((p, d) => p * d, 1);

// ---------- float64 kernels shared by evaluate() ----------

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

function map2(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const out = new Float64Array(a.data.length);
  for (let k = 0; k < out.length; k++) out[k] = f(a.data[k], b.data[k]);
  return { data: out, shape: a.shape };
}

/** Forward differences along the last (axis 3) or second-to-last (axis 2) axis of an NCHW array. */
function diffs(x: Arr, axis: 2 | 3): { d: Float64Array; rows: number; h: number; w: number } {
  const [n, c, h, w] = x.shape;
  const dh = axis === 2 ? h - 1 : h;
  const dw = axis === 3 ? w - 1 : w;
  const d = new Float64Array(n * c * Math.max(dh, 0) * Math.max(dw, 0));
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < dh; i++)
      for (let j = 0; j < dw; j++) {
        const a = p * h * w + i * w + j;
        d[(p * dh + i) * dw + j] = x.data[axis === 3 ? a + 1 : a + w] - x.data[a];
      }
  return { d, rows: n * c, h: dh, w: dw };
}

// ---------- the ops ----------

export type OpName =
  | 'Dot'
  | 'ScaleBy'
  | 'Conv' | 'Relu' | 'ReluGrad' | 'MaxPool2' | 'MaxUnpool2' | 'AvgPool2' | 'AvgPool2Grad'
  | 'Gram' | 'GramGrad' | 'Mse' | 'MseGrad' | 'Tv' | 'TvGrad' | 'Scale' | 'Add'
  // feed-forward (fast) style networks
  | 'ConvTranspose' | 'InstanceNorm' | 'InstanceNormGrad' | 'ReflectPad' | 'ReflectPadGrad' | 'ZeroPad' | 'Crop'
  | 'Tanh' | 'TanhGrad' | 'Affine' | 'Clip' | 'ClipGrad' | 'DepthToSpace' | 'SpaceToDepth';

export const OPS: Record<OpName, OpDef> = {
  /**
   * 2-D convolution, symmetric zero padding `pad`; weight (and bias) must be constants to get a data gradient.
   * Optional: `stride` (default 1) and `pads` = [top, left, bottom, right] (overrides `pad`, may be asymmetric).
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
    backward(g, node, [gy]) {
      const [, w] = node.inputs;
      const data = g.constants.get(w.id);
      if (!gy) return [null, null, null];
      if (!isPlainConv(node.attrs)) return [convDataGrad(g, node, gy), null, null];
      if (!data) throw new StyleloomError('E_INTERNAL', `Conv backward: weight ${w.name} is not a constant`);
      const wt = g.constant(`${w.name}_flipT`, flipTransposeWeight(data, w.shape), [w.shape[1], w.shape[0], w.shape[2], w.shape[3]]);
      const pad = w.shape[2] - 1 - num(node.attrs, 'pad');
      return [g.conv(gy, wt, null, pad, `${node.outputs[0].name}_dx`), null, null];
    },
    evaluate([x, w, b], a) {
      return [conv2dGeneral(x, w, b, convPads(a), convStride(a))];
    },
    onnx(e, node, ins, outs) {
      const [, w] = node.inputs;
      const s = convStride(node.attrs);
      e.node('Conv', ins, { kernel_shape: [w.shape[2], w.shape[3]], pads: convPads(node.attrs), strides: [s, s] }, outs);
    },
  },

  Relu: {
    infer([x]) {
      return [f32(x.shape)];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('ReluGrad', [gy, node.outputs[0]], {}, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x]) {
      return [{ data: x.data.map((v) => (v > 0 ? v : 0)), shape: x.shape }];
    },
    onnx(e, _n, ins, outs) {
      e.node('Relu', ins, {}, outs);
    },
  },

  /** dy where the ReLU output y > 0, else 0 (derivative at 0 taken as 0). */
  ReluGrad: {
    infer([gy, y]) {
      expectSame('ReluGrad', gy, y);
      return [f32(y.shape)];
    },
    evaluate([gy, y]) {
      return [map2(gy, y, (d, v) => (v > 0 ? d : 0))];
    },
    onnx(e, _n, [gy, y], outs) {
      // dy * float(y > 0): cheaper in onnxruntime than Where(y > 0, dy, 0) (kernel time of the
      // ReLU-backward ops at 512 px roughly 180 vs 300 ms-equivalents in one profile).
      const [mask] = e.node('Greater', [y, e.float([0])]);
      const [m] = e.node('Cast', [mask], { to: 1 });
      e.node('Mul', [gy, m], {}, outs);
    },
  },

  /** 2x2 max pool, stride 2, floor mode. Outputs the pooled map and the flat input index of each maximum. */
  MaxPool2: {
    infer([x]) {
      expectRank('MaxPool2', x, 4);
      const s = [x.shape[0], x.shape[1], Math.floor(x.shape[2] / 2), Math.floor(x.shape[3] / 2)];
      return [f32(s), { shape: s, dtype: 'int64' }];
    },
    backward(g, node, [gy]) {
      if (!gy) return [null];
      return [g.add1('MaxUnpool2', [gy, node.outputs[1]], { outShape: [...node.inputs[0].shape] }, `${node.outputs[0].name}_d`)];
    },
    evaluate([x]) {
      const [n, c, h, w] = x.shape;
      const oh = Math.floor(h / 2);
      const ow = Math.floor(w / 2);
      const y = new Float64Array(n * c * oh * ow);
      const idx = new Float64Array(y.length);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            let best = -Infinity;
            let at = -1;
            for (const [u, v] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
              const k = p * h * w + (2 * i + u) * w + 2 * j + v;
              if (x.data[k] > best) [best, at] = [x.data[k], k];
            }
            y[(p * oh + i) * ow + j] = best;
            idx[(p * oh + i) * ow + j] = at;
          }
      const s = [n, c, oh, ow];
      return [{ data: y, shape: s }, { data: idx, shape: s }];
    },
    onnx(e, _n, ins, outs) {
      e.node('MaxPool', ins, { kernel_shape: [2, 2], strides: [2, 2] }, outs);
    },
  },

  /** Scatter dy to the recorded argmax positions of an input of shape outShape (zeros elsewhere). */
  MaxUnpool2: {
    infer([gy, idx], a) {
      expectSame('MaxUnpool2', gy, idx);
      return [f32(shapeAttr(a, 'outShape'))];
    },
    evaluate([gy, idx], a) {
      const s = shapeAttr(a, 'outShape');
      const out = new Float64Array(size(s));
      for (let k = 0; k < gy.data.length; k++) out[idx.data[k]] += gy.data[k];
      return [{ data: out, shape: s }];
    },
    onnx(e, node, [gy, idx], outs) {
      e.node('MaxUnpool', [gy, idx, e.int64(shapeAttr(node.attrs, 'outShape'))], { kernel_shape: [2, 2], strides: [2, 2] }, outs);
    },
  },

  /** 2x2 average pool, stride 2, floor mode. */
  AvgPool2: {
    infer([x]) {
      expectRank('AvgPool2', x, 4);
      return [f32([x.shape[0], x.shape[1], Math.floor(x.shape[2] / 2), Math.floor(x.shape[3] / 2)])];
    },
    backward(g, node, [gy]) {
      if (!gy) return [null];
      return [g.add1('AvgPool2Grad', [gy], { outShape: [...node.inputs[0].shape] }, `${node.outputs[0].name}_d`)];
    },
    evaluate([x]) {
      const [n, c, h, w] = x.shape;
      const oh = Math.floor(h / 2);
      const ow = Math.floor(w / 2);
      const y = new Float64Array(n * c * oh * ow);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) {
            const k = p * h * w + 2 * i * w + 2 * j;
            y[(p * oh + i) * ow + j] = (x.data[k] + x.data[k + 1] + x.data[k + w] + x.data[k + w + 1]) / 4;
          }
      return [{ data: y, shape: [n, c, oh, ow] }];
    },
    onnx(e, _n, ins, outs) {
      e.node('AveragePool', ins, { kernel_shape: [2, 2], strides: [2, 2] }, outs);
    },
  },

  /** dy/4 to each input of its window; a dropped odd last row/column gets 0. */
  AvgPool2Grad: {
    infer([gy], a) {
      return [f32(shapeAttr(a, 'outShape'))];
    },
    evaluate([gy], a) {
      const s = shapeAttr(a, 'outShape');
      const [n, c, h, w] = s;
      const [, , oh, ow] = gy.shape;
      const out = new Float64Array(size(s));
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < 2 * oh; i++)
          for (let j = 0; j < 2 * ow; j++) out[p * h * w + i * w + j] = gy.data[(p * oh + (i >> 1)) * ow + (j >> 1)] / 4;
      return [{ data: out, shape: s }];
    },
    onnx(e, node, [gy], outs) {
      const [n, c, h, w] = shapeAttr(node.attrs, 'outShape');
      const [, , oh, ow] = node.inputs[0].shape;
      const [q] = e.node('Mul', [gy, e.float([0.25])]);
      const [r] = e.node('Reshape', [q, e.int64([n, c, oh, 1, ow, 1])]);
      const [x] = e.node('Expand', [r, e.int64([n, c, oh, 2, ow, 2])]);
      if (h === 2 * oh && w === 2 * ow) {
        e.node('Reshape', [x, e.int64([n, c, h, w])], {}, outs);
      } else {
        const [y] = e.node('Reshape', [x, e.int64([n, c, 2 * oh, 2 * ow])]);
        e.node('Pad', [y, e.int64([0, 0, 0, 0, 0, 0, h - 2 * oh, w - 2 * ow])], {}, outs);
      }
    },
  },

  /** G = M Mᵀ / (C·H·W) with M = F reshaped C × (H·W). */
  Gram: {
    infer([f]) {
      expectRank('Gram', f, 4);
      if (f.shape[0] !== 1) throw new StyleloomError('E_INTERNAL', 'Gram: batch size must be 1');
      return [f32([f.shape[1], f.shape[1]])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('GramGrad', [gy, node.inputs[0]], {}, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([f]) {
      const [, c, h, w] = f.shape;
      const hw = h * w;
      const n = c * hw;
      const out = new Float64Array(c * c);
      for (let a = 0; a < c; a++)
        for (let b = a; b < c; b++) {
          let s = 0;
          for (let k = 0; k < hw; k++) s += f.data[a * hw + k] * f.data[b * hw + k];
          out[a * c + b] = out[b * c + a] = s / n;
        }
      return [{ data: out, shape: [c, c] }];
    },
    onnx(e, node, [f], outs) {
      const [, c, h, w] = node.inputs[0].shape;
      const [m] = e.node('Reshape', [f, e.int64([c, h * w])]);
      e.node('Gemm', [m, m], { alpha: 1 / (c * h * w), transB: 1 }, outs);
    },
  },

  /** dF = (dG + dGᵀ) M / N, reshaped to F's shape. */
  GramGrad: {
    infer([gy, f]) {
      return [f32(f.shape)];
    },
    evaluate([gy, f]) {
      const [, c, h, w] = f.shape;
      const hw = h * w;
      const n = c * hw;
      const out = new Float64Array(c * hw);
      for (let a = 0; a < c; a++)
        for (let b = 0; b < c; b++) {
          const s = (gy.data[a * c + b] + gy.data[b * c + a]) / n;
          if (s === 0) continue;
          for (let k = 0; k < hw; k++) out[a * hw + k] += s * f.data[b * hw + k];
        }
      return [{ data: out, shape: f.shape }];
    },
    onnx(e, node, [gy, f], outs) {
      const [, c, h, w] = node.inputs[1].shape;
      const [t] = e.node('Transpose', [gy], { perm: [1, 0] });
      const [s] = e.node('Add', [gy, t]);
      const [m] = e.node('Reshape', [f, e.int64([c, h * w])]);
      const [d] = e.node('Gemm', [s, m], { alpha: 1 / (c * h * w) });
      e.node('Reshape', [d, e.int64([...node.inputs[1].shape])], {}, outs);
    },
  },

  /** mean((a - t)²) as a scalar; t is a target (no gradient). */
  Mse: {
    infer([a, t]) {
      expectSame('Mse', a, t);
      return [f32([])];
    },
    backward(g, node, [gy]) {
      const [a, t] = node.inputs;
      return [gy ? g.add1('MseGrad', [a, t, gy], {}, `${node.outputs[0].name}_d`) : null, null];
    },
    evaluate([a, t]) {
      let s = 0;
      for (let k = 0; k < a.data.length; k++) s += (a.data[k] - t.data[k]) ** 2;
      return [{ data: Float64Array.of(s / a.data.length), shape: [] }];
    },
    onnx(e, _n, [a, t], outs) {
      const [d] = e.node('Sub', [a, t]);
      const [q] = e.node('Mul', [d, d]);
      e.node('ReduceMean', [q], { keepdims: 0 }, outs);
    },
  },

  /** gy · 2 (a - t) / numel. */
  MseGrad: {
    infer([a]) {
      return [f32(a.shape)];
    },
    evaluate([a, t, gy]) {
      const c = (2 * gy.data[0]) / a.data.length;
      return [map2(a, t, (x, y) => c * (x - y))];
    },
    onnx(e, node, [a, t, gy], outs) {
      const [d] = e.node('Sub', [a, t]);
      const [c] = e.node('Mul', [gy, e.float([2 / size(node.inputs[0].shape)])]);
      e.node('Mul', [d, c], {}, outs);
    },
  },

  /** Squared anisotropic total variation over all channels, divided by the number of pixels H·W. */
  Tv: {
    infer([x]) {
      expectRank('Tv', x, 4);
      return [f32([])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('TvGrad', [node.inputs[0], gy], {}, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x]) {
      let s = 0;
      for (const axis of [3, 2] as const) for (const v of diffs(x, axis).d) s += v * v;
      return [{ data: Float64Array.of(s / (x.shape[2] * x.shape[3])), shape: [] }];
    },
    onnx(e, node, [x], outs) {
      const [, , h, w] = node.inputs[0].shape;
      const sq = (axis: number, len: number) => {
        const [hi] = e.node('Slice', [x, e.int64([1]), e.int64([len]), e.int64([axis])]);
        const [lo] = e.node('Slice', [x, e.int64([0]), e.int64([len - 1]), e.int64([axis])]);
        const [d] = e.node('Sub', [hi, lo]);
        const [q] = e.node('Mul', [d, d]);
        return e.node('ReduceSum', [q], { keepdims: 0 })[0];
      };
      const [s] = e.node('Add', [sq(3, w), sq(2, h)]);
      e.node('Mul', [s, e.float([1 / (h * w)])], {}, outs);
    },
  },

  /** gy · 2/(HW) · (DxᵀDx + DyᵀDy) x: per channel 2(d[k-1] - d[k]) along each axis, zero past the edges. */
  TvGrad: {
    infer([x]) {
      return [f32(x.shape)];
    },
    evaluate([x, gy]) {
      const [n, c, h, w] = x.shape;
      const out = new Float64Array(x.data.length);
      const k = (2 * gy.data[0]) / (h * w);
      for (const axis of [3, 2] as const) {
        const { d, h: dh, w: dw } = diffs(x, axis);
        for (let p = 0; p < n * c; p++)
          for (let i = 0; i < dh; i++)
            for (let j = 0; j < dw; j++) {
              const v = k * d[(p * dh + i) * dw + j];
              const a = p * h * w + i * w + j;
              out[a] -= v;
              out[axis === 3 ? a + 1 : a + w] += v;
            }
      }
      return [{ data: out, shape: x.shape }];
    },
    onnx(e, node, [x, gy], outs) {
      const [, , h, w] = node.inputs[0].shape;
      const part = (axis: number, len: number) => {
        const [hi] = e.node('Slice', [x, e.int64([1]), e.int64([len]), e.int64([axis])]);
        const [lo] = e.node('Slice', [x, e.int64([0]), e.int64([len - 1]), e.int64([axis])]);
        const [d] = e.node('Sub', [hi, lo]);
        const before = [0, 0, 0, 0, 0, 0, 0, 0];
        const after = [0, 0, 0, 0, 0, 0, 0, 0];
        before[axis] = 1; // pad at the start: element k gets d[k-1]
        after[4 + axis] = 1; // pad at the end: element k gets d[k]
        const [p1] = e.node('Pad', [d, e.int64(before)]);
        const [p2] = e.node('Pad', [d, e.int64(after)]);
        return e.node('Sub', [p1, p2])[0];
      };
      const [s] = e.node('Add', [part(3, w), part(2, h)]);
      const [c] = e.node('Mul', [gy, e.float([2 / (h * w)])]);
      e.node('Mul', [s, c], {}, outs);
    },
  },

  /** x · s for a compile-time constant s. */
  Scale: {
    infer([x]) {
      return [f32(x.shape)];
    },
    backward(g, node, [gy]) {
      return [gy ? g.scale(gy, num(node.attrs, 's'), `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const s = num(a, 's');
      return [{ data: x.data.map((v) => v * s), shape: x.shape }];
    },
    onnx(e, node, [x], outs) {
      e.node('Mul', [x, e.float([num(node.attrs, 's')])], {}, outs);
    },
  },

  /** Elementwise a + b of equal shapes (no broadcasting). */
  Add: {
    infer([a, b]) {
      expectSame('Add', a, b);
      return [f32(a.shape)];
    },
    backward(_g, _node, [gy]) {
      return [gy, gy];
    },
    evaluate([a, b]) {
      return [map2(a, b, (x, y) => x + y)];
    },
    onnx(e, _n, ins, outs) {
      e.node('Add', ins, {}, outs);
    },
  },

  // ---------- ops of the feed-forward (fast) style networks ----------

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
    backward(g, node, [gy]) {
      if (!gy) return [null, null];
      const s = convStride(node.attrs);
      const dx = g.add1('Conv', [gy, node.inputs[1]], { stride: s, pads: convPads(node.attrs) }, `${node.outputs[0].name}_dx`);
      return [dx, null];
    },
    evaluate([x, w], a) {
      return [convTranspose2d(x, w, convPads(a), convStride(a), outPadAttr(a))];
    },
    onnx(e, node, ins, outs) {
      const [, w] = node.inputs;
      const s = convStride(node.attrs);
      const op = outPadAttr(node.attrs);
      const attrs: Record<string, number[]> = { kernel_shape: [w.shape[2], w.shape[3]], strides: [s, s], pads: convPads(node.attrs) };
      if (op[0] || op[1]) attrs.output_padding = op;
      e.node('ConvTranspose', ins, attrs, outs);
    },
  },

  /**
   * Instance normalisation with learned per-channel scale and shift (inputs x, scale [C], shift [C]):
   * y = scale·(x − mean_hw)/sqrt(var_hw + eps) + shift, biased variance, statistics per image and channel.
   */
  InstanceNorm: {
    infer([x, scale, shift]) {
      expectRank('InstanceNorm', x, 4);
      for (const p of [scale, shift]) {
        if (p.shape.length !== 1 || p.shape[0] !== x.shape[1]) {
          throw new StyleloomError('E_INTERNAL', `InstanceNorm: ${p.name} has shape [${p.shape}], expected [${x.shape[1]}]`);
        }
      }
      return [f32(x.shape)];
    },
    backward(g, node, [gy]) {
      if (!gy) return [null, null, null];
      const [x, scale] = node.inputs;
      const [dx, dscale, dshift] = g.add('InstanceNormGrad', [gy, x, scale], { eps: num(node.attrs, 'eps') }, `${node.outputs[0].name}_d`);
      return [dx, dscale, dshift];
    },
    evaluate([x, scale, shift], a) {
      const eps = num(a, 'eps');
      const [n, c, h, w] = x.shape;
      const hw = h * w;
      const out = new Float64Array(x.data.length);
      for (let p = 0; p < n * c; p++) {
        const ch = p % c;
        const { mu, rstd } = moments(x.data, p * hw, hw, eps);
        for (let k = p * hw; k < (p + 1) * hw; k++) out[k] = scale.data[ch] * (x.data[k] - mu) * rstd + shift.data[ch];
      }
      return [{ data: out, shape: x.shape }];
    },
    onnx(e, node, ins, outs) {
      e.node('InstanceNormalization', ins, { epsilon: num(node.attrs, 'eps') }, outs);
    },
  },

  /**
   * Gradients of InstanceNorm given dy, x, scale: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = scale·dy,
   * dscale = Σ dy·x̂, dshift = Σ dy (sums over batch and pixels).
   */
  InstanceNormGrad: {
    infer([gy, x, scale]) {
      expectSame('InstanceNormGrad', gy, x);
      return [f32(x.shape), f32(scale.shape), f32(scale.shape)];
    },
    evaluate([gy, x, scale], a) {
      const eps = num(a, 'eps');
      const [n, c, h, w] = x.shape;
      const hw = h * w;
      const dx = new Float64Array(x.data.length);
      const dscale = new Float64Array(c);
      const dshift = new Float64Array(c);
      for (let p = 0; p < n * c; p++) {
        const ch = p % c;
        const { mu, rstd } = moments(x.data, p * hw, hw, eps);
        let mg = 0;
        let mgx = 0;
        for (let k = p * hw; k < (p + 1) * hw; k++) {
          const xh = (x.data[k] - mu) * rstd;
          mg += gy.data[k] * scale.data[ch];
          mgx += gy.data[k] * scale.data[ch] * xh;
          dscale[ch] += gy.data[k] * xh;
          dshift[ch] += gy.data[k];
        }
        mg /= hw;
        mgx /= hw;
        for (let k = p * hw; k < (p + 1) * hw; k++) {
          const xh = (x.data[k] - mu) * rstd;
          dx[k] = rstd * (gy.data[k] * scale.data[ch] - mg - xh * mgx);
        }
      }
      return [
        { data: dx, shape: x.shape },
        { data: dscale, shape: [c] },
        { data: dshift, shape: [c] },
      ];
    },
    onnx(e, node, [gy, x, scale], outs) {
      const c = node.inputs[1].shape[1];
      const mean = (t: string) => e.node('ReduceMean', [t], { axes: [2, 3], keepdims: 1 })[0];
      const mu = mean(x);
      const [d] = e.node('Sub', [x, mu]);
      const [d2] = e.node('Mul', [d, d]);
      const [ve] = e.node('Add', [mean(d2), e.float([num(node.attrs, 'eps')])]);
      const [sd] = e.node('Sqrt', [ve]);
      const [rstd] = e.node('Reciprocal', [sd]);
      const [xh] = e.node('Mul', [d, rstd]);
      const [sc] = e.node('Reshape', [scale, e.int64([1, c, 1, 1])]);
      const [gs] = e.node('Mul', [gy, sc]);
      const [gsx] = e.node('Mul', [gs, xh]);
      const [t1] = e.node('Sub', [gs, mean(gs)]);
      const [t2] = e.node('Mul', [xh, mean(gsx)]);
      const [t3] = e.node('Sub', [t1, t2]);
      e.node('Mul', [t3, rstd], {}, [outs[0]]);
      const [gx] = e.node('Mul', [gy, xh]);
      e.node('ReduceSum', [gx, e.int64([0, 2, 3])], { keepdims: 0 }, [outs[1]]);
      e.node('ReduceSum', [gy, e.int64([0, 2, 3])], { keepdims: 0 }, [outs[2]]);
    },
  },

  /** Reflection padding of H and W (edge not repeated, as numpy/PyTorch 'reflect'); `pads` = [top, left, bottom, right], each < its side. */
  ReflectPad: {
    infer([x], a) {
      expectRank('ReflectPad', x, 4);
      const [t, l, b, r] = shapeAttr(a, 'pads');
      if (Math.max(t, b) >= x.shape[2] || Math.max(l, r) >= x.shape[3]) {
        throw new StyleloomError('E_INTERNAL', `ReflectPad: pads [${[t, l, b, r]}] too large for [${x.shape}] (each must be < its side)`);
      }
      return [f32([x.shape[0], x.shape[1], x.shape[2] + t + b, x.shape[3] + l + r])];
    },
    backward(g, node, [gy]) {
      if (!gy) return [null];
      return [g.add1('ReflectPadGrad', [gy], { pads: shapeAttr(node.attrs, 'pads'), outShape: [...node.inputs[0].shape] }, `${node.outputs[0].name}_d`)];
    },
    evaluate([x], a) {
      const [t, l, b, r] = shapeAttr(a, 'pads');
      const [n, c, h, w] = x.shape;
      const oh = h + t + b;
      const ow = w + l + r;
      const out = new Float64Array(n * c * oh * ow);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) out[(p * oh + i) * ow + j] = x.data[(p * h + reflect(i - t, h)) * w + reflect(j - l, w)];
      return [{ data: out, shape: [n, c, oh, ow] }];
    },
    onnx(e, node, ins, outs) {
      const [t, l, b, r] = shapeAttr(node.attrs, 'pads');
      e.node('Pad', [ins[0], e.int64([0, 0, t, l, 0, 0, b, r])], { mode: 'reflect' }, outs);
    },
  },

  /** Adjoint of ReflectPad: each padded cell's gradient is added to the input cell it mirrors. */
  ReflectPadGrad: {
    infer([gy], a) {
      return [f32(shapeAttr(a, 'outShape'))];
    },
    evaluate([gy], a) {
      const [t, l] = shapeAttr(a, 'pads');
      const s = shapeAttr(a, 'outShape');
      const [n, c, h, w] = s;
      const [, , oh, ow] = gy.shape;
      const out = new Float64Array(size(s));
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) out[(p * h + reflect(i - t, h)) * w + reflect(j - l, w)] += gy.data[(p * oh + i) * ow + j];
      return [{ data: out, shape: s }];
    },
    onnx(e, node, [gy], outs) {
      const [t, l, b, r] = shapeAttr(node.attrs, 'pads');
      const [, , h, w] = shapeAttr(node.attrs, 'outShape');
      const byRows = foldReflected(e, gy, 3, w, l, r);
      const folded = foldReflected(e, byRows, 2, h, t, b);
      e.node('Identity', [folded], {}, outs);
    },
  },

  /** Zero padding of H and W; `pads` = [top, left, bottom, right]. Adjoint of Crop. */
  ZeroPad: {
    infer([x], a) {
      expectRank('ZeroPad', x, 4);
      const [t, l, b, r] = shapeAttr(a, 'pads');
      return [f32([x.shape[0], x.shape[1], x.shape[2] + t + b, x.shape[3] + l + r])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('Crop', [gy], { pads: shapeAttr(node.attrs, 'pads') }, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const [t, l, b, r] = shapeAttr(a, 'pads');
      const [n, c, h, w] = x.shape;
      const oh = h + t + b;
      const ow = w + l + r;
      const out = new Float64Array(n * c * oh * ow);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++) out[(p * oh + i + t) * ow + j + l] = x.data[(p * h + i) * w + j];
      return [{ data: out, shape: [n, c, oh, ow] }];
    },
    onnx(e, node, ins, outs) {
      const [t, l, b, r] = shapeAttr(node.attrs, 'pads');
      e.node('Pad', [ins[0], e.int64([0, 0, t, l, 0, 0, b, r])], {}, outs);
    },
  },

  /** Removes `pads` = [top, left, bottom, right] rows/columns from the edges of H and W. Adjoint of ZeroPad. */
  Crop: {
    infer([x], a) {
      expectRank('Crop', x, 4);
      const [t, l, b, r] = shapeAttr(a, 'pads');
      const oh = x.shape[2] - t - b;
      const ow = x.shape[3] - l - r;
      if (oh < 1 || ow < 1) throw new StyleloomError('E_INTERNAL', `Crop: [${[t, l, b, r]}] leaves nothing of [${x.shape}]`);
      return [f32([x.shape[0], x.shape[1], oh, ow])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('ZeroPad', [gy], { pads: shapeAttr(node.attrs, 'pads') }, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const [t, l, b, r] = shapeAttr(a, 'pads');
      const [n, c, h, w] = x.shape;
      const oh = h - t - b;
      const ow = w - l - r;
      const out = new Float64Array(n * c * oh * ow);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++) out[(p * oh + i) * ow + j] = x.data[(p * h + i + t) * w + j + l];
      return [{ data: out, shape: [n, c, oh, ow] }];
    },
    onnx(e, node, ins, outs) {
      const [t, l, b, r] = shapeAttr(node.attrs, 'pads');
      const [, , h, w] = node.inputs[0].shape;
      e.node('Slice', [ins[0], e.int64([t, l]), e.int64([h - b, w - r]), e.int64([2, 3])], {}, outs);
    },
  },

  Tanh: {
    infer([x]) {
      return [f32(x.shape)];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('TanhGrad', [gy, node.outputs[0]], {}, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x]) {
      return [{ data: x.data.map(Math.tanh), shape: x.shape }];
    },
    onnx(e, _n, ins, outs) {
      e.node('Tanh', ins, {}, outs);
    },
  },

  /** dy · (1 − y²) given the Tanh output y. */
  TanhGrad: {
    infer([gy, y]) {
      expectSame('TanhGrad', gy, y);
      return [f32(y.shape)];
    },
    evaluate([gy, y]) {
      return [map2(gy, y, (d, v) => d * (1 - v * v))];
    },
    onnx(e, _n, [gy, y], outs) {
      const [y2] = e.node('Mul', [y, y]);
      const [s] = e.node('Sub', [e.float([1]), y2]);
      e.node('Mul', [gy, s], {}, outs);
    },
  },

  /** x · scale + shift for compile-time constants (e.g. the fast networks' tanh(x)·150 + 127.5). */
  Affine: {
    infer([x]) {
      return [f32(x.shape)];
    },
    backward(g, node, [gy]) {
      return [gy ? g.scale(gy, num(node.attrs, 'scale'), `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const s = num(a, 'scale');
      const t = num(a, 'shift');
      return [{ data: x.data.map((v) => v * s + t), shape: x.shape }];
    },
    onnx(e, node, [x], outs) {
      const [m] = e.node('Mul', [x, e.float([num(node.attrs, 'scale')])]);
      e.node('Add', [m, e.float([num(node.attrs, 'shift')])], {}, outs);
    },
  },

  /** min(max(x, min), max) for constants `min` < `max`. */
  Clip: {
    infer([x], a) {
      if (!(num(a, 'min') < num(a, 'max'))) throw new StyleloomError('E_INTERNAL', `Clip: min ${a.min} must be < max ${a.max}`);
      return [f32(x.shape)];
    },
    backward(g, node, [gy]) {
      const { min, max } = node.attrs;
      return [gy ? g.add1('ClipGrad', [gy, node.inputs[0]], { min, max }, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const lo = num(a, 'min');
      const hi = num(a, 'max');
      return [{ data: x.data.map((v) => Math.min(hi, Math.max(lo, v))), shape: x.shape }];
    },
    onnx(e, node, [x], outs) {
      e.node('Clip', [x, e.float([num(node.attrs, 'min')]), e.float([num(node.attrs, 'max')])], {}, outs);
    },
  },

  /** dy where min < x < max, else 0 (derivative at the bounds taken as 0). */
  ClipGrad: {
    infer([gy, x]) {
      expectSame('ClipGrad', gy, x);
      return [f32(x.shape)];
    },
    evaluate([gy, x], a) {
      const lo = num(a, 'min');
      const hi = num(a, 'max');
      return [map2(gy, x, (d, v) => (v > lo && v < hi ? d : 0))];
    },
    onnx(e, node, [gy, x], outs) {
      const [gt] = e.node('Greater', [x, e.float([num(node.attrs, 'min')])]);
      const [lt] = e.node('Less', [x, e.float([num(node.attrs, 'max')])]);
      const [inside] = e.node('And', [gt, lt]);
      e.node('Where', [inside, gy, e.float([0])], {}, outs);
    },
  },
  /**
   * Rearranges [N, C·b², H, W] into [N, C, H·b, W·b] (ONNX DepthToSpace, DCR order): out[c, h·b + i, w·b + j] =
   * in[(i·b + j)·C + c, h, w]. With a conv in front it is a sub-pixel (pixel-shuffle) upsampling. A permutation.
   */
  DepthToSpace: {
    infer([x], a) {
      expectRank('DepthToSpace', x, 4);
      const b = num(a, 'block');
      if (x.shape[1] % (b * b) !== 0) throw new StyleloomError('E_INTERNAL', `DepthToSpace: ${x.shape[1]} channels not divisible by ${b * b}`);
      return [f32([x.shape[0], x.shape[1] / (b * b), x.shape[2] * b, x.shape[3] * b])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('SpaceToDepth', [gy], { block: num(node.attrs, 'block') }, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const b = num(a, 'block');
      const [n, cb, h, w] = x.shape;
      const c = cb / (b * b);
      const out = new Float64Array(x.data.length);
      for (let p = 0; p < n; p++)
        for (let k = 0; k < cb; k++)
          for (let y = 0; y < h; y++)
            for (let z = 0; z < w; z++) {
              const [ij, ch] = [Math.floor(k / c), k % c];
              const [i, j] = [Math.floor(ij / b), ij % b];
              out[((p * c + ch) * h * b + y * b + i) * w * b + z * b + j] = x.data[((p * cb + k) * h + y) * w + z];
            }
      return [{ data: out, shape: [n, c, h * b, w * b] }];
    },
    onnx(e, node, ins, outs) {
      e.node('DepthToSpace', ins, { blocksize: num(node.attrs, 'block'), mode: 'DCR' }, outs);
    },
  },

  /** The inverse (and adjoint) of DepthToSpace: [N, C, H·b, W·b] -> [N, C·b², H, W] (ONNX SpaceToDepth). */
  SpaceToDepth: {
    infer([x], a) {
      expectRank('SpaceToDepth', x, 4);
      const b = num(a, 'block');
      if (x.shape[2] % b !== 0 || x.shape[3] % b !== 0) throw new StyleloomError('E_INTERNAL', `SpaceToDepth: [${x.shape}] not divisible by ${b}`);
      return [f32([x.shape[0], x.shape[1] * b * b, x.shape[2] / b, x.shape[3] / b])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('DepthToSpace', [gy], { block: num(node.attrs, 'block') }, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x], a) {
      const b = num(a, 'block');
      const [n, c, hb, wb] = x.shape;
      const [h, w] = [hb / b, wb / b];
      const out = new Float64Array(x.data.length);
      for (let p = 0; p < n; p++)
        for (let ch = 0; ch < c; ch++)
          for (let y = 0; y < hb; y++)
            for (let z = 0; z < wb; z++) {
              const k = ((y % b) * b + (z % b)) * c + ch;
              out[((p * c * b * b + k) * h + Math.floor(y / b)) * w + Math.floor(z / b)] = x.data[((p * c + ch) * hb + y) * wb + z];
            }
      return [{ data: out, shape: [n, c * b * b, h, w] }];
    },
    onnx(e, node, ins, outs) {
      e.node('SpaceToDepth', ins, { blocksize: num(node.attrs, 'block') }, outs);
    },
  },

  /** Σ a·b as a scalar; b is a given (constant or input) tensor with no gradient. */
  Dot: {
    infer([a, b]) {
      expectSame('Dot', a, b);
      return [f32([])];
    },
    backward(g, node, [gy]) {
      const [a, b] = node.inputs;
      if (!gy) return [null, null];
      return [g.add1('ScaleBy', [b, gy], {}, `${node.outputs[0].name}_d`), null];
    },
    evaluate([a, b]) {
      let s = 0;
      for (let k = 0; k < a.data.length; k++) s += a.data[k] * b.data[k];
      return [{ data: Float64Array.of(s), shape: [] }];
    },
    onnx(e, _n, [a, b], outs) {
      const [m] = e.node('Mul', [a, b]);
      e.node('ReduceSum', [m], { keepdims: 0 }, outs);
    },
  },

  /** x · s for a runtime scalar s (shape []). */
  ScaleBy: {
    infer([x, s]) {
      if (s.shape.length !== 0) throw new StyleloomError('E_INTERNAL', `ScaleBy: ${s.name} is not a scalar`);
      return [f32(x.shape)];
    },
    evaluate([x, s]) {
      const k = s.data[0];
      return [{ data: x.data.map((v) => v * k), shape: x.shape }];
    },
    onnx(e, _n, ins, outs) {
      e.node('Mul', ins, {}, outs);
    },
  },
};

export function opDef(op: OpName): OpDef {
  return OPS[op] as OpDef;
}

// ---------- helpers of the feed-forward network ops (strided/padded conv, transposed conv, norms, pads) ----------

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

/** Data gradient of a strided or asymmetrically padded Conv: the transposed convolution with the same geometry. */
function convDataGrad(g: Graph, node: Node, gy: Value): Value {
  const [x, w] = node.inputs;
  const s = convStride(node.attrs);
  const [pt, pl, pb, pr] = convPads(node.attrs);
  const outPad = [x.shape[2] - (s * (gy.shape[2] - 1) + w.shape[2] - pt - pb), x.shape[3] - (s * (gy.shape[3] - 1) + w.shape[3] - pl - pr)];
  return g.add1('ConvTranspose', [gy, w], { stride: s, pads: [pt, pl, pb, pr], outPad }, `${node.outputs[0].name}_dx`);
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

/** Mean and 1/sqrt(biased variance + eps) of data[start, start + len). */
function moments(data: Float64Array, start: number, len: number, eps: number): { mu: number; rstd: number } {
  let mu = 0;
  for (let k = start; k < start + len; k++) mu += data[k];
  mu /= len;
  let v = 0;
  for (let k = start; k < start + len; k++) v += (data[k] - mu) ** 2;
  return { mu, rstd: 1 / Math.sqrt(v / len + eps) };
}

/** Index into [0, n) of position i of a reflection-padded axis (edge not repeated). */
function reflect(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/**
 * ONNX for the adjoint of reflection padding along one axis: the centre slice plus the mirrored strips
 * (gathered in reverse order), zero-padded into place. `n` is the unpadded length.
 */
function foldReflected(e: OnnxEmitter, t: string, axis: number, n: number, before: number, after: number): string {
  if (before === 0 && after === 0) return t;
  const pads = (lo: number, hi: number) => {
    const p = [0, 0, 0, 0, 0, 0, 0, 0];
    p[axis] = lo;
    p[4 + axis] = hi;
    return e.int64(p);
  };
  let [acc] = e.node('Slice', [t, e.int64([before]), e.int64([before + n]), e.int64([axis])]);
  if (before > 0) {
    const [strip] = e.node('Gather', [t, e.int64(Array.from({ length: before }, (_, q) => before - 1 - q))], { axis });
    const [placed] = e.node('Pad', [strip, pads(1, n - 1 - before)]);
    [acc] = e.node('Add', [acc, placed]);
  }
  if (after > 0) {
    const [strip] = e.node('Gather', [t, e.int64(Array.from({ length: after }, (_, q) => before + n + after - 1 - q))], { axis });
    const [placed] = e.node('Pad', [strip, pads(n - 1 - after, 1)]);
    [acc] = e.node('Add', [acc, placed]);
  }
  return acc;
}
