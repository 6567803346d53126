// L-BFGS with the compact-form direction on onnxruntime (LbfgsCompact) against the two-loop recursion
// in JavaScript (Lbfgs, itself checked against torch in optim.test.ts): the same iterates within float32
// rounding on problems of a few thousand unknowns, through a full history that wraps, rejected pairs,
// the line search and a resume from either kind's state; node's choice between them by size.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Lbfgs, LbfgsCompact, createPairProducts, type LbfgsOptions, type LbfgsState, type PairProducts } from '../src/optim/index.js';
import { COMPACT_LBFGS_MIN, createNodeOptimizer } from '../src/transfer/node-optimizer.js';
import { run, type Problem } from './helpers/optim.js';

let products: PairProducts;
before(async () => {
  const { nodeRuntime } = await import('../src/runtime/session.js');
  products = await createPairProducts(nodeRuntime, 2);
});
after(() => products.release());

/** A seeded generator in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** f = ½ Σ a_i (x_i − c_i)² + ½ Σ_j (u_j·x)² with a spread over four decades and two dense directions. */
function quadratic(n: number, seed: number): Problem {
  const r = rng(seed);
  const a = Float64Array.from({ length: n }, () => 10 ** (4 * r() - 2));
  const c = Float64Array.from({ length: n }, () => 2 * r() - 1);
  const u = [0, 1].map(() => Float64Array.from({ length: n }, () => (2 * r() - 1) / Math.sqrt(n)));
  return (x, g) => {
    const proj = u.map((v) => v.reduce((acc, vi, i) => acc + vi * x[i], 0));
    let f = 0.5 * proj.reduce((acc, p) => acc + p * p, 0);
    for (let i = 0; i < n; i++) {
      const e = x[i] - c[i];
      f += 0.5 * a[i] * e * e;
      g[i] = a[i] * e + u[0][i] * proj[0] + u[1][i] * proj[1];
    }
    return f;
  };
}

/** f = Σ cos(x_i) + 0.05 x_i²: concave near 0, so the first steps from there fail the curvature test. */
function bumpy(n: number): Problem {
  return (x, g) => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      f += Math.cos(x[i]) + 0.05 * x[i] * x[i];
      g[i] = -Math.sin(x[i]) + 0.1 * x[i];
    }
    return f;
  };
}

function start(n: number, seed: number, scale = 3): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
}

/** Largest |a − b| over the iterates, relative to the iterates' largest |a|. */
function maxRel(as: Float32Array[], bs: Float32Array[]): number {
  let diff = 0;
  let scale = 0;
  as.forEach((a, k) => {
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - bs[k][i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
  });
  return diff / scale;
}

async function both(f: Problem, x0: Float32Array, steps: number, opts: LbfgsOptions) {
  const js = new Lbfgs(opts);
  const compact = new LbfgsCompact(products, opts);
  const a = await run(js, f, x0, steps);
  const b = await run(compact, f, x0, steps);
  return { js, compact, a, b };
}

test('compact form: the two-loop iterates on an ill-conditioned quadratic (n = 4000), history wrapping', async () => {
  const n = 4000;
  const f = quadratic(n, 7);
  const { js, compact, a, b } = await both(f, start(n, 1), 40, { historySize: 6 });
  const rel = maxRel(a.xs, b.xs);
  console.log(`# max rel difference of iterates ${rel.toExponential(2)}; loss ${a.losses[0].toFixed(1)} -> ${a.losses.at(-1)!.toFixed(4)}`);
  assert.ok(rel < 1e-4, `iterates differ by ${rel}`);
  assert.ok(a.losses.at(-1)! < 1e-2 * a.losses[0], 'the quadratic is minimised');
  assert.equal(js.getState().dirs.length, 6);
  assert.equal(compact.getState().dirs.length, 6);
  for (let k = 0; k < a.losses.length; k++) assert.ok(Math.abs(a.losses[k] - b.losses[k]) <= 1e-5 * a.losses[0], `loss ${k}: ${a.losses[k]} vs ${b.losses[k]}`);
});

test('compact form: rejected curvature pairs on a non-convex problem leave both kinds alike', async () => {
  // The trajectory is chaotic (steps far into the cosine's other wells), so float32 differences grow
  // ~3x a step: the compact form shadows the two-loop instead, stepping from the same points, and each
  // step's displacement is compared.
  const n = 3000;
  const f = bumpy(n);
  const opts = { historySize: 5 };
  const js = new Lbfgs(opts);
  const compact = new LbfgsCompact(products, opts);
  const x = start(n, 3, 0.5);
  const g = new Float32Array(n);
  let rejected = 0;
  let prev = 0;
  let worst = 0;
  for (let k = 0; k < 25; k++) {
    const loss = f(x, g);
    const old = x.slice();
    const xc = x.slice();
    js.step(x, loss, g);
    await compact.step(xc, loss, g);
    // the two's next points, relative to the step the two-loop took
    let diff = 0;
    let step = 0;
    for (let i = 0; i < n; i++) {
      diff = Math.max(diff, Math.abs(xc[i] - x[i]));
      step = Math.max(step, Math.abs(x[i] - old[i]));
    }
    worst = Math.max(worst, diff / Math.max(step, 1e-12));
    const k2 = js.getState().dirs.length;
    if (k > 0 && k2 === prev && k2 < opts.historySize) rejected++;
    assert.equal(compact.getState().dirs.length, k2, `pairs kept after step ${k}`);
    prev = k2;
  }
  console.log(`# ${rejected} rejected pairs; largest difference of the two's next point ${worst.toExponential(2)} (relative)`);
  assert.ok(rejected >= 1, 'the problem makes at least one pair fail the curvature test');
  assert.ok(worst < 1e-4, `the next points differ by ${worst}`);
  for (const v of x) assert.ok(Number.isFinite(v));
});

test('compact form with the strong-Wolfe line search: the same trial points as the two-loop', async () => {
  const n = 2000;
  const f = quadratic(n, 11);
  const { a, b } = await both(f, start(n, 5), 30, { historySize: 4, lineSearch: 'strong-wolfe' });
  const rel = maxRel(a.xs, b.xs);
  assert.ok(rel < 1e-4, `trial points differ by ${rel}`);
});

test('compact form resumes from its own state and from the two-loop state (the checkpoint format is one)', async () => {
  const n = 2500;
  const f = quadratic(n, 13);
  const opts = { historySize: 5 };
  const whole = await run(new LbfgsCompact(products, opts), f, start(n, 9), 20);
  for (const First of [LbfgsCompact, Lbfgs] as const) {
    const first = First === Lbfgs ? new Lbfgs(opts) : new LbfgsCompact(products, opts);
    const x = start(n, 9);
    const head = await run(first, f, x, 12);
    // what a checkpoint does: copy the vectors out before anything else steps
    const st = first.getState();
    const saved: LbfgsState = { ...st, d: st.d.slice(), prevGrad: st.prevGrad.slice(), dirs: st.dirs.map((v) => v.slice()), stps: st.stps.map((v) => v.slice()) };
    const second = new LbfgsCompact(products, opts);
    second.setState(saved);
    const tail = await run(second, f, head.x, 8);
    const rel = maxRel(whole.xs, [...head.xs, ...tail.xs]);
    assert.ok(rel < 1e-4, `resumed from ${First.name}: iterates differ by ${rel}`);
    assert.equal(second.getState().dirs.length, 5);
  }
});

test('node picks the compact form for L-BFGS from COMPACT_LBFGS_MIN unknowns, the two-loop below, Adam as ever', async () => {
  const big = await createNodeOptimizer('lbfgs', {}, COMPACT_LBFGS_MIN, 1);
  const small = await createNodeOptimizer('lbfgs', {}, COMPACT_LBFGS_MIN - 1, 1);
  const adam = await createNodeOptimizer('adam', {}, COMPACT_LBFGS_MIN, 1);
  try {
    assert.ok(big instanceof LbfgsCompact);
    assert.ok(small instanceof Lbfgs);
    assert.equal(adam.release, undefined);
    // the big one works at its size: one steepest step, then a compact-form step
    const n = COMPACT_LBFGS_MIN;
    const f = quadratic(n, 17);
    const x = start(n, 2);
    const { losses } = await run(big, f, x, 4);
    assert.ok(losses[3] < losses[0], `${losses}`);
  } finally {
    await big.release?.();
  }
});
