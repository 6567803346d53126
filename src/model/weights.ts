// Where the VGG-19 weights file is: --weights, then STYLELOOM_WEIGHTS, then the download cache
// (<cache>/vgg19.safetensors, cache = STYLELOOM_CACHE, $XDG_CACHE_HOME/styleloom or ~/.cache/styleloom).

import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StyleloomError } from '../errors.js';

export const CACHE_FILE_NAME = 'vgg19.safetensors';

/** The directory styleloom caches downloads in (not created here). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.STYLELOOM_CACHE) return env.STYLELOOM_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'styleloom');
  return join(env.HOME || homedir(), '.cache', 'styleloom');
}

/** The path `styleloom weights download` writes to and the last place looked for weights. */
export function cachedWeightsPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), CACHE_FILE_NAME);
}

function checkGiven(path: string, source: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new StyleloomError('E_INPUT', `${path} (from ${source}): no such weights file; check the path, or run styleloom weights download`);
  }
  if (!isFile) throw new StyleloomError('E_INPUT', `${path} (from ${source}): is not a file; give the path of a .safetensors file`);
  return path;
}

/** Resolves the weights file to use, or throws saying how to get one. */
export function resolveWeightsPath(opts: { flag?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const env = opts.env ?? process.env;
  if (opts.flag) return checkGiven(opts.flag, '--weights');
  if (env.STYLELOOM_WEIGHTS) return checkGiven(env.STYLELOOM_WEIGHTS, 'STYLELOOM_WEIGHTS');
  const cached = cachedWeightsPath(env);
  try {
    if (statSync(cached).isFile()) return cached;
  } catch {
    // not there: fall through to the explanation
  }
  throw new StyleloomError(
    'E_WEIGHTS',
    `no VGG-19 weights found (looked for --weights, STYLELOOM_WEIGHTS and ${cached}); pass --weights FILE, set STYLELOOM_WEIGHTS=FILE, or run styleloom weights download (the partial ../shared/assets/models/vgg19-conv1_1-conv3_4.safetensors is not used unless you name it)`,
  );
}
