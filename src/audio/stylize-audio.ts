// stylizeAudio(): sound style transfer after Ulyanov & Lebedev (2016), as the peer does it: log-magnitude
// STFT spectrograms, a random 1-D conv filter bank, L-BFGS on the spectrogram through the loss graph's
// explicit gradient on onnxruntime, then Griffin-Lim for the phase.
import { createHash } from 'node:crypto';
import { optionError, StyleloomError } from '../errors.js';
import { toOnnx } from '../graph/onnx-export.js';
import { BestIterate, type Optimizer } from '../optim/index.js';
import { createNodeOptimizer } from '../transfer/node-optimizer.js';
import { resolveTableOptions } from '../options/validate.js';
import { createRunner, type FloatTensor, type SessionOptions } from '../runtime/session.js';
import { filterBanks, type FilterBank } from './filters.js';
import { isPowerOfTwo } from './fft.js';
import { griffinLim } from './griffin-lim.js';
import { buildAudioLossGraph, buildAudioTargetGraph, type FrontEnd } from './loss-graph.js';
import { melMatrix } from './mel.js';
import { peakNormalise, readSound, type Sound } from './sound-io.js';
import { framesFor, logMagnitude, stft } from './stft.js';
import type { AudioHooks, AudioLoss, AudioOptions, AudioResult, Spectrogram } from './types.js';

/** The options with the table's defaults filled in. */
export type ResolvedAudioOptions = Required<Pick<AudioOptions, 'iters' | 'contentWeight' | 'styleWeight' | 'seed' | 'sr' | 'nFft' | 'hop' | 'filters' | 'width' | 'glIters' | 'phaseInit' | 'frontEnd' | 'mels' | 'maxDuration' | 'sampleFormat' | 'device'>> &
  AudioOptions & { init: 'content' | 'noise' };

/** Standard deviation of the noise init (the peer's 1e-3 · z). */
export const AUDIO_NOISE_STD = 1e-3;

const checkAborted = (signal?: AbortSignal) => {
  if (signal?.aborted) throw new StyleloomError('E_ABORTED', 'cancelled');
};

/** Table defaults and checks, plus the rules between options. */
export function resolveAudioOptions(options: AudioOptions): ResolvedAudioOptions {
  const o = resolveTableOptions('audio', options as unknown as Record<string, unknown>) as unknown as ResolvedAudioOptions;
  if (o.init !== 'content' && o.init !== 'noise') throw optionError('E_USAGE', `{init} must be content or noise for a sound, got ${JSON.stringify(o.init)}`);
  if (!isPowerOfTwo(o.nFft)) throw optionError('E_USAGE', `{nFft} must be a power of two (256, 512, 1024, 2048, ...), got ${o.nFft}`);
  if (o.hop >= o.nFft) throw optionError('E_USAGE', `{hop} ${o.hop} must be less than {nFft} ${o.nFft} (the frames must overlap for the inverse STFT)`);
  if (o.width.length === 0) throw optionError('E_USAGE', '{width} is empty; give at least one filter width, e.g. 11');
  if (!Array.isArray(o.styles) || o.styles.length === 0) throw optionError('E_USAGE', '{styles} is missing: give at least one style sound');
  if (o.texture !== undefined) {
    if (o.content !== undefined) throw optionError('E_USAGE', '{texture} synthesises from the style alone: leave out {content}');
    if (o.texture > o.maxDuration) throw optionError('E_USAGE', `{texture} ${o.texture} s is over the limit of {maxDuration} ${o.maxDuration} s`);
  } else if (o.content === undefined) throw optionError('E_USAGE', '{content} is missing: give the sound to repaint, or {texture} <seconds> to synthesise the style alone');
  const cw = o.texture !== undefined ? 0 : o.contentWeight;
  if (cw === 0 && o.styleWeight === 0) throw optionError('E_USAGE', '{contentWeight} and {styleWeight} are both 0: nothing to optimise');
  return o;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The spectrogram of a sound, with the checks that its length allows the STFT and the filters. */
function spectrogramOf(sound: Sound, what: string, o: ResolvedAudioOptions): Spectrogram {
  const width = Math.max(...o.width);
  const n = sound.samples.length;
  const frames = framesFor(n, o.hop);
  if (n <= o.nFft / 2 || frames < width) {
    const need = Math.max(o.nFft / 2 + 1, (width - 1) * o.hop);
    throw optionError(
      'E_INPUT',
      `${what} is too short: ${(n / o.sr).toFixed(3)} s makes ${n <= o.nFft / 2 ? 'no full' : frames} STFT frame${frames === 1 ? '' : 's'}, fewer than the filter width {width} ${width}; give a sound of at least ${(need / o.sr).toFixed(3)} s or lower {width}`,
    );
  }
  return { data: logMagnitude(stft(sound.samples, o.nFft, o.hop)), bins: o.nFft / 2 + 1, frames };
}

const sha = (b?: Buffer) => (b ? createHash('sha256').update(b).digest('hex') : undefined);
const named = (src: unknown, what: string) => (typeof src === 'string' ? `${what} ${src}` : what);

/** Content features and the (averaged) style Grams, in the loss graph's normalisation. */
async function targets(banks: FilterBank[], content: Spectrogram | undefined, styles: Spectrogram[], session: SessionOptions, front?: FrontEnd) {
  const bins = styles[0].bins;
  const g = buildAudioTargetGraph(banks, bins, content ? content.frames : null, styles.map((s) => s.frames), front);
  const runner = await createRunner(toOnnx(g, 'audio_targets'), session);
  try {
    const feeds: Record<string, FloatTensor> = {};
    if (content) feeds.content = { data: content.data, dims: [1, bins, 1, content.frames] };
    styles.forEach((s, k) => (feeds[`style_${k}`] = { data: s.data, dims: [1, bins, 1, s.frames] }));
    const out = await runner.run(feeds);
    const feats = content ? banks.map((_, b) => out[`content_target_${b}`]) : [];
    const grams = banks.map((_, b) => {
      const acc = new Float32Array(out[`style_0_gram_${b}`].length);
      for (let s = 0; s < styles.length; s++) {
        const gs = out[`style_${s}_gram_${b}`];
        for (let k = 0; k < acc.length; k++) acc[k] += gs[k] / styles.length;
      }
      return acc;
    });
    return { feats, grams };
  } finally {
    await runner.release();
  }
}

/**
 * Repaints the content sound in the texture of the style sound(s) (or, with `texture`, synthesises the
 * style's texture from noise). Resolves to the sound, the loss terms and timings; rejects with a
 * StyleloomError (E_ABORTED when `signal` aborts).
 */
export async function stylizeAudio(options: AudioOptions, hooks: AudioHooks = {}): Promise<AudioResult> {
  const o = resolveAudioOptions(options);
  const { signal } = hooks;
  checkAborted(signal);
  const read = { sampleRate: o.sr, maxSeconds: o.maxDuration, signal };
  const content = o.content !== undefined ? await readSound(o.content, { ...read, what: named(o.content, 'the content sound') }) : undefined;
  const styleSounds = [];
  for (const [k, s] of o.styles.entries()) styleSounds.push(await readSound(s, { ...read, what: named(s, o.styles.length > 1 ? `style sound ${k + 1}` : 'the style sound') }));
  const Sc = content ? spectrogramOf(content.sound, named(o.content, 'the content sound'), o) : undefined;
  if (o.phaseInit === 'content' && !content) throw optionError('E_USAGE', '{phaseInit} content needs a content sound (not with {texture})');
  const Ss = styleSounds.map((s, k) => spectrogramOf(s.sound, named(o.styles[k], 'the style sound'), o));
  checkAborted(signal);
  const bins = o.nFft / 2 + 1;
  const length = content ? content.sound.samples.length : Math.round((o.texture ?? 0) * o.sr);
  const frames = Sc ? Sc.frames : framesFor(length, o.hop);
  if (!Sc && (length <= o.nFft / 2 || frames < Math.max(...o.width))) {
    throw optionError('E_USAGE', `{texture} ${o.texture} s makes ${frames} STFT frames, fewer than the filter width {width} ${Math.max(...o.width)}; ask for a longer texture`);
  }
  const t0 = performance.now();
  if (o.frontEnd === 'mel' && o.mels > bins) throw optionError('E_USAGE', `{mels} ${o.mels} is more than the ${bins} STFT bins of {nFft} ${o.nFft}; lower it`);
  const front: FrontEnd | undefined = o.frontEnd === 'mel' ? { bands: o.mels, weight: melMatrix(o.mels, bins, o.sr) } : undefined;
  const { banks, rest } = filterBanks(o.seed, front ? front.bands : bins, o.filters, o.width);
  const session: SessionOptions = { threads: o.threads, device: o.device };
  const contentWeight = Sc ? o.contentWeight : 0;
  const tg = await targets(banks, contentWeight ? Sc : undefined, Ss, session, front);
  checkAborted(signal);
  const lg = buildAudioLossGraph({ banks, frontEnd: front, contentWeight, styleWeight: o.styleWeight }, bins, frames);
  const feeds: Record<string, FloatTensor> = {};
  lg.contentTargets.forEach((name, b) => (feeds[name] = { data: tg.feats[b], dims: [1, o.filters, 1, frames - banks[b].width + 1] }));
  lg.styleTargets.forEach((name, b) => (feeds[name] = { data: tg.grams[b], dims: [o.filters, o.filters] }));
  const runner = await createRunner(toOnnx(lg.graph, 'audio_loss'), session);
  const x = o.init === 'content' && Sc ? Sc.data.slice() : rest.fill(new Float32Array(bins * frames), AUDIO_NOISE_STD);
  const dims = [1, bins, 1, frames];
  const evaluate = async (v: Float32Array) => {
    const out = await runner.run({ ...feeds, [lg.input]: { data: v, dims } });
    const loss: AudioLoss = { content: lg.terms.content ? out[lg.terms.content][0] : 0, style: lg.terms.style ? out[lg.terms.style][0] : 0, total: out[lg.total][0] };
    if (!Number.isFinite(loss.total)) throw optionError('E_DIVERGED', `the loss became ${loss.total}; the optimisation diverged — lower {styleWeight}`);
    return { loss, grad: out[lg.grad] };
  };
  const history: number[] = [];
  const times: number[] = [];
  let best: { x: Float32Array; loss: AudioLoss };
  const tOpt = performance.now();
  let optimizer: Optimizer | undefined;
  try {
    optimizer = await createNodeOptimizer('lbfgs', { historySize: 100, lineSearch: o.lineSearch }, x.length, o.threads);
    const keeper = new BestIterate<AudioLoss>((l) => l.total);
    for (let k = 0; k < o.iters; k++) {
      checkAborted(signal);
      const t = performance.now();
      const { loss, grad } = await evaluate(x);
      history.push(loss.total);
      keeper.offer(x, loss);
      await optimizer.step(x, loss.total, grad);
      const ms = performance.now() - t;
      times.push(ms);
      hooks.onProgress?.({ phase: 'optimise', iter: k + 1, iters: o.iters, loss, ms, elapsedMs: performance.now() - t0 });
      const every = hooks.snapshotEvery ?? 0;
      if (hooks.onSnapshot && every > 0 && ((k + 1) % every === 0 || k + 1 === o.iters)) await hooks.onSnapshot({ data: x, bins, frames }, k + 1);
    }
    checkAborted(signal);
    // the best iterate evaluated, the one after the last update included (no line search: a last step may overshoot)
    const { loss } = await evaluate(x);
    keeper.offer(x, loss);
    const b = keeper.get()!;
    best = { x: b.x, loss: b.info };
  } finally {
    await optimizer?.release?.();
    await runner.release();
  }
  const optimiseMs = performance.now() - tOpt;
  const mag = new Float64Array(best.x.length);
  for (let k = 0; k < mag.length; k++) mag[k] = Math.max(0, Math.expm1(best.x[k]));
  const tGl = performance.now();
  let last = tGl;
  const wave = griffinLim(mag, bins, frames, {
    nFft: o.nFft,
    hop: o.hop,
    iters: o.glIters,
    length,
    signal,
    start: o.phaseInit === 'content' && content ? stft(content.sound.samples, o.nFft, o.hop) : undefined,
    onIter: (iter) => {
      const now = performance.now();
      hooks.onProgress?.({ phase: 'phase', iter, iters: o.glIters, ms: now - last, elapsedMs: now - t0 });
      last = now;
    },
  });
  checkAborted(signal);
  const griffinLimMs = performance.now() - tGl;
  // how well the sound's magnitude matches the optimised one: || |STFT(wave)| - |X| || / || |X| ||
  const back = stft(wave, o.nFft, o.hop);
  let num = 0;
  let den = 0;
  for (let k = 0; k < mag.length; k++) {
    num += (Math.sqrt(back.re[k] * back.re[k] + back.im[k] * back.im[k]) - mag[k]) ** 2;
    den += mag[k] * mag[k];
  }
  return {
    sound: { samples: peakNormalise(wave), sampleRate: o.sr },
    loss: best.loss,
    lossHistory: history,
    iters: o.iters,
    msPerIter: median(times.length > 2 ? times.slice(2) : times),
    optimiseMs,
    griffinLimMs,
    spectralConvergence: den > 0 ? Math.sqrt(num / den) : 0,
    duration: length / o.sr,
    spectrograms: { content: Sc, style: Ss[0], result: { data: best.x, bins, frames } },
    inputs: { content: sha(content?.bytes), styles: styleSounds.map((s) => sha(s.bytes)) },
  };
}
