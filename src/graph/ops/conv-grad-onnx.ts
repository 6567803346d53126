// ONNX lowerings of a convolution's weight gradient (strided tap slices and matrix products, which onnxruntime
// runs at GEMM speed) and of a stride-1 transposed convolution as a Conv with the weight flipped in the graph.
import type { OnnxEmitter } from './common.js';
import type { Shape } from '../types.js';

/** The geometry a ConvWeightGrad node carries: x [N, C, H, W], dy [N, O, oh, ow]. */
export interface WeightGradGeometry {
  x: Shape;
  gy: Shape;
  stride: number;
  /** [top, left, bottom, right] */
  pads: number[];
  kernel: number[];
}

/**
 * Above this many floats (64 MB) an im2col matrix [C·kH·kW, N·oh·ow] is not built: each tap's product is its own
 * Gemm (the same multiplications, k² times smaller temporaries; on the 192 px training step, where the 32- and
 * 64-channel upsampling layers' matrices are 85-170 MB, as fast as one Gemm).
 */
export const IM2COL_MAX_FLOATS = 2 ** 24;

/**
 * dW[o, c, u, v] = Σ_{n,i,j} dy[n, o, i, j] · x[n, c, s·i + u − top, s·j + v − left], lowered the way onnxruntime
 * runs fastest for its shape (measured on the training step, 2 threads): 3x3 kernels as matrix products (one
 * im2col Gemm, or one Gemm per tap above IM2COL_MAX_FLOATS), larger kernels (the 9x9 first and last layers)
 * as a convolution over the batch whose "images" are the side with fewer channels.
 */
export function emitWeightGrad(e: OnnxEmitter, gy: string, x: string, geo: WeightGradGeometry, out: string): void {
  const [kh, kw] = geo.kernel;
  const [, c] = geo.x;
  const o = geo.gy[1];
  if (kh * kw <= 9) emitWeightGradGemm(e, gy, x, geo, out);
  else if (o < c && geo.stride === 1) emitWeightGradConvOverDy(e, gy, x, geo, out);
  else emitWeightGradConvOverX(e, gy, x, geo, out);
}

/** Bottom/right padding of x as far as the last tap reaches (negative: rows/cols no tap reads). */
function reach(geo: WeightGradGeometry): [number, number] {
  const [, , h, w] = geo.x;
  const [, , oh, ow] = geo.gy;
  const [kh, kw] = geo.kernel;
  const [pt, pl] = geo.pads;
  return [kh + geo.stride * (oh - 1) - h - pt, kw + geo.stride * (ow - 1) - w - pl];
}

/**
 * x as [C, N, H, W], zero-padded top/left by the conv's pads and bottom/right as far as `reach` (never cropped).
 * Padded before the transpose: onnxruntime's Pad fusion would fold a Pad that feeds a Conv's weight into the
 * Conv's own pads (which pad its input) and drop it, leaving the model invalid.
 */
function paddedXt(e: OnnxEmitter, x: string, geo: WeightGradGeometry): string {
  const [pt, pl] = geo.pads;
  const [eb, er] = reach(geo).map((r) => Math.max(r, 0));
  const xp = pt || pl || eb || er ? e.node('Pad', [x, e.int64([0, 0, pt, pl, 0, 0, eb, er])], { mode: 'constant' })[0] : x;
  return e.node('Transpose', [xp], { perm: [1, 0, 2, 3] })[0];
}

/** dW[:, :, u, v] = dyₘ · X_uvₘᵀ with m = (n, i, j): dy as [O, N·oh·ow], each tap's strided slice of the padded x as [C, N·oh·ow]. */
function emitWeightGradGemm(e: OnnxEmitter, gy: string, x: string, geo: WeightGradGeometry, out: string): void {
  const [n, c] = geo.x;
  const [, o, oh, ow] = geo.gy;
  const [kh, kw] = geo.kernel;
  const s = geo.stride;
  const xt = paddedXt(e, x, geo);
  const m = n * oh * ow;
  const [gyT] = e.node('Transpose', [gy], { perm: [1, 0, 2, 3] });
  const [dy2] = e.node('Reshape', [gyT, e.int64([o, m])]);
  const tap = (u: number, v: number) =>
    e.node('Slice', [xt, e.int64([u, v]), e.int64([u + s * (oh - 1) + 1, v + s * (ow - 1) + 1]), e.int64([2, 3]), e.int64([s, s])])[0];
  const taps: [number, number][] = [];
  for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) taps.push([u, v]);
  if (c * kh * kw * m <= (e.lowering.im2colMaxFloats ?? IM2COL_MAX_FLOATS)) {
    // [C, N, oh, ow] per tap -> [C, k², N, oh, ow] -> [C·k², N·oh·ow]
    const stacked = taps.map(([u, v]) => e.node('Unsqueeze', [tap(u, v), e.int64([1])])[0]);
    const [cols] = e.node('Concat', stacked, { axis: 1 });
    const [cols2] = e.node('Reshape', [cols, e.int64([c * kh * kw, m])]);
    const [g] = e.node('Gemm', [dy2, cols2], { transB: 1 });
    e.node('Reshape', [g, e.int64([o, c, kh, kw])], {}, [out]);
    return;
  }
  const parts = taps.map(([u, v]) => {
    const [xs] = e.node('Reshape', [tap(u, v), e.int64([c, m])]);
    const [g] = e.node('Gemm', [dy2, xs], { transB: 1 });
    return e.node('Unsqueeze', [g, e.int64([2])])[0];
  });
  const [stack] = e.node('Concat', parts, { axis: 2 });
  e.node('Reshape', [stack, e.int64([o, c, kh, kw])], {}, [out]);
}

/**
 * A convolution over the batch: x as C images [C, N, H, W], dy as O kernels [O, N, oh, ow] dilated by the stride;
 * its output [C, O, kH, kW] transposed. onnxruntime builds one im2col per image, so this suits C ≤ O.
 */
function emitWeightGradConvOverX(e: OnnxEmitter, gy: string, x: string, geo: WeightGradGeometry, out: string): void {
  const [kh, kw] = geo.kernel;
  const [, , oh, ow] = geo.gy;
  const s = geo.stride;
  const [eb, er] = reach(geo);
  const [gt] = e.node('Transpose', [gy], { perm: [1, 0, 2, 3] });
  const [conv] = e.node('Conv', [paddedXt(e, x, geo), gt], { kernel_shape: [oh, ow], dilations: [s, s], strides: [1, 1] });
  const exact = eb >= 0 && er >= 0;
  const [t] = e.node('Transpose', [conv], { perm: [1, 0, 2, 3] }, exact ? [out] : 1);
  if (!exact) e.node('Slice', [t, e.int64([0, 0]), e.int64([kh, kw]), e.int64([2, 3])], {}, [out]);
}

/**
 * Stride 1, O < C: dy as O images [O, N, oh, ow] zero-padded by k − 1 all round, the padded x (its oh + kH − 1
 * rows) as C kernels; R[o, c, t] = Σ dyP[a + t]·xP[a] = dW[o, c, k − 1 − t], so the
 * output is flipped in both spatial axes.
 */
function emitWeightGradConvOverDy(e: OnnxEmitter, gy: string, x: string, geo: WeightGradGeometry, out: string): void {
  const [kh, kw] = geo.kernel;
  const [, , oh, ow] = geo.gy;
  const xk = paddedXt(e, x, geo); // at stride 1 the taps reach exactly the padded x: oh + kH − 1 rows
  const [gt] = e.node('Transpose', [gy], { perm: [1, 0, 2, 3] });
  const [gp] = e.node('Pad', [gt, e.int64([0, 0, kh - 1, kw - 1, 0, 0, kh - 1, kw - 1])], { mode: 'constant' });
  const [r] = e.node('Conv', [gp, xk], { kernel_shape: [oh + kh - 1, ow + kw - 1], strides: [1, 1] });
  e.node('Slice', [r, e.int64([-1, -1]), e.int64([-(kh + 1), -(kw + 1)]), e.int64([2, 3]), e.int64([-1, -1])], {}, [out]);
}

/**
 * A stride-1 ConvTranspose (weight [C_in, C_out, kH, kW], crop `pads`) as the Conv it equals: weight transposed to
 * [C_out, C_in] and flipped in both spatial axes (in the graph: the weight may be a computed value), padded k − 1 − pad
 * per side. onnxruntime's Conv runs in its blocked layout, its ConvTranspose as a Gemm and a slow col2im.
 * Returns false (nothing emitted) where a crop exceeds k − 1.
 */
export function emitStride1ConvTransposeAsConv(e: OnnxEmitter, x: string, w: string, wShape: Shape, pads: number[], out: string): boolean {
  const [, , kh, kw] = wShape;
  const full = [kh - 1 - pads[0], kw - 1 - pads[1], kh - 1 - pads[2], kw - 1 - pads[3]];
  if (full.some((p) => p < 0)) return false;
  const [wt] = e.node('Transpose', [w], { perm: [1, 0, 2, 3] });
  const [flip] = e.node('Slice', [wt, e.int64([-1, -1]), e.int64([-(kh + 1), -(kw + 1)]), e.int64([2, 3]), e.int64([-1, -1])]);
  e.node('Conv', [x, flip], { kernel_shape: [kh, kw], pads: full, strides: [1, 1] }, [out]);
  return true;
}
