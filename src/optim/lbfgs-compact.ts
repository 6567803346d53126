// L-BFGS with the direction from the compact representation (Byrd, Nocedal & Schnabel 1994) instead of
// the two-loop recursion: the pairs live in one contiguous block, and the two passes over it are
// onnxruntime matrix products on all cores (pair-products.ts); only k x k algebra stays in JavaScript.
import { LbfgsCore, type LbfgsOptions } from './lbfgs.js';
import type { PairProducts } from './pair-products.js';
import type { Optimizer } from './types.js';

/**
 * H = γI + [S γY] [[R⁻ᵀ(D + γYᵀY)R⁻¹, −R⁻ᵀ], [−R⁻¹, 0]] [Sᵀ; γYᵀ], with S, Y the pairs oldest first,
 * R the upper triangle of SᵀY, D its diagonal and γ = hDiag: the same H0 = γI and the same pairs as
 * torch's two-loop, so d = −Hg agrees with it up to float32 rounding. Per step: one pass over the pairs
 * for Sᵀg and Yᵀg (and the new pair's column of SᵀY and YᵀY), one to combine them; the k x k Gram
 * entries are kept in float64 and updated a column at a time.
 */
export class LbfgsCompact extends LbfgsCore implements Optimizer {
  private readonly products: PairProducts;
  /** historySize + 1 slots of [y, s] (the extra one takes the next candidate pair). */
  private readonly slots: number;
  private store: Float32Array = new Float32Array(0);
  private used = 0;
  /** s_a . y_b and y_a . y_b for slots a, b (row-major slots x slots). */
  private sy: Float64Array;
  private yy: Float64Array;
  /** After setState the Gram entries are recomputed from the pairs at the next step. */
  private gramStale = false;
  private gy: Float32Array = new Float32Array(0);
  private w: Float32Array;

  constructor(products: PairProducts, opts: LbfgsOptions = {}) {
    super(opts);
    this.products = products;
    this.slots = this.historySize + 1;
    this.sy = new Float64Array(this.slots * this.slots);
    this.yy = new Float64Array(this.slots * this.slots);
    this.w = new Float32Array(2 * this.slots);
  }

  async step(x: Float32Array, loss: number, grad: Float32Array): Promise<boolean> {
    const p = this.begin(x, loss, grad);
    if (p.done) return p.updated;
    return this.finish(x, p.loss, p.g, p.gtd ?? (await this.direction(p.g)));
  }

  /** Releases the products' sessions. */
  release(): Promise<void> {
    return this.products.release();
  }

  protected override allocPair(): [Float32Array, Float32Array] {
    const n = this.n;
    // zero-filled and allocated once: the pages are touched only as the history fills
    if (this.store.length !== 2 * this.slots * n) this.store = new Float32Array(2 * this.slots * n);
    const at = 2 * n * this.used++;
    return [this.store.subarray(at, at + n), this.store.subarray(at + n, at + 2 * n)];
  }

  protected override resetPairs(): void {
    super.resetPairs();
    this.used = 0;
  }

  protected override adoptPairs(ys: Float32Array[], ss: Float32Array[]): void {
    const views = ys.map((y, i) => {
      const [vy, vs] = this.allocPair();
      vy.set(y);
      vs.set(ss[i]);
      return [vy, vs];
    });
    super.adoptPairs(
      views.map((v) => v[0]),
      views.map((v) => v[1]),
    );
    this.gramStale = true;
  }

  /** The spare slot is summed with weight 0: a rejected pair's non-finite values must not reach it. */
  protected override rejected(y: Float32Array, s: Float32Array): void {
    y.fill(0);
    s.fill(0);
  }

  private slotOf(v: Float32Array): number {
    return (v.byteOffset - this.store.byteOffset) / (8 * this.n);
  }

  /** d = −H g into this.d; returns g.d. */
  private async direction(g: Float32Array): Promise<number> {
    const n = this.n;
    const d = this.d;
    const k = this.dirs.length;
    const gamma = this.hDiag;
    if (k === 0) return this.scaledSteepest(g, gamma);
    const rows = 2 * this.used;
    const M = this.slots;
    const [sy, yy] = [this.sy, this.yy];
    if (this.gramStale) {
      // every slot against every slot: rows 2a (y_a) and 2a+1 (s_a)
      const full = await this.products.project(this.store, rows, this.store, rows, n);
      for (let a = 0; a < this.used; a++)
        for (let b = 0; b < this.used; b++) {
          sy[a * M + b] = full[(2 * a + 1) * rows + 2 * b];
          yy[a * M + b] = full[2 * a * rows + 2 * b];
        }
      this.gramStale = false;
      this.newPair = null;
    }
    // B = [g; y_new]: each slot row's dot with g, and with the new y for the new column of SᵀY and YᵀY
    const cols = this.newPair ? 2 : 1;
    if (this.gy.length !== 2 * n) this.gy = new Float32Array(2 * n);
    this.gy.set(g);
    if (this.newPair) this.gy.set(this.newPair, n);
    const p = await this.products.project(this.store, rows, this.gy, cols, n);
    if (this.newPair) {
      const b = this.slotOf(this.newPair);
      for (let a = 0; a < this.used; a++) {
        sy[a * M + b] = p[(2 * a + 1) * cols + 1];
        yy[a * M + b] = yy[b * M + a] = p[2 * a * cols + 1];
      }
    }
    const slot = this.dirs.map((y) => this.slotOf(y));
    const R = (i: number, j: number) => (i === j ? 1 / this.ro[i] : sy[slot[i] * M + slot[j]]);
    // c = R⁻¹ Sᵀg (back substitution), z = (D + γYᵀY) c − γYᵀg, e = R⁻ᵀ z (forward substitution)
    const c = new Float64Array(k);
    for (let i = k - 1; i >= 0; i--) {
      let v = p[(2 * slot[i] + 1) * cols];
      for (let j = i + 1; j < k; j++) v -= R(i, j) * c[j];
      c[i] = v * this.ro[i];
    }
    const e = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      let z = c[i] / this.ro[i] - gamma * p[2 * slot[i] * cols];
      for (let j = 0; j < k; j++) z += gamma * yy[slot[i] * M + slot[j]] * c[j];
      for (let j = 0; j < i; j++) z -= R(j, i) * e[j];
      e[i] = z * this.ro[i];
    }
    // d = −γ g − S e + γ Y c: one weighted sum of the slot rows (the spare slot weighs 0)
    const w = this.w.fill(0);
    for (let i = 0; i < k; i++) {
      w[2 * slot[i]] = gamma * c[i];
      w[2 * slot[i] + 1] = -e[i];
    }
    const sum = await this.products.combine(w, this.store, rows, n);
    let gtd = 0;
    for (let j = 0; j < n; j++) {
      const v = Math.fround(sum[j] - gamma * g[j]);
      d[j] = v;
      gtd += g[j] * v;
    }
    return gtd;
  }

  /** No pairs yet: d = −γ g. */
  private scaledSteepest(g: Float32Array, gamma: number): number {
    let gtd = 0;
    for (let j = 0; j < g.length; j++) {
      const v = Math.fround(-g[j] * gamma);
      this.d[j] = v;
      gtd += g[j] * v;
    }
    return gtd;
  }
}
