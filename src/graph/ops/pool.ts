// 2x2 pooling: MaxPool2 with MaxUnpool2 (its gradient, scattering to the recorded argmax, or the argmax
// mask where the backend's MaxPool has no indices) and AvgPool2 with AvgPool2Grad.
import { StyleloomError } from '../../errors.js';
import { f32, shapeAttr, expectRank, expectSame, size, upsample2, type OpDef } from './common.js';
import type { PoolOpName } from '../types.js';

export const POOL_OPS = {
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
      e.node('MaxPool', ins, { kernel_shape: [2, 2], strides: [2, 2] }, e.lowering.maxPoolIndices === false ? outs.slice(0, 1) : outs);
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
      const outShape = shapeAttr(node.attrs, 'outShape');
      if (e.lowering.maxPoolIndices !== false) {
        e.node('MaxUnpool', [gy, idx, e.int64(outShape)], { kernel_shape: [2, 2], strides: [2, 2] }, outs);
        return;
      }
      // dy where x is its window's maximum: [x == upsampled y] * upsampled dy, on the pooled rows and columns
      const pool = e.producer(idx);
      if (!pool || pool.op !== 'MaxPool2') throw new StyleloomError('E_INTERNAL', `MaxUnpool2: ${idx} does not come from a MaxPool2`);
      const [n, c, h, w] = outShape;
      const [, , oh, ow] = node.inputs[0].shape;
      const even = h === 2 * oh && w === 2 * ow;
      const x = even ? pool.inputs[0].name : e.node('Slice', [pool.inputs[0].name, e.int64([0, 0]), e.int64([2 * oh, 2 * ow]), e.int64([2, 3])])[0];
      const [hit] = e.node('Equal', [x, upsample2(e, pool.outputs[0].name, [n, c, oh, ow])]);
      const [mask] = e.node('Cast', [hit], { to: 1 });
      const [g] = e.node('Mul', [upsample2(e, gy, [n, c, oh, ow]), mask], {}, even ? outs : 1);
      if (!even) e.node('Pad', [g, e.int64([0, 0, 0, 0, 0, 0, h - 2 * oh, w - 2 * ow])], {}, outs);
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
      if (h === 2 * oh && w === 2 * ow) {
        upsample2(e, q, [n, c, oh, ow], outs);
      } else {
        const y = upsample2(e, q, [n, c, oh, ow]);
        e.node('Pad', [y, e.int64([0, 0, 0, 0, 0, 0, h - 2 * oh, w - 2 * ow])], {}, outs);
      }
    },
  },
} satisfies Record<PoolOpName, OpDef>;
