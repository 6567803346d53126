// Parameters of POST /api/jobs: the multipart text fields (the CLI's parameters, snake_case) parsed
// strictly and validated by the library's own resolveOptions(), plus the server's limits. Every
// problem is an HttpError(400) with one line naming the field and what is allowed.
import { StyleloomError } from '../errors.js';
import { resolveLayers, type VggWeights } from '../model/vgg19.js';
import { resolveOptions } from '../transfer/options.js';
import type { StylizeOptions } from '../transfer/types.js';
import type { FastParams, GatysParams, JobMode } from './jobs.js';

/** An error with an HTTP status; the message is what the client sees as {error}. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

const bad = (msg: string) => new HttpError(400, msg);

export const GATYS_FIELDS = [
  'size', 'iters', 'optimizer', 'lr', 'content_weight', 'style_weight', 'tv_weight', 'content_layers', 'style_layers',
  'pool', 'init', 'seed', 'style_blend_weights', 'original_colors', 'color_match', 'scales', 'style_scale',
] as const;
export const FAST_FIELDS = ['model', 'size', 'original_colors'] as const;

export interface ParamLimits {
  /** Largest `size` accepted (long side, px). */
  maxSize: number;
  /** Largest iters × scales accepted. */
  maxIters: number;
}

export interface ParamContext {
  limits: ParamLimits;
  /** Conv layers of the server's VGG weights, or null when it has none (then Gatys jobs get 503). */
  vgg: { path: string; layers: string[] } | null;
  /** Why there are no weights (shown with the 503). */
  vggError?: string;
  /** Names of the fast-style networks this server has. */
  fastModels: string[];
}

/** The library's messages name CLI flags (--content-weight); the API names fields (content_weight). */
export function apiMessage(msg: string): string {
  return msg.replace(/--([a-z][a-z0-9-]*)/g, (_, f: string) => f.replace(/-/g, '_'));
}

const shown = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

function num(name: string, s: string): number {
  const t = s.trim();
  if (t === '') throw bad(`${name} is empty; give a number`);
  const v = Number(t);
  if (Number.isNaN(v) && !/^[+-]?nan$/i.test(t)) throw bad(`${name} must be a number, got ${shown(t)}`);
  return v;
}

function list(name: string, s: string): string[] {
  const items = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) throw bad(`${name} is empty; give a comma-separated list`);
  return items;
}

function bool(name: string, s: string): boolean {
  const t = s.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(t)) return true;
  if (['0', 'false', 'off', 'no', ''].includes(t)) return false;
  throw bad(`${name} must be true or false, got ${shown(s)}`);
}

function oneOf<T extends string>(name: string, s: string, allowed: readonly T[]): T {
  const t = s.trim() as T;
  if (!allowed.includes(t)) throw bad(`${name} must be one of ${allowed.join(', ')}, got ${shown(s)}`);
  return t;
}

function int(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} must be a whole number from ${min} to ${max}, got ${v}`);
  return v;
}

/** The mode of a request: `mode` field, default gatys. */
export function parseMode(fields: Record<string, string>): JobMode {
  return fields.mode === undefined ? 'gatys' : oneOf('mode', fields.mode, ['gatys', 'fast'] as const);
}

/**
 * Validates the text fields of a job (without `mode`) for `styles` uploaded style images.
 * Returns the parameters with every default filled in.
 */
export function parseGatysParams(fields: Record<string, string>, styles: number, ctx: ParamContext): GatysParams {
  for (const k of Object.keys(fields)) {
    if (!(GATYS_FIELDS as readonly string[]).includes(k)) {
      throw bad(`unknown field ${shown(k)}; the fields are ${GATYS_FIELDS.join(', ')}${(FAST_FIELDS as readonly string[]).includes(k) ? ' (model is for mode=fast)' : ''}`);
    }
  }
  if (styles === 0) throw bad('at least one style image is required: a multipart file field named "style"');
  const f = fields;
  const n = (k: string) => (f[k] === undefined ? undefined : num(k, f[k]));
  const init = f.init === undefined ? 'content' : oneOf('init', f.init, ['content', 'noise'] as const);
  const o: StylizeOptions = {
    content: 'content',
    styles: Array.from({ length: styles }, () => 'style'),
    size: n('size'),
    iters: n('iters'),
    optimizer: f.optimizer === undefined ? undefined : oneOf('optimizer', f.optimizer, ['lbfgs', 'adam'] as const),
    lr: n('lr'),
    contentWeight: n('content_weight'),
    styleWeight: n('style_weight'),
    tvWeight: n('tv_weight'),
    contentLayers: f.content_layers === undefined ? undefined : list('content_layers', f.content_layers),
    styleLayers: f.style_layers === undefined ? undefined : list('style_layers', f.style_layers),
    pool: f.pool === undefined ? undefined : oneOf('pool', f.pool, ['max', 'avg'] as const),
    init,
    seed: n('seed'),
    styleBlendWeights: f.style_blend_weights === undefined ? undefined : list('style_blend_weights', f.style_blend_weights).map((x) => num('style_blend_weights', x)),
    originalColors: f.original_colors === undefined ? undefined : bool('original_colors', f.original_colors),
    colorMatch: f.color_match === undefined ? undefined : bool('color_match', f.color_match),
    scales: n('scales'),
    styleScale: n('style_scale'),
  };
  let r;
  try {
    r = resolveOptions(o);
  } catch (e) {
    if (e instanceof StyleloomError) throw bad(apiMessage(e.message));
    throw e;
  }
  const { maxSize, maxIters } = ctx.limits;
  if (r.size > maxSize) throw bad(`size must be at most ${maxSize} on this server, got ${r.size}`);
  if (r.styleScale * r.size > maxSize) throw bad(`style_scale ${r.styleScale} makes style images ${Math.round(r.styleScale * r.size)} px, over this server's limit of ${maxSize}; lower it`);
  if (r.iters * r.scales > maxIters) throw bad(`iters × scales must be at most ${maxIters} on this server, got ${r.iters * r.scales}`);
  if (!ctx.vgg) throw new HttpError(503, `this server has no VGG-19 weights, so only mode=fast works${ctx.vggError ? ` (${ctx.vggError})` : ''}`);
  // the layers are checked against the server's weights now rather than failing the job later
  const stub = { path: 'the server weights', available: ctx.vgg.layers, conv: new Map(ctx.vgg.layers.map((l) => [l, undefined])) } as unknown as VggWeights;
  try {
    resolveLayers(stub, r.contentLayers, r.styleLayers);
  } catch (e) {
    if (e instanceof StyleloomError) throw bad(apiMessage(e.message.replace(/ or use full VGG-19 weights \(styleloom weights download\)/, '')));
    throw e;
  }
  return {
    size: r.size,
    iters: r.iters,
    optimizer: r.optimizer,
    lr: r.lr,
    content_weight: r.contentWeight,
    style_weight: r.styleWeight,
    tv_weight: r.tvWeight,
    content_layers: r.contentLayers,
    style_layers: r.styleLayers,
    pool: r.pool,
    init,
    seed: r.seed,
    style_blend_weights: o.styleBlendWeights,
    original_colors: r.originalColors,
    color_match: r.colorMatch,
    scales: r.scales,
    style_scale: r.styleScale,
  };
}

/** Validates the text fields of a fast job (without `mode`). */
export function parseFastParams(fields: Record<string, string>, styles: number, ctx: ParamContext): FastParams {
  for (const k of Object.keys(fields)) {
    if (!(FAST_FIELDS as readonly string[]).includes(k)) throw bad(`field ${shown(k)} does not apply to mode=fast; its fields are ${FAST_FIELDS.join(', ')}`);
  }
  if (styles > 0) throw bad('mode=fast takes no style images (the style is the model); leave out the "style" files');
  const available = ctx.fastModels.length ? ctx.fastModels.join(', ') : 'none on this server';
  if (fields.model === undefined || fields.model.trim() === '') throw bad(`model is required with mode=fast (available: ${available})`);
  const model = fields.model.trim();
  if (!ctx.fastModels.includes(model)) throw bad(`unknown model ${shown(model)}; available: ${available}`);
  const size = fields.size === undefined ? undefined : int('size', num('size', fields.size), 16, ctx.limits.maxSize);
  return { model, size, original_colors: fields.original_colors === undefined ? false : bool('original_colors', fields.original_colors) };
}

/** StylizeOptions for a Gatys job (paths of its stored inputs). */
export function stylizeOptionsFor(p: GatysParams, content: string, styles: string[]): StylizeOptions {
  return {
    content,
    styles,
    size: p.size,
    iters: p.iters,
    optimizer: p.optimizer,
    lr: p.lr,
    contentWeight: p.content_weight,
    styleWeight: p.style_weight,
    tvWeight: p.tv_weight,
    contentLayers: p.content_layers,
    styleLayers: p.style_layers,
    pool: p.pool,
    init: p.init,
    seed: p.seed,
    styleBlendWeights: p.style_blend_weights,
    originalColors: p.original_colors,
    colorMatch: p.color_match,
    scales: p.scales,
    styleScale: p.style_scale,
  };
}
