// Normalisation: InstanceNorm (learned per-channel scale and shift) and InstanceNormGrad, which gives the
// gradients for the data, the scale and the shift at once.
import { StyleloomError } from '../../errors.js';
import { f32, num, expectRank, expectSame, type OpDef } from './common.js';
import type { NormOpName } from '../types.js';

export const NORM_OPS = {
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
} satisfies Record<NormOpName, OpDef>;

/** Mean and 1/sqrt(biased variance + eps) of data[start, start + len). */
function moments(data: Float64Array, start: number, len: number, eps: number): { mu: number; rstd: number } {
  let mu = 0;
  for (let k = start; k < start + len; k++) mu += data[k];
  mu /= len;
  let v = 0;
  for (let k = start; k < start + len; k++) v += (data[k] - mu) ** 2;
  return { mu, rstd: 1 / Math.sqrt(v / len + eps) };
}
