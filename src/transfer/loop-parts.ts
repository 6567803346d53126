// The pieces of the Gatys loop shared by node's stylize() and the browser's: the scale sizes, the noise
// scale, the L-BFGS history size, the divergence check, the median time per iteration, the iterate average. Browser-safe.
import { optionError, StyleloomError } from '../errors.js';
import { TERM_NAMES } from '../loss/gatys.js';
import type { LossTerms } from './types.js';

/**
 * Long sides of a coarse-to-fine run: `scales` sizes growing geometrically from `minSize` (default:
 * a factor √2 between scales) up to `size`.
 */
export function scaleSizes(size: number, scales: number, minSize?: number): number[] {
  if (scales <= 1) return [size];
  const lo = minSize ?? Math.max(16, Math.round(size / Math.SQRT2 ** (scales - 1)));
  if (lo > size) throw optionError('E_USAGE', `{minSize} ${lo} is larger than {size} ${size}; lower it`);
  return Array.from({ length: scales }, (_, i) => Math.round(lo * (size / lo) ** (i / (scales - 1))));
}

/** Standard deviation of the noise init in Caffe units (the peer's `10 * N(0,1)`). */
export const NOISE_STD = 10;

/** L-BFGS history pairs: torch's 100, fewer when 100 pairs of this image would exceed ~4 GB. */
export function lbfgsHistoryFor(n: number): number {
  return Math.max(5, Math.min(100, Math.floor(4e9 / (8 * n))));
}

/** Throws E_DIVERGED when a loss term is not finite, with a hint for the optimiser in use. */
export function checkFinite(loss: LossTerms, iter: number, o: { optimizer: string; lr: number }): void {
  if (Number.isFinite(loss.total)) return;
  const term = TERM_NAMES.find((t) => !Number.isFinite(loss[t])) ?? 'total';
  const hint = o.optimizer === 'adam' ? `lower --lr (now ${o.lr})` : 'use --optimizer adam with a small --lr, or lower --style-weight';
  throw new StyleloomError('E_DIVERGED', `the ${term} loss became ${loss[term]} at iteration ${iter}; the optimisation diverged — ${hint}`);
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall time per iteration, ms: iterations 3.. when there are more than 2. */
export function msPerIterOf(times: number[]): number {
  return median(times.length > 2 ? times.slice(2) : times);
}

/** Bias-corrected exponential moving average of the iterate (as style-transfer-pytorch averages its image). */
export class IterateAverage {
  private readonly acc: Float32Array;
  private weight = 0;
  constructor(x: Float32Array, private readonly decay: number) {
    this.acc = new Float32Array(x.length);
  }
  update(x: Float32Array): void {
    const d = this.decay;
    for (let k = 0; k < x.length; k++) this.acc[k] = d * this.acc[k] + (1 - d) * x[k];
    this.weight = d * this.weight + (1 - d);
  }
  value(): Float32Array {
    const out = new Float32Array(this.acc.length);
    const w = this.weight || 1;
    for (let k = 0; k < out.length; k++) out[k] = this.acc[k] / w;
    return out;
  }
  /** The live accumulator and weight (for a resumable state). */
  getState(): { weight: number; acc: Float32Array } {
    return { weight: this.weight, acc: this.acc };
  }
  setState(s: { weight: number; acc: Float32Array }): void {
    if (s.acc.length !== this.acc.length) throw new StyleloomError('E_INPUT', `cannot resume: the state's average has ${s.acc.length} values for an image of ${this.acc.length}`);
    this.acc.set(s.acc);
    this.weight = s.weight;
  }
}

