// The audio loss graph and stylizeAudio(): the 1-D conv + ReLU + content and time-normalised Gram terms
// and their gradient against finite differences (float64 reference) and onnxruntime, the losses against
// the peer's on the same tiny sounds, the synthetic transfer (chirp in the style of two tones), texture
// synthesis, cancellation and the option rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAudioLossGraph, buildAudioTargetGraph } from '../src/audio/loss-graph.js';
import type { FilterBank } from '../src/audio/filters.js';
import { melMatrix } from '../src/audio/mel.js';
import { stylizeAudio } from '../src/audio/stylize-audio.js';
import { evaluate } from '../src/graph/reference.js';
import { toOnnx } from '../src/graph/onnx-export.js';
import { createRunner } from '../src/runtime/session.js';
import { isStyleloomError } from '../src/errors.js';
import { randn } from './helpers/rand.js';
import { maxRelErr } from './helpers/fixtures.js';
import { chirp, energyNear, tones } from './helpers/sounds.js';

const SR = 8000;
const TINY = { sr: SR, nFft: 256, hop: 64, threads: 1 } as const;
const content = { samples: chirp(SR, 0.5), sampleRate: SR };
const style = { samples: tones(SR, 0.6, [500, 1500]), sampleRate: SR };

function tinyBanks(bins: number, filters: number, widths: number[]): FilterBank[] {
  return widths.map((width, k) => ({ filters, bins, width, weight: randn(filters * bins * width, 40 + k, 0.5) }));
}

test("the audio loss's gradient matches finite differences and onnxruntime (two banks, widths 2 and 3)", async () => {
  const [bins, frames, filters] = [5, 7, 3];
  const banks = tinyBanks(bins, filters, [2, 3]);
  // targets of a random content and style spectrogram through the target graph (reference evaluator)
  const tg = buildAudioTargetGraph(banks, bins, frames, [9]);
  const c = randn(bins * frames, 1, 1);
  const s = randn(bins * 9, 2, 1);
  const outs = evaluate(tg, { content: c, style_0: s }, tg.outputs);
  const lg = buildAudioLossGraph({ banks, contentWeight: 0.7, styleWeight: 1.3 }, bins, frames);
  const feeds: Record<string, Float64Array> = {};
  lg.contentTargets.forEach((n, k) => (feeds[n] = outs[k]));
  lg.styleTargets.forEach((n, k) => (feeds[n] = outs[banks.length + k]));
  const x = Float64Array.from(randn(bins * frames, 3, 1));
  const byName = (name: string) => lg.graph.outputs.find((v) => v.name === name)!;
  const [total, content, styleTerm, grad] = [lg.total, lg.terms.content!, lg.terms.style!, lg.grad].map(byName);
  const at = (v: Float64Array) => evaluate(lg.graph, { ...feeds, spectrogram: v }, [total, content, styleTerm, grad]);
  const [l0, lc, ls, g] = at(x);
  assert.ok(lc[0] > 0 && ls[0] > 0 && Math.abs(l0[0] - lc[0] - ls[0]) < 1e-12 * l0[0], 'total = content + style');
  // the terms are the peer's sums: content = cw Σ(F - P)², style = sw Σ(F Fᵀ/T' - A)²; check the style term by hand for bank 0
  const fd = new Float64Array(x.length);
  const eps = 1e-5;
  for (let k = 0; k < x.length; k++) {
    const v = x[k];
    x[k] = v + eps;
    const p = at(x)[0][0];
    x[k] = v - eps;
    const m = at(x)[0][0];
    x[k] = v;
    fd[k] = (p - m) / (2 * eps);
  }
  const err = maxRelErr(g, fd);
  assert.ok(err < 1e-6, `max |analytic - fd| / max |fd| = ${err}`);
  // onnxruntime (float32) agrees with the float64 reference
  const runner = await createRunner(toOnnx(lg.graph), { threads: 1 });
  const f32 = (a: Float64Array) => Float32Array.from(a);
  const run = await runner.run(Object.fromEntries(lg.graph.inputs.map((v) => [v.name, { data: f32(v.name === 'spectrogram' ? x : feeds[v.name]), dims: v.shape }])));
  await runner.release();
  assert.ok(Math.abs(run[lg.total][0] - l0[0]) < 1e-5 * l0[0], `loss ${run[lg.total][0]} vs ${l0[0]}`);
  assert.ok(maxRelErr(run[lg.grad], g) < 1e-5, 'gradient');
});

test('the mel front end: bands that sum to 1 and rise in frequency; the loss gradient through it matches finite differences', () => {
  const m = melMatrix(10, 129, 8000);
  let prevPeak = -1;
  for (let b = 0; b < 10; b++) {
    const row = m.subarray(b * 129, (b + 1) * 129);
    assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-6, `band ${b} sums to 1`);
    const peak = row.indexOf(Math.max(...row));
    assert.ok(peak > prevPeak, `band ${b} peaks above band ${b - 1}`);
    prevPeak = peak;
  }
  const [bins, bands, frames, filters] = [6, 3, 5, 2];
  const front = { bands, weight: randn(bands * bins, 50, 0.5) };
  const banks = tinyBanks(bands, filters, [2]);
  const lg = buildAudioLossGraph({ banks, frontEnd: front, contentWeight: 0.5, styleWeight: 2 }, bins, frames);
  const feeds = { [lg.contentTargets[0]]: Float64Array.from(randn(filters * (frames - 1), 51, 1)), [lg.styleTargets[0]]: Float64Array.from(randn(4, 52, 0.1)) };
  const [total, grad] = [lg.total, lg.grad].map((n) => lg.graph.outputs.find((v) => v.name === n)!);
  const x = Float64Array.from(randn(bins * frames, 53, 1));
  const [, g] = evaluate(lg.graph, { ...feeds, spectrogram: x }, [total, grad]);
  const fd = x.map((v, k) => {
    const at = (d: number) => {
      const y = x.slice();
      y[k] = v + d;
      return evaluate(lg.graph, { ...feeds, spectrogram: y }, [total])[0][0];
    };
    return (at(1e-5) - at(-1e-5)) / 2e-5;
  });
  assert.ok(maxRelErr(g, fd) < 1e-6, `max rel err ${maxRelErr(g, fd)}`);
});

test('the style term is the time-normalised Gram of the peer: sw Σ(F Fᵀ / T\' - A)² (checked by hand)', () => {
  const [bins, frames, filters] = [3, 6, 2];
  const banks = tinyBanks(bins, filters, [2]);
  const lg = buildAudioLossGraph({ banks, contentWeight: 0, styleWeight: 2 }, bins, frames);
  const x = Float64Array.from(randn(bins * frames, 5, 1));
  const A = Float64Array.from([0.3, -0.1, -0.1, 0.2]);
  const [loss] = evaluate(lg.graph, { spectrogram: x, [lg.styleTargets[0]]: Float64Array.from(A, (v) => v / filters) }, [lg.graph.outputs.find((v) => v.name === lg.total)!]);
  const T = frames - 1;
  const F = [0, 1].map((o) =>
    Array.from({ length: T }, (_, t) => {
      let s = 0;
      for (let c = 0; c < bins; c++) for (let k = 0; k < 2; k++) s += banks[0].weight[(o * bins + c) * 2 + k] * x[c * frames + t + k];
      return Math.max(0, s);
    }),
  );
  let want = 0;
  for (let a = 0; a < 2; a++)
    for (let b = 0; b < 2; b++) {
      const g = F[a].reduce((s, v, t) => s + v * F[b][t], 0) / T;
      want += (g - A[a * 2 + b]) ** 2;
    }
  assert.ok(Math.abs(loss[0] - 2 * want) < 1e-9 * want, `${loss[0]} vs ${2 * want}`);
});

test("stylizeAudio's losses equal the peer's on the same sounds (sr 8000, n_fft 256, 16 filters of width 5, 10 L-BFGS iterations)", async () => {
  // the peer on the 16-bit WAVs of these two sounds: pytorch_audio_style.py --sr 8000 --n-fft 256 --hop 64 --filters 16 --width 5 --iters 10 --threads 1
  const q = (x: Float32Array) => ({ samples: Float32Array.from(x, (v) => Math.round(v * 32767) / 32768), sampleRate: SR });
  const r = await stylizeAudio({ ...TINY, content: q(content.samples), styles: [q(style.samples)], filters: 16, width: [5], iters: 10, glIters: 2 });
  const peer = [114.96151733398438, 114.78173828125, 18.682069778442383];
  peer.forEach((v, k) => assert.ok(Math.abs(r.lossHistory[k] - v) < 1e-4 * v, `iteration ${k + 1}: ${r.lossHistory[k]} vs the peer's ${v}`));
  // the peer's final loss: content 4.914587020874023, style 0.6050622463226318, total 5.519649505615234
  assert.ok(Math.abs(r.loss.total - 5.519649505615234) < 0.05 * 5.519649505615234, `final ${r.loss.total} vs the peer's 5.5196`);
  assert.equal(r.spectrograms.result.frames, 63);
  assert.equal(r.sound.samples.length, 4000);
});

test('a chirp in the style of two pure tones gains energy at the tones (500 and 1500 Hz)', async () => {
  const r = await stylizeAudio({ ...TINY, content, styles: [style], filters: 64, width: [5], iters: 50, glIters: 30 });
  const before = energyNear(content.samples, SR, [500, 1500]);
  const after = energyNear(r.sound.samples, SR, [500, 1500]);
  assert.ok(after > 1.5 * before, `energy within 100 Hz of the tones: content ${before.toFixed(3)}, result ${after.toFixed(3)}`);
  let peak = 0;
  for (const v of r.sound.samples) peak = Math.max(peak, Math.abs(v));
  assert.ok(Math.abs(peak - 0.98) < 1e-6, `peak-normalised to 0.98, got ${peak}`);
  assert.ok(r.loss.total < r.lossHistory[0], 'the loss went down');
});

test("--phase-init content starts Griffin-Lim from the content's phase: a more consistent sound after 3 iterations", async () => {
  const run = (phaseInit: 'zero' | 'content') => stylizeAudio({ ...TINY, content, styles: [style], filters: 16, width: [5], iters: 5, glIters: 3, phaseInit });
  const [zero, fromContent] = [await run('zero'), await run('content')];
  assert.deepEqual(zero.loss, fromContent.loss, 'the optimisation is the same');
  assert.ok(fromContent.spectralConvergence < 0.8 * zero.spectralConvergence, `spectral convergence: zero phase ${zero.spectralConvergence}, content phase ${fromContent.spectralConvergence}`);
  await assert.rejects(stylizeAudio({ ...TINY, texture: 1, styles: [style], phaseInit: 'content' }), (e: Error) => /^phaseInit content needs a content sound/.test(e.message));
});

test('--front-end mel: a chirp in the style of two tones still gains energy at the tones', async () => {
  const r = await stylizeAudio({ ...TINY, content, styles: [style], filters: 64, width: [5], iters: 50, glIters: 30, frontEnd: 'mel', mels: 40 });
  const [before, after] = [energyNear(content.samples, SR, [500, 1500]), energyNear(r.sound.samples, SR, [500, 1500])];
  assert.ok(after > 1.3 * before, `energy near the tones: content ${before.toFixed(3)}, result ${after.toFixed(3)}`);
  await assert.rejects(stylizeAudio({ ...TINY, content, styles: [style], frontEnd: 'mel', mels: 200 }), (e: Error) => /^mels 200 is more than the 129 STFT bins/.test(e.message));
});

test('texture synthesis: the style alone from noise, as long as asked; several widths', async () => {
  const r = await stylizeAudio({ ...TINY, texture: 0.75, styles: [style], filters: 16, width: [3, 5], iters: 20, glIters: 10 });
  assert.equal(r.sound.samples.length, 6000);
  assert.equal(r.loss.content, 0);
  assert.ok(r.loss.style < r.lossHistory[0] / 10, `style loss ${r.loss.style} from ${r.lossHistory[0]}`);
  assert.equal(r.spectrograms.content, undefined);
});

test('cancellation through the signal stops within an iteration with E_ABORTED', async () => {
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(
    stylizeAudio({ ...TINY, content, styles: [style], filters: 8, width: [5], iters: 50 }, {
      signal: controller.signal,
      onProgress: (e) => {
        seen = e.iter;
        if (e.iter === 3) controller.abort();
      },
    }),
    (e: unknown) => isStyleloomError(e) && e.code === 'E_ABORTED',
  );
  assert.equal(seen, 3);
});

test('option rules: power-of-two n_fft, hop below n_fft, texture without content, not both weights 0', async () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ nFft: 300 }, /^nFft must be a power of two/],
    [{ hop: 256 }, /^hop 256 must be less than nFft 256/],
    [{ texture: 1 }, /^texture synthesises from the style alone: leave out content/],
    [{ contentWeight: 0, styleWeight: 0 }, /^contentWeight and styleWeight are both 0/],
    [{ init: 'x.wav' }, /^init must be content or noise for a sound/],
    [{ sr: 10 }, /^sr must be a whole number from 1000 to 384000, got 10$/],
  ];
  for (const [o, re] of bad) await assert.rejects(stylizeAudio({ ...TINY, content, styles: [style], ...o }), (e: Error) => re.test(e.message), JSON.stringify(o));
  await assert.rejects(stylizeAudio({ ...TINY, styles: [style] }), (e: Error) => /^content is missing/.test(e.message));
});
