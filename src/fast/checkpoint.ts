// Loads a feed-forward style network from disk: a checkpoint folder (lengstrom/ml5 layout: manifest.json + raw
// float32 files Variable .. Variable_47; checks in checkpoint-format.ts) or a network file of styleloom train.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { StyleloomError } from '../errors.js';
import { parseNetworkFile } from '../train/network-file.js';
import { assembleCheckpoint, checkShapes, fail, parseManifest, variableFromBytes, variableName, type FastCheckpoint } from './checkpoint-format.js';

export { FAST_LAYERS, FAST_VARIABLES, variableName, parseManifest, checkShapes, type FastCheckpoint, type FastLayer, type FastLayerKind } from './checkpoint-format.js';

async function readVariable(file: string, key: string, shape: number[]): Promise<Float32Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(file, code === 'ENOENT' ? `missing (listed in manifest.json as ${key}); restore the model folder` : `cannot read (${code ?? String(e)})`);
  }
  return variableFromBytes(bytes, file, key, shape);
}

/** A network file of styleloom train (or one of its checkpoints) rather than a model folder. */
export const isNetworkFilePath = (p: string): boolean => /\.safetensors$/i.test(p);

async function loadNetworkFile(file: string): Promise<FastCheckpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(file, code === 'ENOENT' ? 'no such network file; check the path' : `cannot read the network file (${code ?? String(e)})`);
  }
  return parseNetworkFile(bytes, path.resolve(file), path.basename(file).replace(/(\.ckpt)?\.safetensors$/i, '')).net;
}

/** Load and validate the checkpoint in `dir` (manifest.json + the files it lists), or a .safetensors network file. */
export async function loadFastCheckpoint(dir: string): Promise<FastCheckpoint> {
  if (isNetworkFilePath(dir) && !(await stat(dir).catch(() => null))?.isDirectory()) return loadNetworkFile(dir);
  const abs = path.resolve(dir);
  try {
    if (!(await stat(abs)).isDirectory()) fail(dir, 'not a directory; pass a fast-style model folder (manifest.json + Variable files)');
  } catch (e) {
    if (e instanceof StyleloomError) throw e;
    fail(dir, 'no such directory; pass a fast-style model folder (manifest.json + Variable files)');
  }
  const manifestPath = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    return fail(manifestPath, 'not found; a fast-style model folder holds manifest.json and the Variable files it lists');
  }
  const entries = parseManifest(text, manifestPath);
  const fileOf = (i: number) => path.join(dir, entries[i].filename);
  const channels = checkShapes(entries, fileOf);
  const data = await Promise.all(entries.map((e, i) => readVariable(fileOf(i), variableName(i), e.shape)));
  return assembleCheckpoint(abs, path.basename(abs), entries, channels, data);
}
