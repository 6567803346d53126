// Parameters of POST /api/jobs: the multipart text fields (the CLI's parameters, snake_case) parsed
// strictly and validated by the library's own resolveOptions(), plus the server's limits. Every
// problem is an HttpError(400) with one line naming the field and what is allowed.
import { renderMessage, StyleloomError } from '../errors.js';
import { resolveLayers, type VggWeights } from '../model/vgg19.js';
import { apiName, apiRowsFor, fieldOf, type JobRow } from '../options/names.js';
import { resolveTableOptions } from '../options/validate.js';
import { checkStyleLayerWeights, resolveOptions } from '../transfer/options.js';
import type { StylizeOptions } from '../transfer/types.js';
import type { AudioOptions } from '../audio/types.js';
import { resolveVideoOptions } from '../video/stylize-video.js';
import type { VideoOptions } from '../video/types.js';
import { JOB_MODES, type AudioParams, type FastParams, type GatysParams, type JobMode, type VideoParams } from './jobs.js';

/** An error with an HTTP status; the message is what the client sees as {error}. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

const bad = (msg: string) => new HttpError(400, msg);

const GATYS_ROWS = apiRowsFor('image');
const FAST_ROWS = apiRowsFor('fast');
const AUDIO_ROWS = apiRowsFor('audio');
const VIDEO_ROWS = apiRowsFor('video');
/** The text fields of each mode: one per API row of the option table. */
export const GATYS_FIELDS: readonly string[] = GATYS_ROWS.map((j) => fieldOf(j.row));
export const FAST_FIELDS: readonly string[] = FAST_ROWS.map((j) => fieldOf(j.row));
export const AUDIO_FIELDS: readonly string[] = AUDIO_ROWS.map((j) => fieldOf(j.row));
export const VIDEO_FIELDS: readonly string[] = VIDEO_ROWS.map((j) => fieldOf(j.row));

export interface ParamLimits {
  /** Largest `size` accepted (long side, px). */
  maxSize: number;
  /** Largest iters × scales accepted (for sound jobs: L-BFGS iterations; Griffin-Lim may have 10 times more). */
  maxIters: number;
  /** Longest sound accepted (uploads and texture), seconds. */
  maxAudioSeconds: number;
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

/** A library error as the API says it: options named by their fields (content_weight). */
export const apiMessage = (e: StyleloomError): string => renderMessage(e, apiName);

const shown = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

function num(name: string, s: string): number {
  const t = s.trim();
  if (t === '') throw bad(`${name} is empty; give a number`);
  // decimal only: Number() would also take 0x40, 0b101 and 0o17
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?infinity$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (!DECIMAL.test(t)) throw bad(`${name} must be a decimal number, got ${shown(t)}`);
  return Number(t);
}

function list(name: string, s: string): string[] {
  const items = s.split(',').map((x) => x.trim());
  if (items.every((x) => x === '')) throw bad(`${name} is empty; give a comma-separated list`);
  const empty = items.indexOf('');
  if (empty >= 0) throw bad(`${name}: entry ${empty + 1} of ${shown(s)} is empty; write the list without empty entries (e.g. 1,2)`);
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

/** The value of one text field, parsed as its row's kind (ranges are the library's to check). */
function parseField(j: JobRow, s: string): unknown {
  const name = fieldOf(j.row);
  switch (j.row.kind) {
    case 'int':
    case 'number':
      return num(name, s);
    case 'boolean':
      return bool(name, s);
    case 'choice':
      return oneOf(name, s, j.row.choices!);
    case 'layers':
      return list(name, s);
    case 'numbers':
    case 'ints':
      return list(name, s).map((x) => num(name, x));
    default:
      return s.trim();
  }
}

/** The fields of `rows` given in `fields`, parsed, by option key. */
function parseFields(rows: readonly JobRow[], fields: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const j of rows) {
    const s = fields[fieldOf(j.row)];
    if (s !== undefined) out[j.key] = parseField(j, s);
  }
  return out;
}

/** `f()`, with a library error turned into a 400 that names the API's fields. */
function asHttp<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof StyleloomError) throw bad(apiMessage(e));
    throw e;
  }
}

/** The mode of a request: `mode` field, default gatys. */
export function parseMode(fields: Record<string, string>): JobMode {
  return fields.mode === undefined ? 'gatys' : oneOf('mode', fields.mode, JOB_MODES);
}

/**
 * Validates the text fields of a job (without `mode`) for `styles` uploaded style images.
 * Returns the parameters with every default filled in.
 */
export function parseGatysParams(fields: Record<string, string>, styles: number, ctx: ParamContext): GatysParams {
  for (const k of Object.keys(fields)) {
    if (!GATYS_FIELDS.includes(k)) {
      throw bad(`unknown field ${shown(k)}; the fields are ${GATYS_FIELDS.join(', ')}${FAST_FIELDS.includes(k) ? ' (model is for mode=fast)' : ''}`);
    }
  }
  if (styles === 0) throw bad('at least one style image is required: a multipart file field named "style"');
  const given = parseFields(GATYS_ROWS, fields);
  const o = { ...given, content: 'content', styles: Array.from({ length: styles }, () => 'style') } as StylizeOptions;
  const r = asHttp(() => resolveOptions(o));
  const { maxSize, maxIters } = ctx.limits;
  if (r.size > maxSize) throw bad(`size must be at most ${maxSize} on this server, got ${r.size}`);
  if (r.styleScale * r.size > maxSize) throw bad(`style_scale ${r.styleScale} makes style images ${Math.round(r.styleScale * r.size)} px, over this server's limit of ${maxSize}; lower it`);
  if (r.scaleIters) {
    const total = r.scaleIters.reduce((a, b) => a + b, 0);
    if (total > maxIters) throw bad(`scale_iters must add up to at most ${maxIters} on this server, got ${total}`);
  } else if (r.iters * r.scales > maxIters) throw bad(`iters × scales must be at most ${maxIters} on this server, got ${r.iters * r.scales}`);
  const layers = serverLayers(ctx, r.contentLayers, r.styleLayers);
  asHttp(() => checkStyleLayerWeights(r.styleLayerWeights, layers.style));
  return storedParams(GATYS_ROWS, given, r as unknown as Record<string, unknown>) as GatysParams;
}

/** The content and style layers of a job on this server's VGG weights (503 without weights; a 400 naming a layer they lack). */
function serverLayers(ctx: ParamContext, content: string[] | undefined, style: string[] | undefined) {
  if (!ctx.vgg) throw new HttpError(503, `this server has no VGG-19 weights, so only mode=fast works${ctx.vggError ? ` (${ctx.vggError})` : ''}`);
  // the layers are checked against the server's weights now rather than failing the job later
  const stub = { path: 'the server weights', available: ctx.vgg.layers, conv: new Map(ctx.vgg.layers.map((l) => [l, undefined])) } as unknown as VggWeights;
  try {
    return resolveLayers(stub, content, style);
  } catch (e) {
    // the CLI's advice to download full weights is the server operator's business, not the client's
    if (e instanceof StyleloomError) throw bad(apiMessage(e).replace(/ or use full VGG-19 weights \(styleloom weights download\)/, ''));
    throw e;
  }
}

/** Validates the text fields of a fast job (without `mode`). */
export function parseFastParams(fields: Record<string, string>, styles: number, ctx: ParamContext): FastParams {
  for (const k of Object.keys(fields)) {
    if (!FAST_FIELDS.includes(k)) throw bad(`field ${shown(k)} does not apply to mode=fast; its fields are ${FAST_FIELDS.join(', ')}`);
  }
  if (styles > 0) throw bad('mode=fast takes no style images (the style is the model); leave out the "style" files');
  const available = ctx.fastModels.length ? ctx.fastModels.join(', ') : 'none on this server';
  if (fields.model === undefined || fields.model.trim() === '') throw bad(`model is required with mode=fast (available: ${available})`);
  const model = fields.model.trim();
  if (!ctx.fastModels.includes(model)) throw bad(`unknown model ${shown(model)}; available: ${available}`);
  const { model: _model, ...rest } = parseFields(FAST_ROWS, fields);
  const r = asHttp(() => resolveTableOptions('fast', rest));
  const size = r.size as number | undefined;
  if (size !== undefined && size > ctx.limits.maxSize) throw bad(`size must be at most ${ctx.limits.maxSize} on this server, got ${size}`);
  const params: Record<string, unknown> = { model };
  for (const j of FAST_ROWS) if (j.key !== 'model' && r[j.key] !== undefined) params[fieldOf(j.row)] = r[j.key];
  return params as FastParams;
}

/** Validates the text fields of a sound job (without `mode`) for `styles` uploaded style sounds; defaults filled in. */
export function parseAudioParams(fields: Record<string, string>, styles: number, hasContent: boolean, ctx: ParamContext): AudioParams {
  for (const k of Object.keys(fields)) {
    if (!AUDIO_FIELDS.includes(k)) throw bad(`field ${shown(k)} does not apply to mode=audio; its fields are ${AUDIO_FIELDS.join(', ')}`);
  }
  if (styles === 0) throw bad('mode=audio needs a style sound: a multipart file field named "style"');
  const given = parseFields(AUDIO_ROWS, fields);
  if (!hasContent && given.texture === undefined) throw bad('mode=audio needs a "content" sound file, or texture=<seconds> to synthesise the style\'s texture');
  if (hasContent && given.texture !== undefined) throw bad('texture makes a sound from the style alone; leave out the "content" file or the texture field');
  const r = asHttp(() => resolveTableOptions('audio', { ...given, ...(hasContent ? { content: 'content' } : {}), styles: Array.from({ length: styles }, () => 'style') }));
  const { maxIters, maxAudioSeconds } = ctx.limits;
  if ((r.iters as number) > maxIters) throw bad(`iters must be at most ${maxIters} on this server, got ${String(r.iters)}`);
  if ((r.glIters as number) > 10 * maxIters) throw bad(`gl_iters must be at most ${10 * maxIters} on this server, got ${String(r.glIters)}`);
  if (r.texture !== undefined && (r.texture as number) > maxAudioSeconds) throw bad(`texture must be at most ${maxAudioSeconds} s on this server, got ${String(r.texture)}`);
  return storedParams(AUDIO_ROWS, given, r) as AudioParams;
}

/**
 * Validates the text fields of a video job (without `mode`) for `styles` uploaded style images: engine gatys
 * (style images, the server's VGG weights) or fast (a model of this server's, no style images); defaults filled in.
 */
export function parseVideoParams(fields: Record<string, string>, styles: number, ctx: ParamContext): VideoParams {
  for (const k of Object.keys(fields)) {
    if (!VIDEO_FIELDS.includes(k)) throw bad(`field ${shown(k)} does not apply to mode=video; its fields are ${VIDEO_FIELDS.join(', ')}`);
  }
  const given = parseFields(VIDEO_ROWS, fields);
  const fast = given.mode === 'fast';
  const engine = apiName('mode');
  if (fast) {
    if (styles > 0) throw bad(`${engine}=fast takes no style images (the style is the model); leave out the "style" files`);
    const available = ctx.fastModels.length ? ctx.fastModels.join(', ') : 'none on this server';
    if (typeof given.model !== 'string' || given.model === '') throw bad(`model is required with ${engine}=fast (available: ${available})`);
    if (!ctx.fastModels.includes(given.model)) throw bad(`unknown model ${shown(given.model)}; available: ${available}`);
  } else if (styles === 0) throw bad(`mode=video needs a style image (a multipart file field named "style"), or ${engine}=fast with a model`);
  // the library's own checks (ranges, and the rules between options), on stand-in paths
  const r = asHttp(() => resolveVideoOptions({ ...given, content: 'content', out: 'result.mp4', ...(fast ? {} : { styles: Array.from({ length: styles }, () => 'style') }) } as unknown as VideoOptions)) as unknown as Record<string, unknown>;
  const { maxSize, maxIters } = ctx.limits;
  if (r.size !== undefined && (r.size as number) > maxSize) throw bad(`size must be at most ${maxSize} on this server, got ${String(r.size)}`);
  for (const key of ['iters', 'frameIters']) {
    if ((r[key] as number) > maxIters) throw bad(`${apiName(key)} must be at most ${maxIters} on this server, got ${String(r[key])}`);
  }
  if (!fast) serverLayers(ctx, r.contentLayers as string[] | undefined, r.styleLayers as string[] | undefined);
  return storedParams(VIDEO_ROWS, given, r) as VideoParams;
}

/** The parameters a job stores, by API field: options with a default resolved, the others as given (absent: the library decides). */
function storedParams(rows: readonly JobRow[], given: Record<string, unknown>, resolved: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const j of rows) {
    const v = j.default === undefined ? given[j.key] : resolved[j.key];
    if (v !== undefined) params[fieldOf(j.row)] = v;
  }
  return params;
}

/** The library options of stored parameters: each API field of `rows` back to its option key. */
function optionsOf(rows: readonly JobRow[], p: object): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const j of rows) {
    const v = (p as Record<string, unknown>)[fieldOf(j.row)];
    if (v !== undefined) o[j.key] = v;
  }
  return o;
}

/** StylizeOptions for a Gatys job (paths of its stored inputs): each API field back to its option key. */
export function stylizeOptionsFor(p: GatysParams, content: string, styles: string[]): StylizeOptions {
  return { ...optionsOf(GATYS_ROWS, p), content, styles } as StylizeOptions;
}

/** AudioOptions for a sound job (paths of its stored inputs; no content with texture). */
export function audioOptionsFor(p: AudioParams, content: string | undefined, styles: string[]): AudioOptions {
  return { ...optionsOf(AUDIO_ROWS, p), ...(content === undefined ? {} : { content }), styles } as AudioOptions;
}

/** VideoOptions for a video job: its stored inputs, the output file, and (fast) the model's folder. */
export function videoOptionsFor(p: VideoParams, content: string, styles: string[], out: string, modelPath?: string): VideoOptions {
  const o = { ...optionsOf(VIDEO_ROWS, p), content, out } as VideoOptions;
  if (o.mode === 'fast') o.model = modelPath;
  else o.styles = styles;
  return o;
}
