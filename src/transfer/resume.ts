// The resume rules: what a state records of the run's options, the options that continue a state, and
// the checks that those options and input files can continue it. The file format is state-file.ts.
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import type { ResolvedOptions } from './options.js';
import type { InputHashes, ResumeState, StateOptions, StylizeOptions } from './types.js';

/** `<out>.state`, next to the output. */
export function statePathFor(out: string): string {
  return `${out}.state`;
}

/** The options a state records: everything resolved, image data replaced by (absolute) paths. */
export function stateOptionsOf(o: ResolvedOptions, weightsPath: string): StateOptions {
  const src = (s: unknown) => (typeof s === 'string' ? path.resolve(s) : null);
  const { content, styles, init, mask, styleMasks, styleRegions, ...rest } = o;
  const out: StateOptions = {
    ...rest,
    content: src(content),
    styles: styles.map(src),
    init: init === 'content' || init === 'noise' ? init : src(init),
    weights: path.resolve(weightsPath),
  };
  if (mask !== undefined) out.mask = src(mask);
  if (styleMasks) out.styleMasks = styleMasks.map(src);
  if (styleRegions) out.styleRegions = styleRegions.map(src);
  return out;
}

/**
 * Options that continue `state`: its own, with `overrides` (e.g. `{ iters: 600 }` for a longer run,
 * `content` when the state's content was given as pixels), and `resume: state`.
 */
export function resumeOptions(state: ResumeState, overrides: Partial<StylizeOptions> = {}): StylizeOptions {
  const { content, styles, init, mask, styleMasks, styleRegions, ...rest } = state.options;
  const o: StylizeOptions = {
    ...rest,
    content: content ?? '',
    styles: styles.map((s) => s ?? ''),
    init: init ?? 'content', // only used before the first iteration: never on resume
    ...(mask === undefined ? {} : { mask: mask ?? '' }),
    ...(styleMasks ? { styleMasks: styleMasks.map((s) => s ?? '') } : {}),
    ...(styleRegions ? { styleRegions: styleRegions.map((s) => s ?? '') } : {}),
    ...overrides,
    resume: state,
  };
  if (overrides.iters !== undefined && overrides.scaleIters === undefined) delete o.scaleIters;
  if (o.content === '') throw new StyleloomError('E_USAGE', 'the state was made from a content image given as pixels; pass it again as options.content');
  if (o.styles.some((s) => s === '')) throw new StyleloomError('E_USAGE', 'the state was made from style images given as pixels; pass them again as options.styles');
  for (const k of ['mask', 'styleMasks', 'styleRegions'] as const) {
    const v = o[k];
    if (v === '' || (Array.isArray(v) && v.some((s) => s === ''))) throw new StyleloomError('E_USAGE', `the state was made from masks given as pixels; pass them again as options.${k}`);
  }
  return o;
}

/** Checks, before the loop, that `options` (resolved as `o`) can continue `s`; E_USAGE otherwise. */
export function checkResume(s: ResumeState, o: ResolvedOptions, sizes: number[], itersPerScale: number[]): ResumeState {
  const bad = (msg: string) => new StyleloomError('E_USAGE', `cannot resume: ${msg}`);
  if (s.optimizer.kind !== o.optimizer) throw bad(`the state was written by an ${s.optimizer.kind} run; resume with --optimizer ${s.optimizer.kind}`);
  if (s.sizes.length !== sizes.length || s.sizes.some((v, k) => v !== sizes[k])) {
    throw bad(`the state's scales are ${s.sizes.join(',')} px but these options give ${sizes.join(',')} px; keep its --size, --scales and --min-size`);
  }
  for (let k = 0; k < s.scale; k++) {
    if (itersPerScale[k] !== s.itersPerScale[k]) throw bad(`scale ${k + 1} is finished with ${s.itersPerScale[k]} iterations; keep that count (--scale-iters)`);
  }
  if (itersPerScale[s.scale] < s.scaleIter) {
    const flag = sizes.length > 1 ? `--scale-iters entry ${s.scale + 1}` : '--iters';
    throw bad(`the state has done ${s.scaleIter} iterations${sizes.length > 1 ? ` at scale ${s.scale + 1}` : ''}; ${flag} must be at least that`);
  }
  if ((o.ema > 0) !== Boolean(s.ema)) throw bad(`the state was written ${s.ema ? 'with' : 'without'} --ema; keep that setting`);
  return s;
}

/**
 * Checks, before the loop, that the input files are the ones the state was made from, by SHA-256: the
 * state's image and optimiser memory belong to those images, and continuing with others would silently
 * optimise a different problem. An input given as decoded pixels, now or when the state was written,
 * has no hash and is not checked. A changed file is a one-line E_INPUT error naming it.
 */
export function checkInputs(s: ResumeState, o: ResolvedOptions, now: InputHashes): void {
  if (s.inputs.styles.length !== now.styles.length) {
    throw new StyleloomError('E_USAGE', `cannot resume: the state was made with ${s.inputs.styles.length} style images, these options have ${now.styles.length}; pass the same ones`);
  }
  const check = (what: string, src: unknown, was: string | null, is: string | null) => {
    if (was === null || is === null || was === is) return;
    throw new StyleloomError(
      'E_INPUT',
      `cannot resume: the ${what} ${String(src)} changed since the state was saved (SHA-256 now ${is.slice(0, 12)}…, the state's ${was.slice(0, 12)}…); restore it or start a new run without --resume`,
    );
  };
  check('content image', o.content, s.inputs.content, now.content);
  now.styles.forEach((h, k) => check(`style image ${k + 1}`, o.styles[k], s.inputs.styles[k], h));
  check('init image', o.init, s.inputs.init, now.init);
  // masks: a run with masks cannot continue one without them, or the reverse (the problem differs)
  const masks = [
    ['mask', 'mask', s.inputs.mask === undefined ? [] : [s.inputs.mask], now.mask === undefined ? [] : [now.mask], o.mask === undefined ? [] : [o.mask]],
    ['style mask', 'styleMasks', s.inputs.styleMasks ?? [], now.styleMasks ?? [], o.styleMasks ?? []],
    ['style region', 'styleRegions', s.inputs.styleRegions ?? [], now.styleRegions ?? [], o.styleRegions ?? []],
  ] as const;
  for (const [what, key, was, is, srcs] of masks) {
    if (was.length !== is.length) {
      throw optionError('E_USAGE', `cannot resume: the state was made with ${was.length} ${what} file(s), these options have ${is.length}; pass the same {${key}}`);
    }
    is.forEach((h, k) => check(`${what}${is.length > 1 ? ` ${k + 1}` : ''}`, srcs[k], was[k], h));
  }
}
