// The best iterate an optimisation has evaluated, kept as a copy: without a line search an L-BFGS step
// can overshoot (several to ~1000 times the loss), so a run returns this, not what its last step made.

export class BestIterate<T> {
  private x: Float32Array | null = null;
  private value = Infinity;
  private info: T | undefined;

  /** `score(info)` is the number compared (lower is better), e.g. the total of a set of loss terms. */
  constructor(private readonly score: (info: T) => number) {}

  /**
   * Offers the iterate `x`, evaluated as `info`: copied if it scores lower than every earlier offer (the
   * earliest of equal ones is kept; NaN never is). Call it before the step that changes `x` in place.
   */
  offer(x: Float32Array, info: T): boolean {
    const v = this.score(info);
    if (!(v < this.value)) return false;
    if (this.x === null || this.x.length !== x.length) this.x = new Float32Array(x.length);
    this.x.set(x);
    this.value = v;
    this.info = info;
    return true;
  }

  /** The best iterate so far and its evaluation (the live copy), or undefined before the first offer. */
  get(): { x: Float32Array; info: T } | undefined {
    return this.x === null ? undefined : { x: this.x, info: this.info as T };
  }

  /** Restores what get() returned (copied), e.g. from a resumable state. */
  set(best: { x: Float32Array; info: T }): void {
    this.x = best.x.slice();
    this.value = this.score(best.info);
    this.info = best.info;
  }
}
