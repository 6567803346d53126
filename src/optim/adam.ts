// Adam with exactly the update rule of torch.optim.Adam (no weight decay, no amsgrad): moments kept
// as float32 like torch, bias-corrected step, one fused loop over the parameters per step.
import {
  type Optimizer,
  checkVectors,
  copyVector,
  isRecord,
  positive,
  stateNumber,
  usage,
} from './types.js';

export interface AdamOptions {
  /** Step size; in Caffe units this is roughly grey levels per pixel per step at first. Default 10. */
  lr?: number;
  /** Decay of the first moment, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Decay of the second moment, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
}

/** What getState() returns. `m` and `v` are the optimiser's own buffers (not copies). */
export interface AdamState {
  kind: 'adam';
  /** Number of steps taken. */
  t: number;
  m: Float32Array;
  v: Float32Array;
}

function beta(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1) {
    throw usage(`${name} must be a number in [0, 1), got ${String(value)}`);
  }
  return value;
}

export class Adam implements Optimizer {
  private stepLr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private t = 0;
  private m: Float32Array | null = null;
  private v: Float32Array | null = null;

  constructor(opts: AdamOptions = {}) {
    this.stepLr = positive('Adam lr', opts.lr ?? 10);
    this.beta1 = beta('Adam beta1', opts.beta1 ?? 0.9);
    this.beta2 = beta('Adam beta2', opts.beta2 ?? 0.999);
    this.eps = positive('Adam eps', opts.eps ?? 1e-8, true);
  }

  /** The step size of the next step(). */
  get lr(): number {
    return this.stepLr;
  }

  /** Sets the step size of the next step() (a learning-rate schedule). */
  setLr(lr: number): void {
    this.stepLr = positive('Adam lr', lr);
  }

  step(x: Float32Array, _loss: number, grad: Float32Array): boolean {
    checkVectors('Adam', x, grad, this.m?.length);
    const n = x.length;
    if (this.m === null || this.v === null) {
      this.m = new Float32Array(n);
      this.v = new Float32Array(n);
    }
    const m = this.m;
    const v = this.v;
    this.t += 1;
    const b1 = this.beta1;
    const b2 = this.beta2;
    // torch: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; denom = sqrt(v)/sqrt(1-b2^t) + eps;
    // x -= lr/(1-b1^t) * m/denom. Each element is computed in double and rounded once when stored
    // (torch rounds after every float32 op; the difference is an ulp or so per step).
    const a1 = 1 - b1;
    const a2 = 1 - b2;
    const stepSize = this.lr / (1 - b1 ** this.t);
    const bc2Sqrt = Math.sqrt(1 - b2 ** this.t);
    const eps = this.eps;
    for (let i = 0; i < n; i++) {
      const g = grad[i];
      const mi = Math.fround(b1 * m[i] + a1 * g);
      const vi = Math.fround(b2 * v[i] + a2 * g * g);
      m[i] = mi;
      v[i] = vi;
      x[i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
    return true;
  }

  /** The live state: serialise (or copy) it before the next step(), which overwrites m and v. */
  getState(): AdamState {
    const n = this.m?.length ?? 0;
    return { kind: 'adam', t: this.t, m: this.m ?? new Float32Array(n), v: this.v ?? new Float32Array(n) };
  }

  /** Restores a state from getState() (copied, so the source stays independent). */
  setState(s: unknown): void {
    if (!isRecord(s) || s.kind !== 'adam') throw usage('Adam.setState: not an Adam state');
    const t = stateNumber('Adam', 't', s.t);
    if (!Number.isInteger(t) || t < 0) throw usage('Adam.setState: t must be an integer >= 0');
    if (!(s.m instanceof Float32Array)) throw usage('Adam.setState: m must be a Float32Array');
    const n = s.m.length;
    const m = copyVector('Adam', 'm', s.m, n);
    const v = copyVector('Adam', 'v', s.v, n);
    this.t = t;
    // a state saved before the first step has no moments yet
    this.m = t === 0 && n === 0 ? null : m;
    this.v = t === 0 && n === 0 ? null : v;
  }
}
