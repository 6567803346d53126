// Elementwise ops (shape in = shape out): Relu, Tanh, Clip with their gradient ops, and Scale, Affine,
// Add, whose gradients are expressed with existing ops.
import { StyleloomError } from '../../errors.js';
import { f32, num, expectSame, map2, type OpDef } from './common.js';
import type { ElementwiseOpName } from '../types.js';

export const ELEMENTWISE_OPS = {
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

  /** tanh(x); its gradient is computed from the output y. */
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
} satisfies Record<ElementwiseOpName, OpDef>;
