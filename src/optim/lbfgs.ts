// L-BFGS matching torch.optim.LBFGS stepped once per evaluation: with no line search as max_iter=1
// (same first step, curvature-pair rule, two-loop recursion, step length and stopping tests as torch),
// or with torch's strong-Wolfe line search as one long step() call (each evaluation is a trial point).
import { StrongWolfe, type StrongWolfeState } from './strong-wolfe.js';
import {
  LINE_SEARCHES,
  type LineSearch,
  type Optimizer,
  checkVectors,
  copyVector,
  isRecord,
  positive,
  stateNumber,
  usage,
} from './types.js';

export interface LbfgsOptions {
  /** Step length after the first step (torch's lr). Default 1. */
  lr?: number;
  /** Curvature pairs kept. Default 100. Memory: 2 * historySize float32 vectors. */
  historySize?: number;
  /** No update when max |g_i| <= this. Default 1e-7. */
  toleranceGrad?: number;
  /** No update when g.d > -this (d is not a descent direction). Default 1e-9. */
  toleranceChange?: number;
  /**
   * 'none' (default, the peer's): every step has length lr. 'strong-wolfe': torch's line search, so a
   * step() may be a trial point of the search rather than a new iterate; curvature pairs come only from
   * accepted points, which keeps them well-conditioned.
   */
  lineSearch?: LineSearch;
}


/**
 * What getState() returns. The vectors are the optimiser's own buffers (not copies): serialise them
 * before the next step(). Pairs are ordered oldest first; `dirs[i]` is y_i (gradient change),
 * `stps[i]` is s_i (step), `ro[i]` = 1 / (y_i . s_i), as torch names them.
 */
export interface LbfgsState {
  kind: 'lbfgs';
  /** Steps taken past the max|g| test (torch's state['n_iter']); 0 before the first. */
  nIter: number;
  /** Last direction and its step length (d is kept even when it was not applied, as in torch). */
  d: Float32Array;
  t: number;
  hDiag: number;
  prevGrad: Float32Array;
  dirs: Float32Array[];
  stps: Float32Array[];
  ro: number[];
  /** With the line search, between trial points: where the search started and how it stands. */
  search?: { x0: Float32Array; wolfe: StrongWolfeState };
}

/** Curvature pairs are kept only when y.s exceeds this (torch's constant). */
const MIN_CURVATURE = 1e-10;

/** Where a step stands after begin(): over (with its answer), or waiting for the direction d = -H g. */
export type LbfgsPhase = { done: true; updated: boolean } | { done: false; loss: number; g: Float32Array; gtd: number | null };

/**
 * torch's L-BFGS bookkeeping (first step, curvature pairs, step length, stopping tests, line search),
 * with the direction d = -H g left to the subclass: Lbfgs below (the two-loop recursion in JavaScript)
 * or LbfgsCompact (lbfgs-compact.ts: the compact form, its products on onnxruntime).
 */
export abstract class LbfgsCore {
  readonly lr: number;
  readonly historySize: number;
  readonly toleranceGrad: number;
  readonly toleranceChange: number;
  readonly lineSearch: LineSearch;

  protected nIter = 0;
  protected n = -1;
  protected d: Float32Array = new Float32Array(0);
  private t = 0;
  protected hDiag = 1;
  private prevGrad: Float32Array = new Float32Array(0);
  protected dirs: Float32Array[] = [];
  protected stps: Float32Array[] = [];
  protected ro: number[] = [];
  /** Scratch for the next (y, s) pair; recycled from dropped or rejected pairs. */
  private spareY: Float32Array | null = null;
  private spareS: Float32Array | null = null;
  /** The y of the pair this step stored (null when it kept none): the compact form's new products. */
  protected newPair: Float32Array | null = null;
  /** The line search in progress, and the point it started from. */
  private search: StrongWolfe | null = null;
  private x0: Float32Array = new Float32Array(0);

  constructor(opts: LbfgsOptions = {}) {
    this.lr = positive('L-BFGS lr', opts.lr ?? 1);
    const h = opts.historySize ?? 100;
    if (!Number.isInteger(h) || h < 1) {
      throw usage(`L-BFGS historySize must be an integer >= 1, got ${String(h)}`);
    }
    this.historySize = h;
    this.toleranceGrad = positive('L-BFGS toleranceGrad', opts.toleranceGrad ?? 1e-7, true);
    this.toleranceChange = positive('L-BFGS toleranceChange', opts.toleranceChange ?? 1e-9, true);
    const ls = opts.lineSearch ?? 'none';
    if (!LINE_SEARCHES.includes(ls)) throw usage(`L-BFGS lineSearch must be 'none' or 'strong-wolfe', got ${String(ls)}`);
    this.lineSearch = ls;
  }

  /** The step up to the direction (see LbfgsPhase); the subclass's step() computes it and calls finish(). */
  protected begin(x: Float32Array, loss: number, grad: Float32Array): LbfgsPhase {
    checkVectors('L-BFGS', x, grad, this.n < 0 ? undefined : this.n);
    const n = x.length;
    let g = grad;
    if (this.search !== null) {
      // x is a trial point of the line search: the next trial, or the accepted point and on from there
      const r = this.search.feed(loss, grad);
      this.moveTo(x, r.t);
      if (!r.done) return { done: true, updated: true };
      this.search = null;
      this.t = r.t;
      loss = r.f;
      g = r.g;
    }

    // Converged: max|g| <= toleranceGrad. Nothing changes, not even the iteration count (as torch).
    // Written as "no element exceeds" so that a NaN gradient is not taken for convergence.
    let small = true;
    for (let i = 0; i < n; i++) {
      if (!(Math.abs(g[i]) <= this.toleranceGrad)) {
        small = false;
        break;
      }
    }
    if (small) return { done: true, updated: false };

    if (this.n < 0) {
      this.n = n;
      this.d = new Float32Array(n);
      this.prevGrad = new Float32Array(n);
    }
    const d = this.d;
    this.nIter += 1;
    if (this.nIter > 1) {
      this.updateMemory(g);
      this.t = this.lr;
      return { done: false, loss, g, gtd: null };
    }
    // steepest descent, scaled so that the first step is at most lr in L1 norm
    let gtd = 0;
    let l1 = 0;
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      d[i] = -gi;
      l1 += Math.abs(gi);
      gtd -= gi * gi;
    }
    this.resetPairs();
    this.hDiag = 1;
    this.t = Math.min(1, 1 / l1) * this.lr;
    return { done: false, loss, g, gtd };
  }

  /** The rest of the step once this.d holds the direction and gtd = g.d. */
  protected finish(x: Float32Array, loss: number, g: Float32Array, gtd: number): boolean {
    const n = x.length;
    const d = this.d;
    this.prevGrad.set(g);

    // not a descent direction (or too flat): no update; d, t and prevGrad are kept all the same, as torch.
    // (A NaN g.d passes this test and the update spreads the NaN into x, as in torch.)
    if (gtd > -this.toleranceChange) return false;
    if (this.lineSearch === 'strong-wolfe') {
      if (this.x0.length !== n) this.x0 = new Float32Array(n);
      this.x0.set(x);
      this.search = new StrongWolfe(d, { t: this.t, f0: loss, g0: g, gtd0: gtd, tolChange: this.toleranceChange });
      this.moveTo(x, this.t);
      return true;
    }
    const t = this.t;
    for (let i = 0; i < n; i++) x[i] += t * d[i];
    return true;
  }

  /** Storage for one more (y, s) pair, when no dropped or rejected pair's can be reused. */
  protected allocPair(): [Float32Array, Float32Array] {
    return [new Float32Array(this.n), new Float32Array(this.n)];
  }

  /** Takes restored pairs (fresh copies, oldest first) as the history. */
  protected adoptPairs(ys: Float32Array[], ss: Float32Array[]): void {
    this.dirs = ys;
    this.stps = ss;
  }

  /** Forget every pair (the first step, and setState). */
  protected resetPairs(): void {
    this.dirs = [];
    this.stps = [];
    this.ro = [];
    this.spareY = null;
    this.spareS = null;
  }

  /** x = x0 + t d (a trial or the accepted point of the line search). */
  private moveTo(x: Float32Array, t: number): void {
    const [x0, d] = [this.x0, this.d];
    for (let i = 0; i < x.length; i++) x[i] = x0[i] + t * d[i];
  }

  /** y = g - g_prev, s = t d_prev; store the pair if y.s > 1e-10 (dropping the oldest when full). */
  private updateMemory(g: Float32Array): void {
    const n = this.n;
    const [y, s] = this.spareY && this.spareS ? [this.spareY, this.spareS] : this.allocPair();
    const d = this.d;
    const prev = this.prevGrad;
    const t = this.t;
    let ys = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      const yi = Math.fround(g[i] - prev[i]);
      const si = Math.fround(d[i] * t);
      y[i] = yi;
      s[i] = si;
      ys += yi * si;
      yy += yi * yi;
    }
    if (ys > MIN_CURVATURE) {
      if (this.dirs.length === this.historySize) {
        // recycle the oldest pair's buffers as the next scratch
        this.spareY = this.dirs.shift() ?? null;
        this.spareS = this.stps.shift() ?? null;
        this.ro.shift();
      } else {
        this.spareY = null;
        this.spareS = null;
      }
      this.dirs.push(y);
      this.stps.push(s);
      this.ro.push(1 / ys);
      this.hDiag = ys / yy;
      this.newPair = y;
    } else {
      this.spareY = y;
      this.spareS = s;
      this.newPair = null;
      this.rejected(y, s);
    }
  }

  /** A candidate pair failed the curvature test (its buffers become the spare). */
  protected rejected(_y: Float32Array, _s: Float32Array): void {}

  getState(): LbfgsState {
    return {
      kind: 'lbfgs',
      nIter: this.nIter,
      d: this.d,
      t: this.t,
      hDiag: this.hDiag,
      prevGrad: this.prevGrad,
      dirs: this.dirs.slice(),
      stps: this.stps.slice(),
      ro: this.ro.slice(),
      ...(this.search === null ? {} : { search: { x0: this.x0, wolfe: this.search.getState() } }),
    };
  }

  /** Restores a state from getState() (vectors copied, so the source stays independent). */
  setState(s: unknown): void {
    const who = 'L-BFGS';
    if (!isRecord(s) || s.kind !== 'lbfgs') throw usage(`${who}.setState: not an L-BFGS state`);
    const nIter = stateNumber(who, 'nIter', s.nIter);
    if (!Number.isInteger(nIter) || nIter < 0) throw usage(`${who}.setState: nIter must be an integer >= 0`);
    const t = stateNumber(who, 't', s.t);
    const hDiag = stateNumber(who, 'hDiag', s.hDiag);
    if (!(s.d instanceof Float32Array)) throw usage(`${who}.setState: d must be a Float32Array`);
    const n = s.d.length;
    const d = copyVector(who, 'd', s.d, n);
    const prevGrad = copyVector(who, 'prevGrad', s.prevGrad, n);
    const { dirs, stps, ro } = s;
    if (!Array.isArray(dirs) || !Array.isArray(stps) || !Array.isArray(ro)) {
      throw usage(`${who}.setState: dirs, stps and ro must be arrays`);
    }
    if (dirs.length !== stps.length || dirs.length !== ro.length || dirs.length > this.historySize) {
      throw usage(
        `${who}.setState: dirs, stps and ro must have the same length, at most historySize ${this.historySize}`,
      );
    }
    const ys = dirs.map((v, i) => copyVector(who, `dirs[${i}]`, v, n));
    const ss = stps.map((v, i) => copyVector(who, `stps[${i}]`, v, n));
    const ros = ro.map((v, i) => stateNumber(who, `ro[${i}]`, v));
    this.nIter = nIter;
    this.t = t;
    this.hDiag = hDiag;
    this.d = d;
    this.prevGrad = prevGrad;
    this.n = nIter === 0 ? -1 : n;
    this.resetPairs();
    this.adoptPairs(ys, ss);
    this.ro = ros;
    this.newPair = null;
    this.search = null;
    if (s.search !== undefined) {
      if (this.lineSearch !== 'strong-wolfe') throw usage(`${who}.setState: the state is in a line search but this optimiser has none`);
      if (!isRecord(s.search)) throw usage(`${who}.setState: search must be an object`);
      this.x0 = copyVector(who, 'search.x0', s.search.x0, n);
      const w = StrongWolfe.checkState(s.search.wolfe, n);
      this.search = new StrongWolfe(this.d, { ...w, g0: w.g0.slice(), gPrev: w.gPrev.slice(), bracket: [...w.bracket], bracketF: [...w.bracketF], bracketGtd: [...w.bracketGtd], bracketG: w.bracketG.map((v) => v.slice()) });
    }
  }
}

/** L-BFGS as torch computes it: the direction by the two-loop recursion, on this thread. */
export class Lbfgs extends LbfgsCore implements Optimizer {
  private al: Float64Array;

  constructor(opts: LbfgsOptions = {}) {
    super(opts);
    this.al = new Float64Array(this.historySize);
  }

  step(x: Float32Array, loss: number, grad: Float32Array): boolean {
    const p = this.begin(x, loss, grad);
    if (p.done) return p.updated;
    return this.finish(x, p.loss, p.g, p.gtd ?? this.twoLoop(p.g));
  }

  /**
   * d = -H g by the two-loop recursion with H0 = hDiag * I, in torch's order (newest pair first in the
   * first loop, oldest first in the second). Each pass over the vector also accumulates the dot product
   * the next pass needs, so k pairs cost 2k + 1 passes. Returns g.d.
   */
  private twoLoop(g: Float32Array): number {
    const n = this.n;
    const d = this.d; // q, then r; the old direction is no longer needed (s was taken from it)
    const dirs = this.dirs;
    const stps = this.stps;
    const ro = this.ro;
    const al = this.al;
    const k = dirs.length;

    // q = -g, and s_{k-1} . q for the first iteration of loop 1
    let dot = 0;
    {
      const sNext = k > 0 ? stps[k - 1] : null;
      for (let j = 0; j < n; j++) {
        const q = -g[j];
        d[j] = q;
        if (sNext !== null) dot += sNext[j] * q;
      }
    }
    // loop 1: al_i = ro_i s_i.q; q -= al_i y_i (i = k-1 .. 0)
    for (let i = k - 1; i >= 0; i--) {
      const a = dot * ro[i];
      al[i] = a;
      const y = dirs[i];
      dot = 0;
      if (i > 0) {
        const sNext = stps[i - 1];
        for (let j = 0; j < n; j++) {
          const q = Math.fround(d[j] - a * y[j]);
          d[j] = q;
          dot += sNext[j] * q;
        }
      } else {
        for (let j = 0; j < n; j++) d[j] = Math.fround(d[j] - a * y[j]);
      }
    }
    // r = H0 q, and y_0 . r (or g . r when there are no pairs)
    const h = this.hDiag;
    {
      const v = k > 0 ? dirs[0] : g;
      for (let j = 0; j < n; j++) {
        const r = Math.fround(d[j] * h);
        d[j] = r;
        dot += v[j] * r;
      }
    }
    // loop 2: be_i = ro_i y_i.r; r += (al_i - be_i) s_i (i = 0 .. k-1); the last pass yields g.r
    for (let i = 0; i < k; i++) {
      const c = al[i] - dot * ro[i];
      const s = stps[i];
      const v = i + 1 < k ? dirs[i + 1] : g;
      dot = 0;
      for (let j = 0; j < n; j++) {
        const r = Math.fround(d[j] + c * s[j]);
        d[j] = r;
        dot += v[j] * r;
      }
    }
    return dot;
  }
}
