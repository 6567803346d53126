// Types of the loss: the pooling VGG uses and the loss terms every evaluation reports (browser-safe).

export const POOL_KINDS = ['max', 'avg'] as const;
export type PoolKind = (typeof POOL_KINDS)[number];

export interface LossTerms {
  content: number;
  style: number;
  tv: number;
  /** Training with a stability weight: w · mean((f(perturbed) − f(x))²); absent otherwise. */
  stability?: number;
  total: number;
}
