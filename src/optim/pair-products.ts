// The two products over L-BFGS's stored pairs that the compact form needs, as two tiny onnxruntime models
// with symbolic sizes (so one session serves every history length): P = A Bᵀ and d = w A, A the pairs.
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import type { Runner, Runtime } from '../runtime/types.js';

const { onnx } = onnxProto;

/** Matrix products over a row-major [rows, n] block of vectors (the pairs), run where the cores are. */
export interface PairProducts {
  /** [rows, cols] = A Bᵀ for A [rows, n] and B [cols, n] (both row-major). */
  project(a: Float32Array, rows: number, b: Float32Array, cols: number, n: number): Promise<Float32Array>;
  /** [n] = w A for w [rows] and A [rows, n]. */
  combine(w: Float32Array, a: Float32Array, rows: number, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

type Dim = number | string;

function valueInfo(name: string, dims: Dim[]): O.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}

function model(node: O.INodeProto, inputs: O.IValueInfoProto[], output: O.IValueInfoProto): Uint8Array {
  const graph = { name: 'lbfgs_pairs', node: [node], input: inputs, output: [output] };
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, producerName: 'styleloom', opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

/** Gemm(A, B, transB): [R, N] x [C, N]ᵀ. */
export const PROJECT_MODEL = model(
  { opType: 'Gemm', input: ['A', 'B'], output: ['P'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
  [valueInfo('A', ['R', 'N']), valueInfo('B', ['C', 'N'])],
  valueInfo('P', ['R', 'C']),
);

/** MatMul(w, A): [1, R] x [R, N]. */
export const COMBINE_MODEL = model({ opType: 'MatMul', input: ['w', 'A'], output: ['D'] }, [valueInfo('w', [1, 'R']), valueInfo('A', ['R', 'N'])], valueInfo('D', [1, 'N']));

/** The products on `runtime` with `threads` threads (two sessions, released by release()). */
export async function createPairProducts(runtime: Runtime, threads: number): Promise<PairProducts> {
  const project: Runner = await runtime.createRunner(PROJECT_MODEL, { threads });
  const combine: Runner = await runtime.createRunner(COMBINE_MODEL, { threads });
  return {
    async project(a, rows, b, cols, n) {
      const out = await project.run({ A: { data: a.subarray(0, rows * n), dims: [rows, n] }, B: { data: b.subarray(0, cols * n), dims: [cols, n] } });
      return out.P;
    },
    async combine(w, a, rows, n) {
      const out = await combine.run({ w: { data: w.subarray(0, rows), dims: [1, rows] }, A: { data: a.subarray(0, rows * n), dims: [rows, n] } });
      return out.D;
    },
    async release() {
      await project.release();
      await combine.release();
    },
  };
}
