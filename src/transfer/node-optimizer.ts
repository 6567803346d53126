// The optimiser of node's loops (image, video, sound): Adam, or L-BFGS whose direction runs on onnxruntime
// on all cores (LbfgsCompact) for images large enough that it measures faster than the two-loop.
import { createOptimizer, createPairProducts, type CreateOptimizerOptions, type Optimizer, type OptimizerKind } from '../optim/index.js';
import { defaultThreads, nodeRuntime } from '../runtime/session.js';

/**
 * Unknowns from which L-BFGS takes the compact form on onnxruntime (bench/lbfgs.mjs: below this the
 * sessions' fixed cost per run outweighs the two passes the JavaScript two-loop makes per pair).
 */
export const COMPACT_LBFGS_MIN = 1 << 16;

/** createOptimizer for `n` unknowns in node; release() the result when done (it may hold sessions). */
export async function createNodeOptimizer(kind: OptimizerKind, opts: CreateOptimizerOptions, n: number, threads = defaultThreads()): Promise<Optimizer> {
  if (kind !== 'lbfgs' || n < COMPACT_LBFGS_MIN) return createOptimizer(kind, opts);
  const products = await createPairProducts(nodeRuntime, threads);
  try {
    return createOptimizer(kind, { ...opts, products });
  } catch (e) {
    await products.release();
    throw e;
  }
}
