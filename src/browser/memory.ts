// How much memory a Gatys run needs in the browser, and the refusal, before any session is built, of
// images too large for the backend: WebAssembly has one 32-bit heap (4 GiB at most, less in practice),
// WebGPU one buffer per tensor (the adapter's maxStorageBufferBindingSize).
import { StyleloomError } from '../errors.js';
import { buildLossGraph, type LossSpec } from '../loss/gatys.js';
import { numel } from '../graph/ir.js';

/** onnxruntime-web's WebAssembly heap: a 32-bit address space, 4 GiB. */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;
/**
 * Share of the heap a run may plan for: the heap grows by copying in some browsers (old + new alive at
 * once), and the allocator fragments; measured figures in README ("Memory in the browser").
 */
export const WASM_USABLE = 0.75;
/**
 * Peak bytes onnxruntime holds per byte of the loss graph's float activations counted once (it frees a
 * tensor after its last use, so the peak is a fraction of the sum); measured in headless chromium, see README.
 */
export const LIVE_FRACTION = 0.5;

export interface MemoryEstimate {
  /** Sum of the bytes of every tensor the loss+gradient graph computes (an upper bound of what is live). */
  activationBytes: number;
  /** The largest single tensor, bytes (WebGPU's per-buffer limit applies to it). */
  largestTensorBytes: number;
  /** Weights held twice (in the serialised model and in the session). */
  weightBytes: number;
  /** What the run is planned to need at its peak. */
  peakBytes: number;
}

const BYTES: Record<string, number> = { float32: 4, int64: 8, bool: 1 };

/** The estimate for one image of width x height with the loss `spec`. */
export function estimateMemory(spec: LossSpec, width: number, height: number): MemoryEstimate {
  const lg = buildLossGraph(spec, height, width);
  let activationBytes = 0;
  let largest = 0;
  for (const node of lg.graph.nodes) {
    for (const v of node.outputs) {
      const b = numel(v.shape) * (BYTES[v.dtype] ?? 4);
      activationBytes += b;
      largest = Math.max(largest, b);
    }
  }
  let weightBytes = 0;
  for (const c of spec.weights.conv.values()) weightBytes += 4 * (c.weight.length + c.bias.length);
  weightBytes *= 2;
  const peakBytes = Math.round(activationBytes * LIVE_FRACTION + weightBytes);
  return { activationBytes, largestTensorBytes: largest, weightBytes, peakBytes };
}

const mb = (b: number) => `${Math.round(b / 2 ** 20)} MB`;

/** Throws E_INPUT, naming the size and what fits, when the run would not fit the backend. */
export function checkMemory(spec: LossSpec, width: number, height: number, backend: 'wasm' | 'webgpu', gpuBufferLimit?: number): MemoryEstimate {
  const e = estimateMemory(spec, width, height);
  const budget = WASM_HEAP_BYTES * WASM_USABLE;
  const fits = (b: number) => Math.floor(Math.sqrt((width * height * b) / Math.max(1, e.peakBytes - e.weightBytes)));
  if (backend === 'wasm' && e.peakBytes > budget) {
    const side = fits(budget - e.weightBytes);
    throw new StyleloomError(
      'E_INPUT',
      `${width}x${height} needs about ${mb(e.peakBytes)} but WebAssembly can use about ${mb(budget)} (a 4 GB heap); use a smaller size (about ${side}x${side} pixels fit with these layers), shallower layers, or the styleloom CLI/server, which tiles large images`,
    );
  }
  if (backend === 'webgpu' && gpuBufferLimit && e.largestTensorBytes > gpuBufferLimit) {
    const side = Math.floor(Math.sqrt((width * height * gpuBufferLimit) / e.largestTensorBytes));
    throw new StyleloomError(
      'E_INPUT',
      `${width}x${height} needs a ${mb(e.largestTensorBytes)} tensor but this GPU allows ${mb(gpuBufferLimit)} per buffer; use a smaller size (about ${side}x${side} pixels), or backend 'wasm'`,
    );
  }
  return e;
}
