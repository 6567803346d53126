// The optimiser interface shared by L-BFGS and Adam (one step() per loss+gradient evaluation, updating
// the flat float32 parameter vector in place), plus the small validation helpers both implementations use.
import { StyleloomError } from '../errors.js';

export interface Optimizer {
  /**
   * x holds the current iterate; loss and grad were evaluated at x. Updates x in place. Returns false if no
   * update was made (converged / not a descent direction); a promise of it where the step runs elsewhere
   * (LbfgsCompact's products on onnxruntime): await it before touching x or grad again.
   */
  step(x: Float32Array, loss: number, grad: Float32Array): boolean | Promise<boolean>;
  /** Frees what the optimiser holds outside the JavaScript heap (sessions), if anything. */
  release?(): Promise<void>;
  /** Serialisable state (for resume later): plain object with typed arrays. */
  getState(): unknown;
  setState(s: unknown): void;
}

export const OPTIMIZER_KINDS = ['lbfgs', 'adam'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** L-BFGS step rules: the peer's fixed step, or torch's strong-Wolfe line search. */
export const LINE_SEARCHES = ['none', 'strong-wolfe'] as const;
export type LineSearch = (typeof LINE_SEARCHES)[number];

// ---- helpers for the implementations in this folder (not re-exported by index.ts) ----

export function usage(message: string): StyleloomError {
  return new StyleloomError('E_USAGE', message);
}

/** `value` when it is a finite number > 0 (or >= 0 with `allowZero`), else E_USAGE. */
export function positive(name: string, value: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw usage(`${name} must be a finite number ${allowZero ? '>= 0' : '> 0'}, got ${String(value)}`);
  }
  return value;
}

export function checkVectors(who: string, x: Float32Array, grad: Float32Array, n: number | undefined): void {
  if (!(x instanceof Float32Array) || !(grad instanceof Float32Array)) {
    throw usage(`${who}.step: x and grad must be Float32Arrays`);
  }
  if (x.length !== grad.length) {
    throw usage(`${who}.step: x has ${x.length} elements but grad has ${grad.length}`);
  }
  if (n !== undefined && x.length !== n) {
    throw usage(`${who}.step: x has ${x.length} elements but earlier steps had ${n}; use a new optimizer`);
  }
}

export { isRecord } from '../util/guards.js';

/** A copy of `v` if it is a Float32Array of length `n`, else E_USAGE naming the field. */
export function copyVector(who: string, field: string, v: unknown, n: number): Float32Array {
  if (!(v instanceof Float32Array) || v.length !== n) {
    throw usage(`${who}.setState: ${field} must be a Float32Array of length ${n}`);
  }
  return v.slice();
}

export function stateNumber(who: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw usage(`${who}.setState: ${field} must be a finite number`);
  }
  return v;
}
