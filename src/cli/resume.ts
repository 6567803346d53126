// `styleloom --resume <out.state>`: continue a run from its state file with the run's own options;
// only the flags that do not change the optimisation problem may be given again.
import { StyleloomError } from '../errors.js';
import { resumeOptions } from '../transfer/resume.js';
import { readStateFile } from '../transfer/state-file.js';
import type { ResumeState, StylizeOptions } from '../transfer/types.js';

/** Flags that may change on resume (the rest are fixed by the state). */
const CHANGEABLE = new Set(['resume', 'out', 'iters', 'scaleIters', 'saveEvery', 'printEvery', 'json', 'metadata', 'threads', 'device', 'weights', 'tile']);

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export interface ResumeFlags {
  resume?: string;
  out: string;
  iters: number;
  scaleIters?: number[];
  saveEvery: number;
  threads?: number;
  device: 'cpu' | 'cuda';
  weights?: string;
  tile?: number;
}

/**
 * The stylize() options that continue the run of `f.resume`, and the output path (--out, else the
 * state file's name without `.state`). `given(key)` tells whether a flag was on the command line.
 */
export async function resumeFromFlags(
  f: ResumeFlags,
  given: (key: string) => boolean,
  keys: string[],
): Promise<{ options: StylizeOptions; out: string; state: ResumeState }> {
  const file = f.resume!;
  for (const key of keys) {
    if (given(key) && !CHANGEABLE.has(key)) {
      throw new StyleloomError('E_USAGE', `${flagName(key)} cannot be changed when resuming: the state file fixes the run's options; drop it (only --iters, --scale-iters, --out, --save-every, --threads, --device, --weights, --tile and output flags may be given)`);
    }
  }
  let out = f.out;
  if (!given('out')) {
    if (!/\.(png|jpe?g|webp)\.state$/i.test(file)) {
      throw new StyleloomError('E_USAGE', `cannot tell the output from ${file} (expected <out>.png.state); pass --out <file>`);
    }
    out = file.slice(0, -'.state'.length);
  }
  const state = await readStateFile(file);
  const overrides: Partial<StylizeOptions> = {};
  if (given('iters')) overrides.iters = f.iters;
  if (given('scaleIters')) overrides.scaleIters = f.scaleIters;
  if (given('saveEvery')) overrides.saveEvery = f.saveEvery;
  if (given('threads')) overrides.threads = f.threads;
  if (given('device')) overrides.device = f.device;
  if (given('weights')) overrides.weights = f.weights;
  if (given('tile')) overrides.tile = f.tile;
  return { options: resumeOptions(state, overrides), out, state };
}
