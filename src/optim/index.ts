// Optimiser factory for the transfer loop: 'lbfgs' or 'adam' with the peer's (pytorch_gatys.py)
// settings, plus re-exports of the implementations and their types, and of the best-iterate keeper.
import { Adam } from './adam.js';
import { Lbfgs } from './lbfgs.js';
import { LbfgsCompact } from './lbfgs-compact.js';
import type { PairProducts } from './pair-products.js';
import { type LineSearch, type Optimizer, type OptimizerKind, positive, usage } from './types.js';

export { LINE_SEARCHES, type LineSearch, type Optimizer, type OptimizerKind } from './types.js';
export { StrongWolfe, type StrongWolfeState } from './strong-wolfe.js';
export { Adam, type AdamOptions, type AdamState } from './adam.js';
export { Lbfgs, LbfgsCore, type LbfgsOptions, type LbfgsState } from './lbfgs.js';
export { LbfgsCompact } from './lbfgs-compact.js';
export { createPairProducts, type PairProducts } from './pair-products.js';
export { BestIterate } from './best.js';

export interface CreateOptimizerOptions {
  /** Adam's step size (default 10, Caffe units). Validated for both kinds but not used by L-BFGS. */
  lr?: number;
  /** L-BFGS history pairs (default 100, torch's). */
  historySize?: number;
  /** L-BFGS step rule (default 'none', the peer's). */
  lineSearch?: LineSearch;
  /** L-BFGS: compute the direction by the compact form with these products (LbfgsCompact) instead of the two-loop. */
  products?: PairProducts;
}

/**
 * The optimiser the peer uses: Adam(lr, betas 0.9/0.999, eps 1e-8), or L-BFGS(lr 1, history 100,
 * no line search unless `lineSearch` asks for torch's strong-Wolfe one). L-BFGS always steps with lr 1
 * as the peer does; `lr` is only checked there.
 */
export function createOptimizer(kind: OptimizerKind, opts: CreateOptimizerOptions = {}): Optimizer {
  const lr = opts.lr === undefined ? undefined : positive('lr', opts.lr);
  switch (kind) {
    case 'adam':
      return new Adam({ lr: lr ?? 10 });
    case 'lbfgs': {
      const lo = { lr: 1, historySize: opts.historySize ?? 100, lineSearch: opts.lineSearch ?? 'none' };
      return opts.products ? new LbfgsCompact(opts.products, lo) : new Lbfgs(lo);
    }
    default:
      throw usage(`unknown optimizer ${JSON.stringify(kind as unknown)}; use 'lbfgs' or 'adam'`);
  }
}
