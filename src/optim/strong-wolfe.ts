// Strong-Wolfe line search with torch.optim.LBFGS's rules (line_search_fn='strong_wolfe': bracketing by
// safeguarded cubic interpolation, then zoom), as a state machine fed one loss + gradient at a time.
import { isRecord, stateNumber, usage } from './types.js';

/** Armijo (sufficient decrease) and curvature constants, and the evaluation cap per search (torch's). */
const C1 = 1e-4;
const C2 = 0.9;
const MAX_LS = 25;

/** Where the search stands after an evaluation: the next trial step, or the accepted point. */
export type WolfeStep = { done: false; t: number } | { done: true; t: number; f: number; g: Float32Array };

/** Serialisable state (see getState); the gradients are copies owned by the search. */
export interface StrongWolfeState {
  phase: 'bracket' | 'zoom';
  f0: number;
  gtd0: number;
  dNorm: number;
  tolChange: number;
  lsIter: number;
  t: number;
  tPrev: number;
  fPrev: number;
  gtdPrev: number;
  insufProgress: boolean;
  low: number;
  high: number;
  g0: Float32Array;
  gPrev: Float32Array;
  bracket: number[];
  bracketF: number[];
  bracketGtd: number[];
  bracketG: Float32Array[];
}

/**
 * The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to `bounds` (default the
 * two points); the bounds' midpoint when the cubic has no real minimiser (torch's _cubic_interpolate).
 */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (!(d2sq >= 0)) return (lo + hi) / 2;
  const d2 = Math.sqrt(d2sq);
  const m = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return Math.min(Math.max(m, lo), hi);
}

const dot = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/**
 * One line search along `d` from a point with loss f0, gradient g0 and slope gtd0 = g0.d < 0. The caller
 * evaluates x0 + t d at `start().t`, then at every `t` that feed() returns, until feed() says done; the
 * accepted point is then x0 + t d with the returned loss and gradient (already evaluated: no extra call).
 * `d` is read, never written, and must not change during the search.
 */
export class StrongWolfe {
  private s: StrongWolfeState;

  constructor(
    private readonly d: Float32Array,
    init: { t: number; f0: number; g0: Float32Array; gtd0: number; tolChange: number } | StrongWolfeState,
  ) {
    if ('phase' in init) {
      this.s = init;
      return;
    }
    let dNorm = 0;
    for (let i = 0; i < d.length; i++) dNorm = Math.max(dNorm, Math.abs(d[i]));
    const g0 = init.g0.slice();
    this.s = {
      phase: 'bracket', f0: init.f0, gtd0: init.gtd0, dNorm, tolChange: init.tolChange, lsIter: 0, t: init.t,
      tPrev: 0, fPrev: init.f0, gtdPrev: init.gtd0, insufProgress: false, low: 0, high: 1, g0, gPrev: g0,
      bracket: [], bracketF: [], bracketGtd: [], bracketG: [],
    };
  }

  /** The first trial step. */
  get t(): number {
    return this.s.t;
  }

  /** Takes the loss and gradient at x0 + t d (the last trial); `g` is copied where it is kept. */
  feed(f: number, g: Float32Array): WolfeStep {
    const s = this.s;
    const gtd = dot(g, this.d);
    return s.phase === 'bracket' ? this.feedBracket(f, g, gtd) : this.feedZoom(f, g, gtd);
  }

  private feedBracket(f: number, g: Float32Array, gtd: number): WolfeStep {
    const s = this.s;
    if (s.lsIter === MAX_LS) {
      // out of evaluations while bracketing: the better of the start and the last trial
      this.setBracket([0, s.t], [s.f0, f], [s.g0, g.slice()], [s.gtd0, gtd]);
      return this.finish();
    }
    const bracketed = () => {
      this.setBracket([s.tPrev, s.t], [s.fPrev, f], [s.gPrev, g.slice()], [s.gtdPrev, gtd]);
      return this.zoom();
    };
    // torch's order: no sufficient decrease (or worse than the last trial) first, then the curvature test
    if (f > s.f0 + C1 * s.t * s.gtd0 || (s.lsIter > 1 && f >= s.fPrev)) return bracketed();
    if (Math.abs(gtd) <= -C2 * s.gtd0) return { done: true, t: s.t, f, g: g.slice() };
    if (gtd >= 0) return bracketed();
    // extrapolate: at least 1% beyond t, at most 10 t
    const next = cubicInterpolate(s.tPrev, s.fPrev, s.gtdPrev, s.t, f, gtd, [s.t + 0.01 * (s.t - s.tPrev), s.t * 10]);
    s.tPrev = s.t;
    s.fPrev = f;
    s.gPrev = g.slice();
    s.gtdPrev = gtd;
    s.t = next;
    s.lsIter++;
    return { done: false, t: next };
  }

  private setBracket(t: number[], f: number[], g: Float32Array[], gtd: number[]): void {
    const s = this.s;
    s.bracket = t;
    s.bracketF = f;
    s.bracketG = g;
    s.bracketGtd = gtd;
    [s.low, s.high] = f[0] <= f[1] ? [0, 1] : [1, 0];
  }

  /** The next zoom trial inside the bracket, or the bracket's low point when the search is over. */
  private zoom(): WolfeStep {
    const s = this.s;
    s.phase = 'zoom';
    const b = s.bracket;
    if (s.lsIter >= MAX_LS || Math.abs(b[1] - b[0]) * s.dNorm < s.tolChange) return this.finish();
    let t = cubicInterpolate(b[0], s.bracketF[0], s.bracketGtd[0], b[1], s.bracketF[1], s.bracketGtd[1]);
    const [lo, hi] = [Math.min(b[0], b[1]), Math.max(b[0], b[1])];
    const eps = 0.1 * (hi - lo);
    if (Math.min(hi - t, t - lo) < eps) {
      // interpolation close to an end: after two such steps in a row, or outside, step 10% inside instead
      if (s.insufProgress || t >= hi || t <= lo) {
        t = Math.abs(t - hi) < Math.abs(t - lo) ? hi - eps : lo + eps;
        s.insufProgress = false;
      } else s.insufProgress = true;
    } else s.insufProgress = false;
    s.t = t;
    s.lsIter++;
    return { done: false, t };
  }

  private feedZoom(f: number, g: Float32Array, gtd: number): WolfeStep {
    const s = this.s;
    const { low, high } = s;
    if (f > s.f0 + C1 * s.t * s.gtd0 || f >= s.bracketF[low]) {
      // not a sufficient decrease, or not below the low end: the trial is the new high end
      s.bracket[high] = s.t;
      s.bracketF[high] = f;
      s.bracketG[high] = g.slice();
      s.bracketGtd[high] = gtd;
      [s.low, s.high] = s.bracketF[0] <= s.bracketF[1] ? [0, 1] : [1, 0];
      return this.zoom();
    }
    const wolfe = Math.abs(gtd) <= -C2 * s.gtd0;
    if (!wolfe && gtd * (s.bracket[high] - s.bracket[low]) >= 0) {
      // the old low end becomes the high end
      s.bracket[high] = s.bracket[low];
      s.bracketF[high] = s.bracketF[low];
      s.bracketG[high] = s.bracketG[low];
      s.bracketGtd[high] = s.bracketGtd[low];
    }
    s.bracket[low] = s.t;
    s.bracketF[low] = f;
    s.bracketG[low] = g.slice();
    s.bracketGtd[low] = gtd;
    return wolfe ? this.finish() : this.zoom();
  }

  private finish(): WolfeStep {
    const s = this.s;
    return { done: true, t: s.bracket[s.low], f: s.bracketF[s.low], g: s.bracketG[s.low] };
  }

  /** The live state (serialise it before the next feed()). */
  getState(): StrongWolfeState {
    return this.s;
  }

  /** Checks a state read back from a file (vectors of length n). */
  static checkState(v: unknown, n: number): StrongWolfeState {
    const who = 'L-BFGS line search';
    if (!isRecord(v) || (v.phase !== 'bracket' && v.phase !== 'zoom')) throw usage(`${who}.setState: not a line-search state`);
    for (const k of ['f0', 'gtd0', 'dNorm', 'tolChange', 'lsIter', 't', 'tPrev', 'fPrev', 'gtdPrev', 'low', 'high'] as const) stateNumber(who, k, v[k]);
    const vec = (x: unknown): x is Float32Array => x instanceof Float32Array && x.length === n;
    const nums = (x: unknown): x is number[] => Array.isArray(x) && x.length <= 2 && x.every((y) => typeof y === 'number' && !Number.isNaN(y));
    if (!vec(v.g0) || !vec(v.gPrev)) throw usage(`${who}.setState: g0 and gPrev must be Float32Arrays of length ${n}`);
    if (!nums(v.bracket) || !nums(v.bracketF) || !nums(v.bracketGtd) || !Array.isArray(v.bracketG) || !v.bracketG.every(vec)) {
      throw usage(`${who}.setState: the bracket must be at most two steps with their losses, slopes and gradients`);
    }
    const len = v.bracket.length;
    if (v.bracketF.length !== len || v.bracketGtd.length !== len || v.bracketG.length !== len || (v.phase === 'zoom' && len !== 2)) {
      throw usage(`${who}.setState: the bracket's arrays must have the same length (2 when zooming)`);
    }
    if (typeof v.insufProgress !== 'boolean') throw usage(`${who}.setState: insufProgress must be a boolean`);
    return v as unknown as StrongWolfeState;
  }
}
