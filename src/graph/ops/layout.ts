// Layout ops: reflection and zero padding, cropping, depth-to-space and space-to-depth, nearest 2x upsampling,
// each differentiated by its adjoint (ReflectPadGrad folds the mirrored border back; Upsample2's is 4·AvgPool2).
import { StyleloomError } from '../../errors.js';
import { f32, num, shapeAttr, expectRank, size, upsample2, type Arr, type OnnxEmitter, type OpDef } from './common.js';
import type { Attrs, LayoutOpName } from '../types.js';

/** The padded output of x (NCHW) with pads [top, left, bottom, right], zero-filled, and its sizes. */
function padded(x: Arr, a: Attrs) {
  const [t, l, b, r] = shapeAttr(a, 'pads');
  const [n, c, h, w] = x.shape;
  const oh = h + t + b;
  const ow = w + l + r;
  return { t, l, n, c, h, w, oh, ow, out: new Float64Array(n * c * oh * ow) };
}

export const LAYOUT_OPS = {
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
      const { t, l, n, c, h, w, oh, ow, out } = padded(x, a);
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
      const { t, l, n, c, h, w, oh, ow, out } = padded(x, a);
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

  /**
   * Nearest-neighbour 2x upsampling, [N, C, H, W] -> [N, C, 2H, 2W] (each value over a 2x2 block; with a conv
   * after it, the resize-convolution that avoids the checkerboard of transposed convs). Adjoint: 2x2 block sums.
   */
  Upsample2: {
    infer([x]) {
      expectRank('Upsample2', x, 4);
      return [f32([x.shape[0], x.shape[1], 2 * x.shape[2], 2 * x.shape[3]])];
    },
    backward(g, node, [gy]) {
      return [gy ? g.scale(g.add1('AvgPool2', [gy], {}, `${node.outputs[0].name}_dpool`), 4, `${node.outputs[0].name}_d`) : null];
    },
    evaluate([x]) {
      const [n, c, h, w] = x.shape;
      const out = new Float64Array(4 * x.data.length);
      for (let p = 0; p < n * c; p++)
        for (let i = 0; i < 2 * h; i++)
          for (let j = 0; j < 2 * w; j++) out[(p * 2 * h + i) * 2 * w + j] = x.data[(p * h + (i >> 1)) * w + (j >> 1)];
      return [{ data: out, shape: [n, c, 2 * h, 2 * w] }];
    },
    onnx(e, node, [x], outs) {
      upsample2(e, x, [...node.inputs[0].shape], outs);
    },
  },
} satisfies Record<LayoutOpName, OpDef>;

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
