// Optimisers: Adam and L-BFGS against hand-computed steps, known minima and trajectories recorded
// from torch 1.13 (test/fixtures/lbfgs-trajectory.json, written by tools/make-lbfgs-fixture.py); the
// best-iterate keeper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Adam, BestIterate, Lbfgs, createOptimizer, type AdamState, type LbfgsState, type Optimizer } from '../src/optim/index.js';
import { StyleloomError } from '../src/errors.js';
import { run, type Problem } from './helpers/optim.js';

interface Fixture {
  torch: string;
  quartic: { dim: number; A: number[]; b: number[]; c: number; x0: number[] };
  lbfgs: { lr: number; historySize: number; xs: number[][]; losses: number[] };
  adam: { lr: number; betas: [number, number]; eps: number; xs: number[][]; losses: number[] };
  rosenbrock: { x0: number[]; historySize: number; xs: number[][]; losses: number[] };
  scripted: { historySize: number; x0: number[]; grads: number[][]; xs: number[][]; pairs: number[] };
  /** Every point torch's strong-Wolfe L-BFGS evaluated, in order, from the problem's start. */
  wolfe: Record<'quartic' | 'rosenbrock', { historySize: number; xs: number[][]; losses: number[] }>;
}

const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/lbfgs-trajectory.json', import.meta.url), 'utf8'),
) as Fixture;


/** f = 0.5 x'Ax - b'x + 0.25 c sum x^4, grad = Ax - b + c x^3, evaluated like the fixture (float32 out). */
function quartic(): Problem {
  const { dim, A, b, c } = fixture.quartic;
  const a = Float32Array.from(A);
  const bb = Float32Array.from(b);
  const cf = Math.fround(c);
  return (x, grad) => {
    let loss = 0;
    for (let i = 0; i < dim; i++) {
      let ax = 0;
      for (let j = 0; j < dim; j++) ax += a[i * dim + j] * x[j];
      const xi = x[i];
      loss += 0.5 * xi * ax - bb[i] * xi + 0.25 * cf * xi ** 4;
      grad[i] = Math.fround(ax) - bb[i] + cf * xi ** 3;
    }
    return loss;
  };
}

/** (1 - u)^2 + 100 (v - u^2)^2 */
const rosenbrock: Problem = (x, grad) => {
  const u = x[0];
  const v = x[1];
  const w = Math.fround(v - u * u);
  grad[0] = -2 * (1 - u) - 400 * u * w;
  grad[1] = 200 * w;
  return (1 - u) ** 2 + 100 * w * w;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function isUsageError(e: unknown): boolean {
  return e instanceof StyleloomError && e.code === 'E_USAGE';
}

/**
 * Replays a torch trajectory. Tolerance: torch rounds to float32 after every tensor op and sums dot
 * products in float32 (BLAS order); we round once per element and sum in float64, so each step differs
 * by a few float32 ulps (~1e-7 relative) and L-BFGS amplifies that mildly through its curvature pairs.
 * 1e-4 of the trajectory's scale is far above that noise and far below any difference in the algorithm
 * (a wrong pair order, scaling or step rule changes x by 1e-2 or more within a few steps).
 */
function assertTrajectory(name: string, got: Float32Array[], want: number[][], tol = 1e-4): void {
  const scale = Math.max(1, ...want.map(maxAbs));
  for (let k = 0; k < want.length; k++) {
    const diff = maxAbsDiff(got[k], want[k]);
    assert.ok(diff <= tol * scale, `${name}: step ${k + 1} differs from torch by ${diff} (scale ${scale})`);
  }
}

// ---------------------------------------------------------------- Adam

test('Adam: the first step moves each coordinate by lr * sign(g), the second matches the formula', () => {
  const lr = 0.5;
  const opt = new Adam({ lr });
  const x = Float32Array.from([1, -2, 3, 0.25]);
  const g1 = Float32Array.from([0.3, -4, 1e-3, -2e3]);
  const x0 = x.slice();
  assert.equal(opt.step(x, 0, g1), true);
  for (let i = 0; i < x.length; i++) {
    // m = 0.1 g, v = 0.001 g^2, so m/bc1 / (sqrt(v/bc2) + eps) = g / (|g| + eps)
    const want = x0[i] - (lr * g1[i]) / (Math.abs(g1[i]) + 1e-8);
    assert.ok(Math.abs(x[i] - want) <= 1e-6, `coordinate ${i}: ${x[i]} vs ${want}`);
    assert.ok(Math.abs(Math.abs(x[i] - x0[i]) - lr) <= 1e-5 * lr + 2e-7);
  }
  const g2 = Float32Array.from([-0.1, -1, 2e-3, 1e3]);
  const x1 = x.slice();
  opt.step(x, 0, g2);
  for (let i = 0; i < x.length; i++) {
    const m = 0.9 * 0.1 * g1[i] + 0.1 * g2[i];
    const v = 0.999 * 0.001 * g1[i] ** 2 + 0.001 * g2[i] ** 2;
    const want = x1[i] - ((lr / (1 - 0.9 ** 2)) * m) / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
    assert.ok(Math.abs(x[i] - want) <= 1e-5, `coordinate ${i}: ${x[i]} vs ${want}`);
  }
  const st = opt.getState();
  assert.equal(st.t, 2);
});

test('Adam converges on 1-D and N-D quadratics', async () => {
  // 1-D: 0.5 * 4 (x - 3)^2
  const f1: Problem = (x, g) => {
    g[0] = 4 * (x[0] - 3);
    return 2 * (x[0] - 3) ** 2;
  };
  const r1 = await run(new Adam({ lr: 0.1 }), f1, [-5], 2000);
  assert.ok(Math.abs(r1.x[0] - 3) < 1e-3, `1-D: ${r1.x[0]}`);
  // N-D: sum a_i (x_i - c_i)^2 / 2 with curvatures spanning 1e-2 .. 1e2
  const n = 16;
  const a = Float64Array.from({ length: n }, (_, i) => 10 ** (-2 + (4 * i) / (n - 1)));
  const c = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 5);
  const fn: Problem = (x, g) => {
    let l = 0;
    for (let i = 0; i < n; i++) {
      g[i] = a[i] * (x[i] - c[i]);
      l += 0.5 * a[i] * (x[i] - c[i]) ** 2;
    }
    return l;
  };
  const rn = await run(new Adam({ lr: 0.05 }), fn, new Float32Array(n), 5000);
  assert.ok(maxAbsDiff(rn.x, c) < 1e-2, `N-D: max error ${maxAbsDiff(rn.x, c)}`);
  assert.ok(rn.losses[rn.losses.length - 1] < 1e-5 * rn.losses[0]);
});

test(`Adam follows torch's trajectory (fixture from torch ${fixture.torch})`, async () => {
  const { lr, betas, eps, xs, losses } = fixture.adam;
  const r = await run(new Adam({ lr, beta1: betas[0], beta2: betas[1], eps }), quartic(), fixture.quartic.x0, xs.length);
  assertTrajectory('Adam', r.xs, xs, 1e-5);
  for (let k = 0; k < losses.length; k++) {
    assert.ok(Math.abs(r.losses[k] - losses[k]) <= 1e-4 * Math.abs(losses[k]) + 1e-4, `loss ${k}`);
  }
});

test('Adam getState/setState continues identically and independently', async () => {
  const f = quartic();
  const a = new Adam({ lr: 0.1 });
  const r = await run(a, f, fixture.quartic.x0, 7);
  const b = new Adam({ lr: 0.1 });
  b.setState(a.getState());
  const xa = r.x.slice();
  const xb = r.x.slice();
  const g = new Float32Array(xa.length);
  for (let k = 0; k < 10; k++) {
    a.step(xa, f(xa, g), g);
    b.step(xb, f(xb, g), g);
  }
  assert.deepEqual(xb, xa);
  const sa = a.getState();
  const sb = b.getState();
  assert.notEqual(sa.m, sb.m); // copied, not shared
  assert.deepEqual(sb, sa);
  // a fresh state round-trips too
  const c = new Adam();
  c.setState(new Adam().getState());
  assert.equal((c.getState() as AdamState).t, 0);
});

test('Adam validates its options and state', () => {
  for (const o of [{ lr: 0 }, { lr: -1 }, { lr: NaN }, { lr: Infinity }, { beta1: 1 }, { beta2: -0.1 }, { eps: -1 }]) {
    assert.throws(() => new Adam(o), isUsageError, JSON.stringify(o));
  }
  const a = new Adam();
  assert.throws(() => a.step(new Float32Array(3), 0, new Float32Array(2)), isUsageError);
  a.step(new Float32Array(3), 0, new Float32Array(3));
  assert.throws(() => a.step(new Float32Array(4), 0, new Float32Array(4)), isUsageError);
  assert.throws(() => a.setState({ kind: 'lbfgs' }), isUsageError);
  assert.throws(() => a.setState({ kind: 'adam', t: 1, m: new Float32Array(2), v: new Float32Array(3) }), isUsageError);
});

// ---------------------------------------------------------------- L-BFGS

test('L-BFGS: first step is -g * min(1, 1/|g|_1), later steps have length lr', () => {
  const opt = new Lbfgs();
  const x = Float32Array.from([1, 1]);
  assert.equal(opt.step(x, 0, Float32Array.from([3, -1])), true);
  assert.deepEqual(Array.from(x), [1 - 3 / 4, 1 + 1 / 4]);
  const y = Float32Array.from([0, 0]);
  const small = new Lbfgs();
  small.step(y, 0, Float32Array.from([0.25, -0.5])); // |g|_1 < 1: t = 1
  assert.deepEqual(Array.from(y), [-0.25, 0.5]);
});

test('L-BFGS minimises an ill-conditioned quadratic far faster than gradient descent', () => {
  // f = sum a_i (x_i - c_i)^2 / 2, a = 1..100, dim 20; the minimum is 0 at x = c
  const n = 20;
  const a = Float64Array.from({ length: n }, (_, i) => 1 + (99 * i) / (n - 1));
  const c = Float64Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i) * 2));
  const f: Problem = (x, g) => {
    let l = 0;
    for (let i = 0; i < n; i++) {
      g[i] = a[i] * (x[i] - c[i]);
      l += 0.5 * a[i] * (x[i] - c[i]) ** 2;
    }
    return l;
  };
  /** iterations until the loss evaluated after a step is within 1e-6 of the minimum */
  const itersTo = (opt: Optimizer, maxIters: number): { iters: number; x: Float32Array } => {
    const x = new Float32Array(n);
    const g = new Float32Array(n);
    for (let k = 1; k <= maxIters; k++) {
      opt.step(x, f(x, g), g);
      if (f(x, g) <= 1e-6) return { iters: k, x };
    }
    return { iters: Infinity, x };
  };
  const lbfgs = new Lbfgs();
  const { iters: lbfgsIters, x } = itersTo(lbfgs, 200);
  // gradient descent with the best fixed step for this spectrum, 2 / (L + mu): ~500 iterations
  const gd: Optimizer = {
    step(x, _l, g) {
      for (let i = 0; i < n; i++) x[i] -= (2 / (100 + 1)) * g[i];
      return true;
    },
    getState: () => null,
    setState: () => undefined,
  };
  const { iters: gdIters } = itersTo(gd, 5000);
  assert.ok(lbfgsIters <= 30, `L-BFGS needed ${lbfgsIters} iterations`); // torch: 22
  assert.ok(gdIters >= 10 * lbfgsIters, `gradient descent ${gdIters} vs L-BFGS ${lbfgsIters}`);
  // Carry on: torch stops updating once g.d > -1e-9 (here at |x - c| ~ 3e-6, loss ~ 3e-10) and stays there.
  const g = new Float32Array(n);
  for (let k = 0; k < 20; k++) lbfgs.step(x, f(x, g), g);
  assert.ok(f(x, g) <= 1e-9, `loss ${f(x, g)}`);
  assert.ok(maxAbsDiff(x, c) <= 1e-5, `max error ${maxAbsDiff(x, c)}`);
  assert.equal(lbfgs.step(x, f(x, g), g), false);
});

test(`L-BFGS follows torch's trajectory with history 5 (fixture from torch ${fixture.torch})`, async () => {
  const { lr, historySize, xs, losses } = fixture.lbfgs;
  const r = await run(new Lbfgs({ lr, historySize }), quartic(), fixture.quartic.x0, xs.length);
  assertTrajectory('L-BFGS', r.xs, xs);
  for (let k = 0; k < losses.length; k++) {
    assert.ok(Math.abs(r.losses[k] - losses[k]) <= 1e-4 * Math.abs(losses[k]) + 1e-4, `loss ${k}`);
  }
});

test("L-BFGS on Rosenbrock from (-1.2, 1) without line search: torch's path and end point", async () => {
  const { x0, historySize, xs } = fixture.rosenbrock;
  const r = await run(new Lbfgs({ historySize }), rosenbrock, x0, xs.length);
  // Without a line search the path is erratic (it even leaves for x ~ 26 and comes back) and amplifies
  // float32 rounding differences (1e-7 at step 1, 1e-5 at step 20, O(1) by step 40), so compare the early
  // path only; then both torch (~105 steps) and we (~85) settle next to (1, 1) and stop updating through
  // the g.d > -1e-9 test: torch at 7e-7 from (1, 1), we at 1.1e-5 here; where exactly is down to rounding.
  assertTrajectory('Rosenbrock', r.xs.slice(0, 20), xs.slice(0, 20));
  const tEnd = xs[xs.length - 1];
  assert.ok(maxAbsDiff(tEnd, [1, 1]) < 2e-5, `torch itself ends at ${tEnd}`);
  assert.ok(maxAbsDiff(r.x, [1, 1]) < 2e-5, `ended at ${Array.from(r.x)}`);
  assert.ok(r.losses[r.losses.length - 1] < 1e-9);
  assert.deepEqual(r.xs[r.xs.length - 50], r.x); // converged: the last 50 steps made no update
});

test("L-BFGS replays torch's bookkeeping on scripted gradients (zero, tiny, rejected pairs)", () => {
  const { historySize, x0, grads, xs, pairs } = fixture.scripted;
  const opt = new Lbfgs({ historySize });
  const x = Float32Array.from(x0);
  const got: Float32Array[] = [];
  const updated: boolean[] = [];
  const held: number[] = [];
  for (const g of grads) {
    updated.push(opt.step(x, 0, Float32Array.from(g)));
    got.push(x.slice());
    held.push((opt.getState() as LbfgsState).dirs.length);
  }
  assertTrajectory('scripted', got, xs);
  assert.deepEqual(held, pairs);
  // step 4 has a zero gradient, step 5 a tiny one (|g.d| < 1e-9): neither moves x
  assert.deepEqual(updated.slice(0, 6), [true, true, true, false, false, true]);
});

test('L-BFGS makes no update for a zero gradient or when g.d > -toleranceChange', () => {
  const opt = new Lbfgs();
  const x = Float32Array.from([1, 2, 3]);
  assert.equal(opt.step(x, 5, new Float32Array(3)), false);
  assert.deepEqual(Array.from(x), [1, 2, 3]);
  assert.equal((opt.getState() as LbfgsState).nIter, 0); // torch returns before counting the iteration
  // max|g| = 1e-5 > 1e-7, but g.d = -|g|^2 = -3e-10 > -1e-9
  assert.equal(opt.step(x, 5, Float32Array.from([1e-5, -1e-5, 1e-5])), false);
  assert.deepEqual(Array.from(x), [1, 2, 3]);
  assert.equal((opt.getState() as LbfgsState).nIter, 1);
  // a NaN gradient is not "converged"
  const y = Float32Array.from([1]);
  new Lbfgs().step(y, 0, Float32Array.from([NaN]));
  assert.ok(Number.isNaN(y[0]));
});

test('L-BFGS getState/setState continues identically and independently', async () => {
  const f = quartic();
  const a = new Lbfgs({ historySize: 3 });
  const r = await run(a, f, fixture.quartic.x0, 6); // history already full: pairs are being dropped
  const s = a.getState() as LbfgsState;
  assert.equal(s.dirs.length, 3);
  const b = new Lbfgs({ historySize: 3 });
  b.setState(s);
  const xa = r.x.slice();
  const xb = r.x.slice();
  const g = new Float32Array(xa.length);
  for (let k = 0; k < 10; k++) {
    a.step(xa, f(xa, g), g);
    b.step(xb, f(xb, g), g);
  }
  assert.deepEqual(xb, xa);
  const sa = a.getState() as LbfgsState;
  const sb = b.getState() as LbfgsState;
  assert.notEqual(sa.d, sb.d);
  assert.deepEqual(sb, sa);
  assert.throws(() => new Lbfgs({ historySize: 2 }).setState(sa), isUsageError);
  assert.throws(() => b.setState({ ...sa, prevGrad: new Float32Array(1) }), isUsageError);
  assert.throws(() => b.setState({ kind: 'adam' }), isUsageError);
});

// ---------------------------------------------------------------- L-BFGS with the strong-Wolfe line search

/** The points a run evaluates: the start, then x after each step (the next point to evaluate). */
function evaluated(r: { xs: Float32Array[] }, x0: ArrayLike<number>): Float32Array[] {
  return [Float32Array.from(x0), ...r.xs];
}

test(`L-BFGS with strong-Wolfe line search evaluates torch's points on the quartic, trial points included (torch ${fixture.torch})`, async () => {
  const { historySize, xs, losses } = fixture.wolfe.quartic;
  const r = await run(new Lbfgs({ historySize, lineSearch: 'strong-wolfe' }), quartic(), fixture.quartic.x0, xs.length - 1);
  assertTrajectory('strong-Wolfe quartic', evaluated(r, fixture.quartic.x0), xs);
  for (let k = 0; k < r.losses.length; k++) assert.ok(Math.abs(r.losses[k] - losses[k]) <= 1e-4 * Math.abs(losses[k]) + 1e-4, `loss ${k}`);
  // the search did reject points (the loss goes up at evaluation 11) and zoomed back in
  assert.ok(losses.some((l, k) => k > 0 && l > losses[k - 1]), 'the fixture has rejected trial points');
});

test("L-BFGS with strong-Wolfe line search on Rosenbrock follows torch's evaluations to the minimum", async () => {
  const { historySize, xs, losses } = fixture.wolfe.rosenbrock;
  const x0 = fixture.rosenbrock.x0;
  const r = await run(new Lbfgs({ historySize, lineSearch: 'strong-wolfe' }), rosenbrock, x0, xs.length - 1);
  // float32 rounding differences grow from 1e-7 (evaluation 1) to 1e-4 (20) and ~5e-3 (30): the first 20
  // points are compared closely; up to 30 the search must reject the same trial points (loss up) as torch's
  const ours = evaluated(r, x0);
  assertTrajectory('strong-Wolfe Rosenbrock', ours.slice(0, 20), xs.slice(0, 20), 2e-4);
  const ups = (l: number[]) => l.slice(0, 31).flatMap((v, k) => (k > 0 && v > l[k - 1] ? [k] : []));
  assert.deepEqual(ups(r.losses), ups(losses));
  assert.ok(ups(losses).length >= 4, `torch rejects trial points at ${ups(losses).join(', ')}`);
  assert.ok(losses[losses.length - 1] < 1e-9 && r.losses[r.losses.length - 1] < 1e-8, `ends at ${r.losses.at(-1)}`);
  // without the line search the same budget does not get there
  const plain = await run(new Lbfgs({ historySize }), rosenbrock, x0, xs.length - 1);
  assert.ok(plain.losses[plain.losses.length - 1] > 1e3 * r.losses[r.losses.length - 1], `no line search: ${plain.losses.at(-1)}`);
});

test('L-BFGS with strong-Wolfe line search resumes bit-for-bit from a state taken mid-search', async () => {
  const { historySize, xs } = fixture.wolfe.rosenbrock;
  const x0 = fixture.rosenbrock.x0;
  const whole = await run(new Lbfgs({ historySize, lineSearch: 'strong-wolfe' }), rosenbrock, x0, xs.length - 1);
  let checked = 0;
  for (const cut of [2, 11, 15, 22]) {
    const a = new Lbfgs({ historySize, lineSearch: 'strong-wolfe' });
    const first = await run(a, rosenbrock, x0, cut);
    const st = a.getState();
    if (st.search) checked++;
    const b = new Lbfgs({ historySize, lineSearch: 'strong-wolfe' });
    b.setState(structuredClone(st));
    const rest = await run(b, rosenbrock, first.x, xs.length - 1 - cut);
    assert.deepEqual([...first.xs, ...rest.xs].map((v) => Array.from(v)), whole.xs.map((v) => Array.from(v)), `cut after ${cut}`);
  }
  assert.ok(checked >= 2, `at least two cuts fall inside a line search (${checked})`);
  // a mid-search state does not go into an optimiser without a line search
  const a = new Lbfgs({ historySize, lineSearch: 'strong-wolfe' });
  await run(a, rosenbrock, x0, 2);
  assert.throws(() => new Lbfgs({ historySize }).setState(a.getState()), isUsageError);
  assert.throws(() => new Lbfgs({ lineSearch: 'backtracking' as never }), isUsageError);
});

test('L-BFGS validates its options and inputs', () => {
  for (const o of [{ lr: 0 }, { lr: NaN }, { historySize: 0 }, { historySize: 2.5 }, { toleranceGrad: -1 }, { toleranceChange: NaN }]) {
    assert.throws(() => new Lbfgs(o), isUsageError, JSON.stringify(o));
  }
  const opt = new Lbfgs();
  assert.throws(() => opt.step(new Float32Array(2), 0, new Float32Array(3)), isUsageError);
  opt.step(new Float32Array(2), 0, Float32Array.from([1, 1]));
  assert.throws(() => opt.step(new Float32Array(3), 0, Float32Array.from([1, 1, 1])), isUsageError);
});

// ---------------------------------------------------------------- factory

test('createOptimizer: peer settings, lr validated', () => {
  const adam = createOptimizer('adam', {});
  assert.ok(adam instanceof Adam);
  assert.equal(adam.lr, 10);
  assert.equal((createOptimizer('adam', { lr: 2.5 }) as Adam).lr, 2.5);
  const lbfgs = createOptimizer('lbfgs', { lr: 10 });
  assert.ok(lbfgs instanceof Lbfgs);
  assert.equal(lbfgs.lr, 1);
  assert.equal(lbfgs.historySize, 100);
  for (const lr of [0, -1, NaN, Infinity]) {
    assert.throws(() => createOptimizer('adam', { lr }), isUsageError);
    assert.throws(() => createOptimizer('lbfgs', { lr }), isUsageError);
  }
  assert.throws(() => createOptimizer('sgd' as 'adam', {}), isUsageError);
});

test('BestIterate keeps a copy of the lowest-scoring iterate offered (the earliest of equal ones, never NaN)', () => {
  const best = new BestIterate<{ total: number; tag: string }>((l) => l.total);
  assert.equal(best.get(), undefined);
  const x = new Float32Array([1, 2]);
  assert.equal(best.offer(x, { total: 5, tag: 'a' }), true);
  x[0] = 9; // the optimiser's in-place step
  assert.equal(best.offer(x, { total: 7, tag: 'b' }), false);
  assert.equal(best.offer(x, { total: Number.NaN, tag: 'nan' }), false);
  assert.equal(best.offer(x, { total: 5, tag: 'tie' }), false);
  assert.deepEqual([...best.get()!.x], [1, 2]);
  assert.equal(best.get()!.info.tag, 'a');
  assert.equal(best.offer(x, { total: 3, tag: 'c' }), true);
  assert.deepEqual([...best.get()!.x], [9, 2]);
  const copy = new BestIterate<{ total: number; tag: string }>((l) => l.total);
  const saved = { x: new Float32Array([4, 4]), info: { total: 2, tag: 'saved' } };
  copy.set(saved);
  saved.x[0] = 0;
  assert.deepEqual([...copy.get()!.x], [4, 4], 'set() copies');
  assert.equal(copy.offer(x, { total: 2, tag: 'later' }), false, 'a restored best still wins ties');
});
