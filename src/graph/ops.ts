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
  node(opType: string, inputs: string[], attrs?: Record<string, number | number[]>, outputs?: string[] | number): string[];
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

function conv2d(x: Arr, w: Arr, b: Arr | undefined, pad: number): Arr {
  const [n, ci, h, wd] = x.shape;
  const [co, ci2, kh, kw] = w.shape;
  if (ci !== ci2) throw new StyleloomError('E_INTERNAL', `conv: ${ci} input channels, weight has ${ci2}`);
  const oh = h + 2 * pad - kh + 1;
  const ow = wd + 2 * pad - kw + 1;
  const out = new Float64Array(n * co * oh * ow);
  for (let b0 = 0; b0 < n; b0++)
    for (let o = 0; o < co; o++) {
      const base = (b0 * co + o) * oh * ow;
      const bias = b ? b.data[o] : 0;
      for (let k = 0; k < oh * ow; k++) out[base + k] = bias;
      for (let c = 0; c < ci; c++)
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const wv = w.data[((o * ci + c) * kh + u) * kw + v];
            for (let i = 0; i < oh; i++) {
              const yi = i + u - pad;
              if (yi < 0 || yi >= h) continue;
              const xrow = ((b0 * ci + c) * h + yi) * wd;
              for (let j = 0; j < ow; j++) {
                const xj = j + v - pad;
                if (xj >= 0 && xj < wd) out[base + i * ow + j] += wv * x.data[xrow + xj];
              }
            }
          }
    }
  return { data: out, shape: [n, co, oh, ow] };
}

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
  | 'Conv' | 'Relu' | 'ReluGrad' | 'MaxPool2' | 'MaxUnpool2' | 'AvgPool2' | 'AvgPool2Grad'
  | 'Gram' | 'GramGrad' | 'Mse' | 'MseGrad' | 'Tv' | 'TvGrad' | 'Scale' | 'Add';

export const OPS: Record<OpName, OpDef> = {
  /** 2-D convolution, stride 1, symmetric zero padding `pad`; weight (and bias) must be constants to get a data gradient. */
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
      const p = num(a, 'pad');
      return [f32([x.shape[0], w.shape[0], x.shape[2] + 2 * p - w.shape[2] + 1, x.shape[3] + 2 * p - w.shape[3] + 1])];
    },
    backward(g, node, [gy]) {
      const [, w] = node.inputs;
      const data = g.constants.get(w.id);
      if (!gy) return [null, null, null];
      if (!data) throw new StyleloomError('E_INTERNAL', `Conv backward: weight ${w.name} is not a constant`);
      const wt = g.constant(`${w.name}_flipT`, flipTransposeWeight(data, w.shape), [w.shape[1], w.shape[0], w.shape[2], w.shape[3]]);
      const pad = w.shape[2] - 1 - num(node.attrs, 'pad');
      return [g.conv(gy, wt, null, pad, `${node.outputs[0].name}_dx`), null, null];
    },
    evaluate([x, w, b], a) {
      return [conv2d(x, w, b, num(a, 'pad'))];
    },
    onnx(e, node, ins, outs) {
      const [, w] = node.inputs;
      const p = num(node.attrs, 'pad');
      e.node('Conv', ins, { kernel_shape: [w.shape[2], w.shape[3]], pads: [p, p, p, p], strides: [1, 1] }, outs);
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
      const [mask] = e.node('Greater', [y, e.float([0])]);
      e.node('Where', [mask, gy, e.float([0])], {}, outs);
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
};

export function opDef(op: OpName): OpDef {
  return OPS[op] as OpDef;
}
