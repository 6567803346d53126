// Seeded PRNG: reproducible streams, distinct seeds give distinct streams, and normal() is N(0, 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, randn } from '../src/util/rng.js';
import { StyleloomError } from '../src/errors.js';

// Recorded from this implementation (xoshiro128** itself was checked against the reference outputs for
// state {1, 2, 3, 4}: 11520, 0, 5927040, 70819200, ...); a change means seeded noise inits change.
const PINNED_U32_SEED0 = [4187458251, 2444602982, 3872279642];
const PINNED_RANDN_SEED1 = [0.7004489302635193, -1.663118839263916, 0.5621641278266907, -2.6972713470458984];

test('the same seed gives the same sequence', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 1000; i++) assert.equal(a.nextUint32(), b.nextUint32());
  assert.deepEqual(randn(1000, 7), randn(1000, 7));
  // a prefix of a longer draw is the shorter draw
  assert.deepEqual(randn(10, 7), randn(11, 7).subarray(0, 10));
});

test('pinned values: the stream never changes across versions or platforms', () => {
  const r = new Rng(0);
  const u = [r.nextUint32(), r.nextUint32(), r.nextUint32()];
  assert.deepEqual(u, PINNED_U32_SEED0);
  assert.deepEqual(Array.from(randn(4, 1)), PINNED_RANDN_SEED1);
});

test('different seeds give different sequences', () => {
  const seeds = [0, 1, 2, -1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER];
  const firsts = seeds.map((s) => {
    const r = new Rng(s);
    return [r.nextUint32(), r.nextUint32()].join(',');
  });
  assert.equal(new Set(firsts).size, seeds.length);
  const a = randn(100, 1);
  const b = randn(100, 2);
  let same = 0;
  for (let i = 0; i < 100; i++) if (a[i] === b[i]) same++;
  assert.equal(same, 0);
});

test('nextFloat is in [0, 1) and uniform', () => {
  const r = new Rng(3);
  const n = 100000;
  const bins = new Array<number>(10).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const u = r.nextFloat();
    assert.ok(u >= 0 && u < 1);
    sum += u;
    bins[Math.floor(u * 10)]++;
  }
  assert.ok(Math.abs(sum / n - 0.5) < 0.005);
  for (const c of bins) assert.ok(Math.abs(c - n / 10) < 600, `bin count ${c}`); // ~6 sigma
});

test('normal() has mean 0 and variance 1 over 1e5 samples', () => {
  const r = new Rng(12345);
  const n = 100000;
  let s1 = 0;
  let s2 = 0;
  let s4 = 0;
  let within1 = 0;
  for (let i = 0; i < n; i++) {
    const z = r.normal();
    assert.ok(Number.isFinite(z));
    s1 += z;
    s2 += z * z;
    s4 += z ** 4;
    if (Math.abs(z) < 1) within1++;
  }
  const mean = s1 / n;
  const variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`); // sd of the mean: 0.003
  assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`); // sd: 0.0045
  assert.ok(Math.abs(s4 / n - 3) < 0.15, `fourth moment ${s4 / n}`); // Gaussian: 3
  assert.ok(Math.abs(within1 / n - 0.6827) < 0.01, `P(|z| < 1) = ${within1 / n}`);
});

test('invalid seeds and sizes are usage errors', () => {
  const usage = (e: unknown) => e instanceof StyleloomError && e.code === 'E_USAGE';
  for (const s of [1.5, NaN, Infinity, 2 ** 60]) assert.throws(() => new Rng(s), usage, String(s));
  assert.throws(() => randn(-1, 0), usage);
  assert.throws(() => randn(2.5, 0), usage);
  assert.equal(randn(0, 0).length, 0);
});
