// Reductions the loss terms are made of: Gram matrix (plain, and guided by a spatial mask), mean squared
// error (plain, and weighted per pixel: the video's temporal term), total variation and the dot product with
// a given tensor, each next to its gradient op (ScaleBy is Dot's).
import { StyleloomError } from '../../errors.js';
import { f32, num, expectRank, expectSame, size, map2, type Arr, type OnnxEmitter, type OpDef } from './common.js';
import type { LossOpName } from '../types.js';

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

/** F (1 x C x H x W) times the mask m (1 x 1 x H x W) at every channel, flattened C x (H·W). */
function masked(f: Arr, m: Arr, c: number, hw: number): Float64Array {
  const out = new Float64Array(c * hw);
  for (let i = 0; i < c; i++) for (let k = 0; k < hw; k++) out[i * hw + k] = f.data[i * hw + k] * m.data[k];
  return out;
}

/** mean((a - b)²) over all elements, as a scalar tensor. */
function meanSquaredDifference(a: ArrayLike<number>, b: ArrayLike<number>) {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
  return { data: Float64Array.of(s / a.length), shape: [] as number[] };
}

/** The same in ONNX: ReduceMean((a - b)²). */
function meanSquaredDifferenceOnnx(e: OnnxEmitter, a: string, b: string, outs: string[]): void {
  const [d] = e.node('Sub', [a, b]);
  const [q] = e.node('Mul', [d, d]);
  e.node('ReduceMean', [q], { keepdims: 0 }, outs);
}

export const LOSS_OPS = {
  /**
   * G = M Mᵀ / (C·H·W) with M = F reshaped C × (H·W): [C, C] for one image; for a batch of N > 1 one Gram per
   * image, [N, C, C] (training: each crop against the style's Grams).
   */
  Gram: {
    infer([f]) {
      expectRank('Gram', f, 4);
      const [n, c] = f.shape;
      return [f32(n === 1 ? [c, c] : [n, c, c])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.add1('GramGrad', [gy, node.inputs[0]], {}, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([f]) {
      const [nb, c, h, w] = f.shape;
      const hw = h * w;
      const n = c * hw;
      const out = new Float64Array(nb * c * c);
      for (let b = 0; b < nb; b++) {
        const fo = b * c * hw;
        const go = b * c * c;
        for (let a = 0; a < c; a++)
          for (let k2 = a; k2 < c; k2++) {
            let s = 0;
            for (let k = 0; k < hw; k++) s += f.data[fo + a * hw + k] * f.data[fo + k2 * hw + k];
            out[go + a * c + k2] = out[go + k2 * c + a] = s / n;
          }
      }
      return [{ data: out, shape: nb === 1 ? [c, c] : [nb, c, c] }];
    },
    onnx(e, node, [f], outs) {
      const [nb, c, h, w] = node.inputs[0].shape;
      if (nb === 1) {
        const [m] = e.node('Reshape', [f, e.int64([c, h * w])]);
        e.node('Gemm', [m, m], { alpha: 1 / (c * h * w), transB: 1 }, outs);
        return;
      }
      const [m] = e.node('Reshape', [f, e.int64([nb, c, h * w])]);
      const [mt] = e.node('Transpose', [m], { perm: [0, 2, 1] });
      const [p] = e.node('MatMul', [m, mt]);
      e.node('Mul', [p, e.float([1 / (c * h * w)])], {}, outs);
    },
  },

  /** dF = (dG + dGᵀ) M / N per image, reshaped to F's shape. */
  GramGrad: {
    infer([gy, f]) {
      return [f32(f.shape)];
    },
    evaluate([gy, f]) {
      const [nb, c, h, w] = f.shape;
      const hw = h * w;
      const n = c * hw;
      const out = new Float64Array(nb * c * hw);
      for (let bi = 0; bi < nb; bi++) {
        const fo = bi * c * hw;
        const go = bi * c * c;
        for (let a = 0; a < c; a++)
          for (let b = 0; b < c; b++) {
            const s = (gy.data[go + a * c + b] + gy.data[go + b * c + a]) / n;
            if (s === 0) continue;
            for (let k = 0; k < hw; k++) out[fo + a * hw + k] += s * f.data[fo + b * hw + k];
          }
      }
      return [{ data: out, shape: f.shape }];
    },
    onnx(e, node, [gy, f], outs) {
      const [nb, c, h, w] = node.inputs[1].shape;
      if (nb === 1) {
        const [t] = e.node('Transpose', [gy], { perm: [1, 0] });
        const [s] = e.node('Add', [gy, t]);
        const [m] = e.node('Reshape', [f, e.int64([c, h * w])]);
        const [d] = e.node('Gemm', [s, m], { alpha: 1 / (c * h * w) });
        e.node('Reshape', [d, e.int64([...node.inputs[1].shape])], {}, outs);
        return;
      }
      const [t] = e.node('Transpose', [gy], { perm: [0, 2, 1] });
      const [s] = e.node('Add', [gy, t]);
      const [m] = e.node('Reshape', [f, e.int64([nb, c, h * w])]);
      const [d] = e.node('MatMul', [s, m]);
      const [ds] = e.node('Mul', [d, e.float([1 / (c * h * w)])]);
      e.node('Reshape', [ds, e.int64([...node.inputs[1].shape])], {}, outs);
    },
  },

  /**
   * Guided Gram (Gatys et al. 2017): G = (F∘m)(F∘m)ᵀ / n with the mask m (1 x 1 x H x W, given: no
   * gradient) broadcast over the channels and n a constant attribute (the builder's normalisation:
   * C·Σm² for a region's Gram, 1 for the unnormalised sums of a tile).
   */
  GuidedGram: {
    infer([f, m], a) {
      expectRank('GuidedGram', f, 4);
      if (f.shape[0] !== 1) throw new StyleloomError('E_INTERNAL', 'GuidedGram: batch size must be 1');
      if (m.shape.length !== 4 || m.shape[0] !== 1 || m.shape[1] !== 1 || m.shape[2] !== f.shape[2] || m.shape[3] !== f.shape[3]) {
        throw new StyleloomError('E_INTERNAL', `GuidedGram: mask [${m.shape}] does not fit features [${f.shape}]`);
      }
      if (!(num(a, 'n') > 0)) throw new StyleloomError('E_INTERNAL', `GuidedGram: normalisation n must be > 0, got ${a.n}`);
      return [f32([f.shape[1], f.shape[1]])];
    },
    backward(g, node, [gy]) {
      const [f, m] = node.inputs;
      return [gy ? g.add1('GuidedGramGrad', [gy, f, m], { n: node.attrs.n }, `${node.outputs[0].name}_d`) : null, null];
    },
    evaluate([f, m], a) {
      const [, c, h, w] = f.shape;
      const hw = h * w;
      const fm = masked(f, m, c, hw);
      const n = num(a, 'n');
      const out = new Float64Array(c * c);
      for (let i = 0; i < c; i++)
        for (let j = i; j < c; j++) {
          let s = 0;
          for (let k = 0; k < hw; k++) s += fm[i * hw + k] * fm[j * hw + k];
          out[i * c + j] = out[j * c + i] = s / n;
        }
      return [{ data: out, shape: [c, c] }];
    },
    onnx(e, node, [f, m], outs) {
      const [, c, h, w] = node.inputs[0].shape;
      const [fm] = e.node('Mul', [f, m]);
      const [r] = e.node('Reshape', [fm, e.int64([c, h * w])]);
      e.node('Gemm', [r, r], { alpha: 1 / num(node.attrs, 'n'), transB: 1 }, outs);
    },
  },

  /** dF = m ∘ ((dG + dGᵀ)(F∘m) / n), reshaped to F's shape. */
  GuidedGramGrad: {
    infer([, f]) {
      return [f32(f.shape)];
    },
    evaluate([gy, f, m], a) {
      const [, c, h, w] = f.shape;
      const hw = h * w;
      const fm = masked(f, m, c, hw);
      const n = num(a, 'n');
      const out = new Float64Array(c * hw);
      for (let i = 0; i < c; i++)
        for (let j = 0; j < c; j++) {
          const s = (gy.data[i * c + j] + gy.data[j * c + i]) / n;
          if (s === 0) continue;
          for (let k = 0; k < hw; k++) out[i * hw + k] += s * fm[j * hw + k];
        }
      for (let i = 0; i < c; i++) for (let k = 0; k < hw; k++) out[i * hw + k] *= m.data[k];
      return [{ data: out, shape: f.shape }];
    },
    onnx(e, node, [gy, f, m], outs) {
      const [, c, h, w] = node.inputs[1].shape;
      const [t] = e.node('Transpose', [gy], { perm: [1, 0] });
      const [s] = e.node('Add', [gy, t]);
      const [fm] = e.node('Mul', [f, m]);
      const [r] = e.node('Reshape', [fm, e.int64([c, h * w])]);
      const [d] = e.node('Gemm', [s, r], { alpha: 1 / num(node.attrs, 'n') });
      const [d4] = e.node('Reshape', [d, e.int64([...node.inputs[1].shape])]);
      e.node('Mul', [d4, m], {}, outs);
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
    evaluate: ([a, t]) => [meanSquaredDifference(a.data, t.data)],
    onnx: (e, _n, [a, t], outs) => meanSquaredDifferenceOnnx(e, a, t, outs),
  },

  /** mean((a - b)²) as a scalar, differentiated with respect to both inputs (e.g. two branches of one network). */
  SqDiff: {
    infer([a, b]) {
      expectSame('SqDiff', a, b);
      return [f32([])];
    },
    backward(g, node, [gy]) {
      if (!gy) return [null, null];
      const [a, b] = node.inputs;
      const base = node.outputs[0].name;
      return [g.add1('MseGrad', [a, b, gy], {}, `${base}_da`), g.add1('MseGrad', [b, a, gy], {}, `${base}_db`)];
    },
    evaluate: ([a, b]) => [meanSquaredDifference(a.data, b.data)],
    onnx: (e, _n, [a, b], outs) => meanSquaredDifferenceOnnx(e, a, b, outs),
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

  /**
   * mean(c ∘ (a − t)²) over all of a's elements, with the per-pixel weight c (N x 1 x H x W or 1 x 1 x H x W,
   * broadcast over channels; e.g. the consistency mask of a video frame) and the target t given: no gradient.
   */
  WeightedMse: {
    infer([a, t, c]) {
      expectSame('WeightedMse', a, t);
      expectRank('WeightedMse', a, 4);
      if (c.shape.length !== 4 || c.shape[1] !== 1 || (c.shape[0] !== 1 && c.shape[0] !== a.shape[0]) || c.shape[2] !== a.shape[2] || c.shape[3] !== a.shape[3]) {
        throw new StyleloomError('E_INTERNAL', `WeightedMse: weight [${c.shape}] does not fit [${a.shape}]`);
      }
      return [f32([])];
    },
    backward(g, node, [gy]) {
      const [a, t, c] = node.inputs;
      return [gy ? g.add1('WeightedMseGrad', [a, t, c, gy], {}, `${node.outputs[0].name}_d`) : null, null, null];
    },
    evaluate([a, t, c]) {
      const [n, ch, h, w] = a.shape;
      const hw = h * w;
      let s = 0;
      for (let k = 0; k < a.data.length; k++) {
        const b = Math.floor(k / (ch * hw));
        s += c.data[(c.shape[0] === 1 ? 0 : b) * hw + (k % hw)] * (a.data[k] - t.data[k]) ** 2;
      }
      return [{ data: Float64Array.of(s / (n * ch * hw)), shape: [] }];
    },
    onnx(e, _n, [a, t, c], outs) {
      const [d] = e.node('Sub', [a, t]);
      const [q] = e.node('Mul', [d, d]);
      const [m] = e.node('Mul', [q, c]);
      e.node('ReduceMean', [m], { keepdims: 0 }, outs);
    },
  },

  /** gy · 2 c ∘ (a − t) / numel. */
  WeightedMseGrad: {
    infer([a]) {
      return [f32(a.shape)];
    },
    evaluate([a, t, c, gy]) {
      const [, ch, h, w] = a.shape;
      const hw = h * w;
      const k0 = (2 * gy.data[0]) / a.data.length;
      const out = new Float64Array(a.data.length);
      for (let k = 0; k < out.length; k++) {
        const b = Math.floor(k / (ch * hw));
        out[k] = k0 * c.data[(c.shape[0] === 1 ? 0 : b) * hw + (k % hw)] * (a.data[k] - t.data[k]);
      }
      return [{ data: out, shape: a.shape }];
    },
    onnx(e, node, [a, t, c, gy], outs) {
      const [d] = e.node('Sub', [a, t]);
      const [dc] = e.node('Mul', [d, c]);
      const [k] = e.node('Mul', [gy, e.float([2 / size(node.inputs[0].shape)])]);
      e.node('Mul', [dc, k], {}, outs);
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

  /** x · s for a runtime scalar s (shape []); Dot's gradient b · dy. */
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
} satisfies Record<LossOpName, OpDef>;
