// Winograd F(2x2, 3x3) and F(4x4, 3x3) lowering of a 3x3 stride-1 Conv with a constant weight (Lavin & Gray
// 2015): each m x m output tile from an (m+2)² input tile with (m+2)² instead of 9m² multiplications per channel pair, as ONNX ops.
import type { OnnxEmitter } from './common.js';
import type { Node } from '../types.js';

// Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A for an (m+2)x(m+2) input tile d, a 3x3 filter g and an m x m output tile
const F2 = {
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};
const F4 = {
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};
export type WinogradTile = 2 | 4;
const F = { 2: F2, 4: F4 } as const;

/** Whether `node` (a Conv) can be lowered here: 3x3, stride 1, batch 1, constant weight, outputs of at least a tile. */
export function winogradApplies(e: OnnxEmitter, node: Node, pads: number[], stride: number): boolean {
  const [x, w] = node.inputs;
  const wg = e.lowering.winograd;
  if (!wg || stride !== 1 || w.shape[2] !== 3 || w.shape[3] !== 3 || x.shape[0] !== 1) return false;
  if (x.shape[1] < wg.minChannels || !e.constantData(w.name)) return false;
  const [, , oh, ow] = node.outputs[0].shape;
  return oh >= wg.tile && ow >= wg.tile && pads.every((p) => p >= 0 && p <= 2);
}

/** U[ξν, k, c] = (G g_kc G^T)[ξ][ν]: the transformed weight, [(m+2)², K, C], computed in float64. */
export function winogradWeight(w: Float32Array, k: number, c: number, m: WinogradTile): Float32Array {
  const { G } = F[m];
  const t = m + 2;
  const u = new Float32Array(t * t * k * c);
  for (let o = 0; o < k; o++)
    for (let i = 0; i < c; i++) {
      const g = (r: number, s: number) => w[((o * c + i) * 3 + r) * 3 + s];
      for (let xi = 0; xi < t; xi++)
        for (let nu = 0; nu < t; nu++) {
          let v = 0;
          for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) v += G[xi][r] * g(r, s) * G[nu][s];
          u[((xi * t + nu) * k + o) * c + i] = v;
        }
    }
  return u;
}

/**
 * The input transform as one [t², t²] matrix (t = m + 2) over a tile's pixels in the order the gather below
 * produces them: row ξν, column ((α, β), (a', b')) for the pixel (2α + a', 2β + b') of the tile.
 */
function inputTransform(m: WinogradTile): number[] {
  const { BT } = F[m];
  const t = m + 2;
  const r = t / 2;
  const out = new Array<number>(t ** 4).fill(0);
  for (let xi = 0; xi < t; xi++)
    for (let nu = 0; nu < t; nu++)
      for (let al = 0; al < r; al++)
        for (let be = 0; be < r; be++)
          for (let a1 = 0; a1 < 2; a1++)
            for (let b1 = 0; b1 < 2; b1++) {
              const col = (al * r + be) * 4 + a1 * 2 + b1;
              out[(xi * t + nu) * t * t + col] = BT[xi][2 * al + a1] * BT[nu][2 * be + b1];
            }
  return out;
}

/** The input transform as grouped-Conv kernels [C·t², 1, t, t]: output channel c·t² + ξν has kernel B^T[ξ][i]·B^T[ν][j]. */
function inputKernels(m: WinogradTile, c: number): Float32Array {
  const { BT } = F[m];
  const t = m + 2;
  const one = new Float32Array(t ** 4);
  for (let xi = 0; xi < t; xi++) for (let nu = 0; nu < t; nu++) for (let i = 0; i < t; i++) for (let j = 0; j < t; j++) one[((xi * t + nu) * t + i) * t + j] = BT[xi][i] * BT[nu][j];
  const out = new Float32Array(c * one.length);
  for (let k = 0; k < c; k++) out.set(one, k * one.length);
  return out;
}

/** The output transform as grouped-ConvTranspose kernels [K·t², 1, m, m]: input channel k·t² + ξν spreads A^T[u][ξ]·A^T[v][ν]. */
function outputKernels(m: WinogradTile, k: number): Float32Array {
  const { AT } = F[m];
  const t = m + 2;
  const one = new Float32Array(t * t * m * m);
  for (let xi = 0; xi < t; xi++) for (let nu = 0; nu < t; nu++) for (let u = 0; u < m; u++) for (let v = 0; v < m; v++) one[((xi * t + nu) * m + u) * m + v] = AT[u][xi] * AT[v][nu];
  const out = new Float32Array(k * one.length);
  for (let q = 0; q < k; q++) out.set(one, q * one.length);
  return out;
}

/** The output transform as one [m², t²] matrix: row (u, v) of the output tile, column ξν. */
function outputTransform(m: WinogradTile): number[] {
  const { AT } = F[m];
  const t = m + 2;
  const out = new Array<number>(m * m * t * t).fill(0);
  for (let u = 0; u < m; u++) for (let v = 0; v < m; v++) for (let xi = 0; xi < t; xi++) for (let nu = 0; nu < t; nu++) out[(u * m + v) * t * t + xi * t + nu] = AT[u][xi] * AT[v][nu];
  return out;
}

/**
 * Emits Conv(x, w, b) with `pads` [top, left, bottom, right] as: the overlapping tiles gathered and
 * transformed (gather 'slices': zero pad to whole tiles, SpaceToDepth, strided slices, one MatMul; 'conv':
 * one grouped Conv of stride m whose t x t kernels are the transform, then a Transpose), the channel products
 * (one batched MatMul with the precomputed weight), then the output transform and the interleave of the tiles
 * (scatter 'matmul': one MatMul and a Transpose; 'convT': a Transpose and one grouped ConvTranspose of
 * stride m). On onnxruntime-web's WebAssembly the Conv / ConvTranspose forms measure fastest (strided
 * Slice is slow there: a fifth of the kernel time in a profile of the slice form; bench/winograd.mjs).
 */
export function emitWinogradConv(e: OnnxEmitter, node: Node, ins: string[], outs: string[], pads: number[]): void {
  const m = e.lowering.winograd!.tile;
  const t = m + 2;
  const r = t / 2; // 2x2 blocks per tile side
  const [x, w] = node.inputs;
  const [, c, h, wd] = x.shape;
  const k = w.shape[0];
  const [, , oh, ow] = node.outputs[0].shape;
  const th = Math.ceil(oh / m);
  const tw = Math.ceil(ow / m);
  const p = th * tw;
  const [pt, pl] = pads;
  const wg = e.lowering.winograd!;
  // the padded input is (m th + 2) x (m tw + 2): the tiles' rows and columns; extra zeros feed only cropped outputs
  const [pb, pr] = [m * th + 2 - h - pt, m * tw + 2 - wd - pl];
  let v3: string; // the transformed tiles [t², C, P]
  if (wg.gather === 'conv') {
    const ker = e.floatTensor(inputKernels(m, c), [c * t * t, 1, t, t]);
    const [vc] = e.node('Conv', [ins[0], ker], { group: c, kernel_shape: [t, t], strides: [m, m], pads: [pt, pl, pb, pr] }); // [1, C·t², th, tw]
    const [vr] = e.node('Reshape', [vc, e.int64([c, t * t, p])]);
    [v3] = e.node('Transpose', [vr], { perm: [1, 0, 2] });
  } else {
    const [xp] = e.node('Pad', [ins[0], e.int64([0, 0, pt, pl, 0, 0, pb, pr])]);
    const [s2d] = e.node('SpaceToDepth', [xp], { blocksize: 2 }); // channel (a'·2 + b')·C + c
    const step = m / 2;
    const shifted: string[] = [];
    for (let al = 0; al < r; al++)
      for (let be = 0; be < r; be++) {
        shifted.push(e.node('Slice', [s2d, e.int64([al, be]), e.int64([al + step * (th - 1) + 1, be + step * (tw - 1) + 1]), e.int64([2, 3]), e.int64([step, step])])[0]);
      }
    const [tiles] = e.node('Concat', shifted, { axis: 0 }); // [r², 4C, th, tw]
    const [d] = e.node('Reshape', [tiles, e.int64([t * t, c * p])]);
    const [v] = e.node('MatMul', [e.float(inputTransform(m), [t * t, t * t]), d]);
    [v3] = e.node('Reshape', [v, e.int64([t * t, c, p])]);
  }
  const u = e.floatTensor(winogradWeight(e.constantData(w.name)!, k, c, m), [t * t, k, c]);
  const [mm] = e.node('MatMul', [u, v3]); // [t², K, P]
  const crop = oh !== m * th || ow !== m * tw;
  const bias = ins[2];
  const last = crop || bias ? 1 : outs;
  let y: string;
  if (wg.scatter === 'convT') {
    const [mt] = e.node('Transpose', [mm], { perm: [1, 0, 2] }); // [K, t², P]
    const [mr] = e.node('Reshape', [mt, e.int64([1, k * t * t, th, tw])]);
    const ker = e.floatTensor(outputKernels(m, k), [k * t * t, 1, m, m]);
    [y] = e.node('ConvTranspose', [mr, ker], { group: k, kernel_shape: [m, m], strides: [m, m] }, last);
  } else {
    const [m2] = e.node('Reshape', [mm, e.int64([t * t, k * p])]);
    const [y4] = e.node('MatMul', [e.float(outputTransform(m), [m * m, t * t]), m2]); // [m², K·P]
    const [y5] = e.node('Reshape', [y4, e.int64([m, m, k, th, tw])]);
    const [yt] = e.node('Transpose', [y5], { perm: [2, 3, 0, 4, 1] }); // [K, th, m, tw, m]
    [y] = e.node('Reshape', [yt, e.int64([1, k, m * th, m * tw])], {}, last);
  }
  let out = y;
  if (crop) out = e.node('Slice', [y, e.int64([0, 0]), e.int64([oh, ow]), e.int64([2, 3])], {}, bias ? 1 : outs)[0];
  if (bias) e.node('Add', [out, e.node('Reshape', [bias, e.int64([1, k, 1, 1])])[0]], {}, outs);
}
