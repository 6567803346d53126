// Validates stylize() options once, at the edge, and fills in the defaults (those of the PyTorch peer
// where it has one). Every problem is an E_USAGE error naming the option and what is allowed.
import { StyleloomError } from '../errors.js';
import type { StylizeOptions } from './types.js';

export const DEFAULTS = {
  size: 512,
  iters: 300,
  optimizer: 'lbfgs',
  lr: 10,
  contentWeight: 1,
  styleWeight: 1e3,
  tvWeight: 1,
  pool: 'max',
  init: 'content',
  seed: 0,
  device: 'cpu',
  saveEvery: 0,
  originalColors: false,
  colorMatch: false,
  styleScale: 1,
  noiseRatio: 1,
  ema: 0,
} as const;

/** Largest output side accepted (a 16384² image needs ~50 GB of activations at conv1). */
export const MAX_SIZE = 8192;
export const MAX_ITERS = 1_000_000;

export type ResolvedOptions = Required<Omit<StylizeOptions, 'contentLayers' | 'styleLayers' | 'weights' | 'threads' | 'styleBlendWeights' | 'minSize' | 'scaleIters' | 'styleLayerWeights' | 'tile' | 'resume'>> &
  Pick<StylizeOptions, 'contentLayers' | 'styleLayers' | 'weights' | 'threads' | 'minSize' | 'scaleIters' | 'styleLayerWeights' | 'tile'> & { styleBlendWeights: number[] };

const bad = (msg: string) => new StyleloomError('E_USAGE', msg);

function int(name: string, v: number | undefined, def: number, min: number, max: number): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
    throw bad(`${name} must be a whole number from ${min} to ${max}, got ${String(x)}`);
  }
  return x;
}

function nonNegative(name: string, v: number | undefined, def: number, strict = false): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (strict && x === 0)) {
    throw bad(`${name} must be a finite number ${strict ? '> 0' : '>= 0'}, got ${String(x)}`);
  }
  return x;
}

function oneOf<T extends string>(name: string, v: T | undefined, def: T, allowed: readonly T[]): T {
  const x = v ?? def;
  if (!allowed.includes(x)) throw bad(`${name} must be one of ${allowed.join(', ')}, got ${String(x)}`);
  return x;
}

export function resolveOptions(o: StylizeOptions): ResolvedOptions {
  if (o.content === undefined || o.content === null || o.content === '') throw bad('a content image is required (--content FILE)');
  if (!Array.isArray(o.styles) || o.styles.length === 0) throw bad('at least one style image is required (--style FILE)');
  const blend = o.styleBlendWeights ?? o.styles.map(() => 1);
  if (blend.length !== o.styles.length) {
    throw bad(`--style-blend-weights has ${blend.length} values but there are ${o.styles.length} styles; give one weight per style`);
  }
  blend.forEach((b, k) => nonNegative(`style blend weight ${k + 1}`, b, 1));
  if (!(blend.reduce((a, b) => a + b, 0) > 0)) throw bad('--style-blend-weights must not all be 0');
  const r: ResolvedOptions = {
    content: o.content,
    styles: o.styles,
    styleBlendWeights: blend,
    size: int('--size', o.size, DEFAULTS.size, 16, MAX_SIZE),
    iters: int('--iters', o.iters, DEFAULTS.iters, 1, MAX_ITERS),
    optimizer: oneOf('--optimizer', o.optimizer, DEFAULTS.optimizer, ['lbfgs', 'adam']),
    lr: nonNegative('--lr', o.lr, DEFAULTS.lr, true),
    contentWeight: nonNegative('--content-weight', o.contentWeight, DEFAULTS.contentWeight),
    styleWeight: nonNegative('--style-weight', o.styleWeight, DEFAULTS.styleWeight),
    tvWeight: nonNegative('--tv-weight', o.tvWeight, DEFAULTS.tvWeight),
    pool: oneOf('--pool', o.pool, DEFAULTS.pool, ['max', 'avg']),
    init: o.init ?? DEFAULTS.init,
    seed: int('--seed', o.seed, DEFAULTS.seed, 0, 2 ** 32 - 1),
    device: oneOf('--device', o.device, DEFAULTS.device, ['cpu', 'cuda']),
    saveEvery: int('--save-every', o.saveEvery, DEFAULTS.saveEvery, 0, MAX_ITERS),
    originalColors: Boolean(o.originalColors ?? DEFAULTS.originalColors),
    colorMatch: Boolean(o.colorMatch ?? DEFAULTS.colorMatch),
    scales: int('--scales', o.scales, 1, 1, 12),
    minSize: o.minSize === undefined ? undefined : int('--min-size', o.minSize, 16, 16, MAX_SIZE),
    scaleIters: o.scaleIters?.map((n, k) => int(`--scale-iters (entry ${k + 1})`, n, 1, 1, MAX_ITERS)),
    styleScale: nonNegative('--style-scale', o.styleScale, DEFAULTS.styleScale, true),
    styleLayerWeights: o.styleLayerWeights?.map((w, k) => nonNegative(`--style-layer-weights (entry ${k + 1})`, w, 1)),
    noiseRatio: nonNegative('--noise-ratio', o.noiseRatio, DEFAULTS.noiseRatio),
    ema: nonNegative('--ema', o.ema, DEFAULTS.ema),
    tile: o.tile === undefined ? undefined : int('--tile', o.tile, 0, 0, MAX_SIZE),
    contentLayers: o.contentLayers,
    styleLayers: o.styleLayers,
    weights: o.weights,
    threads: o.threads === undefined ? undefined : int('--threads', o.threads, 1, 1, 1024),
  };
  if (r.noiseRatio > 1) throw bad(`--noise-ratio must be from 0 to 1, got ${r.noiseRatio}`);
  if (r.ema >= 1) throw bad(`--ema must be from 0 (off) to below 1, e.g. 0.99; got ${r.ema}`);
  if (r.styleScale * r.size > MAX_SIZE) throw bad(`--style-scale ${r.styleScale} makes style images ${Math.round(r.styleScale * r.size)} px, over ${MAX_SIZE}; lower it`);
  if (r.styleLayerWeights && !(r.styleLayerWeights.reduce((a, b) => a + b, 0) > 0)) throw bad('--style-layer-weights must not all be 0');
  if (r.scaleIters && r.scaleIters.length !== r.scales) {
    throw bad(`--scale-iters has ${r.scaleIters.length} entries but --scales is ${r.scales}; give one count per scale`);
  }
  if (r.contentWeight + r.styleWeight + r.tvWeight === 0) throw bad('--content-weight, --style-weight and --tv-weight are all 0: nothing to optimise');
  for (const [flag, layers] of [['--content-layers', r.contentLayers], ['--style-layers', r.styleLayers]] as const) {
    if (layers !== undefined && layers.length === 0) throw bad(`${flag} is empty; name at least one layer, e.g. conv3_2`);
  }
  return r;
}
