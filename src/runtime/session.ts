// onnxruntime-node sessions behind one small interface: thread count, execution provider, graph
// optimisation; CUDA when asked for, with a clear error where its provider is not installed.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { StyleloomError } from '../errors.js';

// onnxruntime's own log lines would break styleloom's one-line errors; failures surface as exceptions.
ort.env.logLevel = 'fatal';
import type { Runner, Runtime, SessionOptions } from './types.js';

export type { FloatTensor, Runner, SessionOptions } from './types.js';

export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

export async function createRunner(model: Uint8Array, opts: SessionOptions = {}): Promise<Runner> {
  const threads = opts.threads ?? defaultThreads();
  const device = opts.device ?? 'cpu';
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // The memory pattern pre-plans one block for all intermediate tensors; for the gradient graph it
    // costs memory without saving time (1024 px, Adam: peak RSS 2141 MB with it, 1572 MB without;
    // 512 px: 647 vs 536 MB; ms/iter unchanged within noise).
    enableMemPattern: false,
    enableCpuMemArena: opts.arena ?? true,
    executionProviders: device === 'cuda' ? ['cuda'] : ['cpu'],
  };
  if (opts.spinning === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, options);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (device === 'cuda') {
      throw new StyleloomError(
        'E_DEVICE',
        `the CUDA execution provider is not available (${firstLine(msg)}); on a machine with CUDA 12 reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci, or use --device cpu`,
      );
    }
    throw new StyleloomError('E_INTERNAL', `onnxruntime could not load the generated model: ${firstLine(msg)}`);
  }
  return {
    async run(feeds, outputs) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', v.data, v.dims);
      const res = outputs ? await session.run(ortFeeds, outputs) : await session.run(ortFeeds);
      const out: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(res)) out[k] = t.data as Float32Array;
      return out;
    },
    release: () => session.release(),
  };
}

/** The onnxruntime-node backend behind the runtime interface. */
export const nodeRuntime: Runtime = { name: 'onnxruntime-node', createRunner };

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 300);
}
