// The options of trainNetwork(): the 'train' rows of the option table checked and defaulted, the output and
// checkpoint paths, and a run's options continued from a checkpoint (only the resumable ones may change).
import fs from 'node:fs';
import path from 'node:path';
import { optionError, StyleloomError } from '../errors.js';
import type { OptionRows } from '../options/table.js';
import type { LibraryOptions, ResolvedLibraryOptions } from '../options/types.js';
import { rowsFor } from '../options/names.js';
import { resolveTableOptions } from '../options/validate.js';
import { checkCanWrite } from '../util/atomic.js';
import type { Architecture } from './architecture.js';

type TrainRows = Omit<LibraryOptions<OptionRows, 'train'>, 'styles'>;

/** What trainNetwork() takes: the train rows of the option table, the style image and the files it writes. */
export interface TrainOptions extends TrainRows {
  /** The style image file. */
  style?: string;
  /** The network file to write (.safetensors); with `resume`, default the checkpoint's run's. */
  out?: string;
  /** A checkpoint (<out name>.ckpt.safetensors) to continue from; its options are the run's. */
  resume?: string;
  /** Tests and experiments: another architecture than `networkWidth`/`upsample` give (e.g. a tiny network). */
  architecture?: Architecture;
}

export type ResolvedTrainOptions = Omit<ResolvedLibraryOptions<OptionRows, 'train'>, 'styles'> & {
  style: string;
  images: string;
  out: string;
  architecture?: Architecture;
};

/** The options that may be given again with `resume` (they do not change what is trained). */
export const RESUMABLE_KEYS: readonly string[] = rowsFor('train').filter((j) => j.row.resumable && j.key !== 'resume').map((j) => j.key);

/** The options recorded in a network file (what was trained, not how or where it ran). */
const NOT_RECORDED = new Set(['out', 'resume', 'saveEvery', 'preview', 'threads', 'device', 'printEvery', 'json', 'weights', 'style', 'images']);

/** The trained-for options in the option table's order (so the same run always writes the same bytes). */
export function recordedOptions(o: ResolvedTrainOptions): Record<string, unknown> {
  const all = o as unknown as Record<string, unknown>;
  const keys = [...rowsFor('train').map((j) => j.key), 'architecture'];
  return Object.fromEntries(keys.filter((k) => !NOT_RECORDED.has(k) && all[k] !== undefined).map((k) => [k, all[k]]));
}

/** The checkpoint written beside `out`: my-style.safetensors -> my-style.ckpt.safetensors. */
export const checkpointPathFor = (out: string): string => `${out.replace(/\.safetensors$/i, '')}.ckpt.safetensors`;

/** A preview beside `out`: my-style.safetensors -> my-style_0050.png. */
export const previewPathFor = (out: string, iter: number): string => `${out.replace(/\.safetensors$/i, '')}_${String(iter).padStart(4, '0')}.png`;

/** Throws unless `out` is a .safetensors path in an existing, writable folder. */
export function checkNetworkOut(out: string): void {
  if (!/\.safetensors$/i.test(out)) throw optionError('E_USAGE', `{out} ${out}: a network file ends in .safetensors (e.g. my-style.safetensors)`);
  const st = fs.statSync(out, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out} is a directory; give a file name such as ${path.join(out, 'my-style.safetensors')}`);
  const dir = path.dirname(path.resolve(out));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new StyleloomError('E_OUTPUT', `${out}: directory ${path.dirname(out)} does not exist; create it first`);
  checkCanWrite(path.resolve(out));
}

/** A fresh run's options: the table's checks and defaults, the style, photos and output required. */
export function resolveTrainOptions(o: TrainOptions): ResolvedTrainOptions {
  if (!o.style) throw optionError('E_USAGE', 'a style image is required ({styles} FILE)');
  if (!o.images) throw optionError('E_USAGE', 'a folder of training photos is required ({images} DIR)');
  if (!o.out) throw optionError('E_USAGE', 'the network file to write is required ({out} FILE.safetensors)');
  const { architecture, ...rest } = o;
  const r = resolveTableOptions('train', rest) as unknown as ResolvedTrainOptions;
  if (r.contentWeight + r.styleWeight + r.tvWeight === 0) throw optionError('E_USAGE', '{contentWeight}, {styleWeight} and {tvWeight} are all 0: nothing to train');
  return { ...r, style: path.resolve(o.style), images: path.resolve(o.images), out: o.out, architecture };
}

/**
 * A resumed run's options: the checkpoint's, with the resumable ones given in `o` (iters, out, threads, ...)
 * replacing them; any other option given is refused.
 */
export function resumedOptions(saved: Record<string, unknown>, o: TrainOptions): ResolvedTrainOptions {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || k === 'resume' || RESUMABLE_KEYS.includes(k)) continue;
    throw optionError('E_USAGE', `{${k === 'style' ? 'styles' : k}} cannot be changed when resuming: the checkpoint fixes what is trained; drop it (only ${RESUMABLE_KEYS.map((x) => `{${x}}`).join(', ')} may be given)`);
  }
  const overrides = Object.fromEntries(RESUMABLE_KEYS.filter((k) => (o as Record<string, unknown>)[k] !== undefined).map((k) => [k, (o as Record<string, unknown>)[k]]));
  const merged = { ...saved, ...overrides } as TrainOptions;
  return resolveTrainOptions(merged);
}
