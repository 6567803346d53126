// The contract every op entry fulfils (shape rule, backward rule, float64 reference, ONNX lowering) and
// the small helpers the op families share.
import { StyleloomError } from '../../errors.js';
import type { Attrs, DType, GraphBuilder, Node, Shape, Value } from '../types.js';

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
  /** A large float initializer, written as it is (not deduplicated). */
  floatTensor(data: Float32Array, dims: number[]): string;
  /** What the backend the model is for cannot run (see OnnxLowering). */
  readonly lowering: Readonly<OnnxLowering>;
  /** The IR node that computes the value named `name` (for lowerings that read a producer's inputs). */
  producer(name: string): Node | undefined;
  /** The data of the graph constant named `name` (undefined for computed values and inputs). */
  constantData(name: string): Float32Array | undefined;
}

/** Backend limits the lowering works around; the defaults suit onnxruntime-node and WebAssembly. */
export interface OnnxLowering {
  /**
   * false where MaxPool cannot output its argmax indices (onnxruntime-web's WebGPU kernel has one output):
   * MaxUnpool2 then lowers to the mask form dy·[x = max of its window], which equals the scatter wherever a
   * window's maximum is unique (in VGG a tie is a window of ReLU zeros, whose gradient the ReLU drops anyway).
   */
  maxPoolIndices?: boolean;
  /**
   * 3x3 stride-1 convolutions with constant weights and at least `minChannels` input channels lower to
   * Winograd F(m x m, 3x3), m = `tile` (2: 2.25x fewer multiplications, 4: 4x; see winograd.ts). Default: none.
   */
  winograd?: { minChannels: number; tile: 2 | 4; gather?: WinogradGather; scatter?: WinogradScatter };
  /**
   * The largest im2col matrix (floats) a 3x3 weight gradient builds for its one Gemm; above it, one Gemm per tap
   * (default IM2COL_MAX_FLOATS in conv-grad-onnx.ts; tests set 0 to run the per-tap form on tiny shapes).
   */
  im2colMaxFloats?: number;
}

/**
 * How the Winograd lowering gathers the overlapping input tiles and applies the input transform: 'slices'
 * (pad, SpaceToDepth, strided slices, one MatMul) or 'conv' (one grouped Conv whose kernels are the
 * transform, then a Transpose).
 */
export type WinogradGather = 'slices' | 'conv';
/** How it applies the output transform: 'matmul' (a MatMul, then a Transpose that interleaves the tiles) or 'convT' (a Transpose, then one grouped ConvTranspose). */
export type WinogradScatter = 'matmul' | 'convT';

/** One op: its shape rule, local backward rule (emitted as more IR ops), float64 reference and ONNX lowering. */
export interface OpDef {
  infer(inputs: readonly Value[], attrs: Attrs): { shape: Shape; dtype: DType }[];
  /**
   * Gradients of the loss with respect to each input, given those of the outputs (null = none). `needs[i]` is
   * false where input i leads to no differentiation target (a rule may then return null for it and emit nothing).
   */
  backward?(g: GraphBuilder, node: Node, gys: (Value | null)[], needs: readonly boolean[]): (Value | null)[];
  evaluate(inputs: Arr[], attrs: Attrs): Arr[];
  onnx(e: OnnxEmitter, node: Node, ins: string[], outs: string[]): void;
}

export const f32 = (shape: Shape) => ({ shape, dtype: 'float32' as DType });
export const num = (a: Attrs, k: string) => a[k] as number;
export const shapeAttr = (a: Attrs, k: string) => a[k] as number[];

export function expectRank(op: string, v: Value, rank: number): void {
  if (v.shape.length !== rank) {
    throw new StyleloomError('E_INTERNAL', `${op}: ${v.name} has shape [${v.shape}], expected rank ${rank}`);
  }
}
export function expectSame(op: string, a: Value, b: Value): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, k) => d !== b.shape[k])) {
    throw new StyleloomError('E_INTERNAL', `${op}: shapes [${a.shape}] and [${b.shape}] differ`);
  }
}
export const size = (s: Shape) => s.reduce((p, d) => p * d, 1);

export function map2(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const out = new Float64Array(a.data.length);
  for (let k = 0; k < out.length; k++) out[k] = f(a.data[k], b.data[k]);
  return { data: out, shape: a.shape };
}

/** Each value of an [n, c, oh, ow] tensor repeated over a 2x2 block: [n, c, 2oh, 2ow]. */
export function upsample2(e: OnnxEmitter, v: string, [n, c, oh, ow]: number[], outs?: string[]): string {
  const [r] = e.node('Reshape', [v, e.int64([n, c, oh, 1, ow, 1])]);
  const [x] = e.node('Expand', [r, e.int64([n, c, oh, 2, ow, 2])]);
  return e.node('Reshape', [x, e.int64([n, c, 2 * oh, 2 * ow])], {}, outs)[0];
}
