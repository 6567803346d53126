// The runtime interface every session backend implements (onnxruntime-node in session.ts, onnxruntime-web
// in web.ts): compile an ONNX model once, run it with named float32 tensors. Browser-safe: types only.
import type { OnnxLowering } from '../graph/ops/index.js';
import type { DeviceKind } from './device.js';

export interface SessionOptions {
  threads?: number;
  device?: DeviceKind;
  /** onnxruntime's CPU memory arena (default on); off frees memory after each run (tiled sessions). */
  arena?: boolean;
  /**
   * false: onnxruntime's intra-op threads block when idle instead of spinning (default on): for a session that
   * shares the cores with other work, as fast-mode video with the flow thread (4-10% less per frame, measured).
   */
  spinning?: boolean;
}

export interface FloatTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** A compiled model: run it with named float32 inputs, get named float32 outputs. */
export interface Runner {
  run(feeds: Record<string, FloatTensor>, outputs?: string[]): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

/** A session backend: turns serialised ONNX models into runners. */
export interface Runtime {
  /** What it runs on, for messages and results: 'onnxruntime-node', 'wasm', 'webgpu'. */
  readonly name: string;
  /** What the models given to createRunner must avoid (toOnnx's third argument; none by default). */
  readonly lowering?: OnnxLowering;
  createRunner(model: Uint8Array, opts?: SessionOptions): Promise<Runner>;
}

/** Session options plus the backend that runs them (what the browser-safe transfer modules take). */
export type RuntimeSession = SessionOptions & { runtime: Runtime };
