// Winograd F(2x2, 3x3) lowering of a 3x3 stride-1 Conv with a constant weight (Lavin & Gray 2015): each 2x2
// output tile from a 4x4 input tile with 16 instead of 36 multiplications per channel pair, as ONNX ops.
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

/** The output transform as one [m², t²] matrix: row (u, v) of the output tile, column ξν. */
function outputTransform(m: WinogradTile): number[] {
  const { AT } = F[m];
  const t = m + 2;
  const out = new Array<number>(m * m * t * t).fill(0);
  for (let u = 0; u < m; u++) for (let v = 0; v < m; v++) for (let xi = 0; xi < t; xi++) for (let nu = 0; nu < t; nu++) out[(u * m + v) * t * t + xi * t + nu] = AT[u][xi] * AT[v][nu];
  return out;
}

/**
 * Emits Conv(x, w, b) with `pads` [top, left, bottom, right] as: zero pad to whole tiles, SpaceToDepth and
 * strided slices to gather the overlapping tiles, the input transform (one MatMul), the channel products
 * (one batched MatMul with the precomputed weight), the output transform (one MatMul) and the interleave.
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
  // padded input of (m th + 2) x (m tw + 2): the tiles' rows and columns; extra zeros feed only cropped outputs
  const [xp] = e.node('Pad', [ins[0], e.int64([0, 0, pt, pl, 0, 0, m * th + 2 - h - pt, m * tw + 2 - wd - pl])]);
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
  const [v3] = e.node('Reshape', [v, e.int64([t * t, c, p])]);
  const u = e.floatTensor(winogradWeight(e.constantData(w.name)!, k, c, m), [t * t, k, c]);
  const [mm] = e.node('MatMul', [u, v3]); // [t², K, P]
  const [m2] = e.node('Reshape', [mm, e.int64([t * t, k * p])]);
  const [y4] = e.node('MatMul', [e.float(outputTransform(m), [m * m, t * t]), m2]); // [m², K·P]
  const [y5] = e.node('Reshape', [y4, e.int64([m, m, k, th, tw])]);
  const [yt] = e.node('Transpose', [y5], { perm: [2, 3, 0, 4, 1] }); // [K, th, m, tw, m]
  const crop = oh !== m * th || ow !== m * tw;
  const bias = ins[2];
  const [y] = e.node('Reshape', [yt, e.int64([1, k, m * th, m * tw])], {}, crop || bias ? 1 : outs);
  let out = y;
  if (crop) out = e.node('Slice', [y, e.int64([0, 0]), e.int64([oh, ow]), e.int64([2, 3])], {}, bias ? 1 : outs)[0];
  if (bias) e.node('Add', [out, e.node('Reshape', [bias, e.int64([1, k, 1, 1])])[0]], {}, outs);
}
