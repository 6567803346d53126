// The fast-style networks styleloom can run by name: the built-in ones in the package's models/ folder (trained
// by styleloom, half precision, metadata read header-only) and those in a folder of the user's (model folders with
// a manifest.json, or .safetensors network files from styleloom train). Node-only.
import fs from 'node:fs/promises';
import path from 'node:path';
import { readSafetensors } from '../model/safetensors.js';
import { isNetworkFilePath } from './checkpoint.js';
import { PACKAGE_ROOT } from '../util/package-root.js';

/** Where the built-in networks live: models/ in the package. */
export const BUILTIN_MODELS_DIR = path.join(PACKAGE_ROOT, 'models');

export const MODEL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A network file's name without its extension: my-style.safetensors -> my-style. */
const networkName = (file: string): string => file.replace(/\.safetensors$/i, '');

/** What a built-in network's `builtin` metadata field says (JSON), written by tools/export-builtin-model.mjs. */
export interface BuiltinCard {
  name: string;
  /** The painting it learned, by its file name in the samples (e.g. starry_night.jpg), with its title and artist. */
  style: string;
  title: string;
  artist: string;
  /** The network's licence, and the licences of what it was made from. */
  licence: string;
  trained: { iterations: number; seconds: number; imagesPerS: number; size: number; batch: number; machine: string; photos: number };
}

/** One network runnable by name. */
export interface FastModelInfo {
  name: string;
  /** A model folder or a network file. */
  path: string;
  /** Shipped in the package (and trained by styleloom) rather than found in the user's folder. */
  builtin: boolean;
  /** The built-in network's card; absent for the user's networks. */
  card?: BuiltinCard;
}

function isCard(v: unknown): v is BuiltinCard {
  const c = v as BuiltinCard;
  return typeof c === 'object' && c !== null && typeof c.name === 'string' && typeof c.style === 'string' && typeof c.licence === 'string' && typeof c.trained === 'object';
}

/** The built-in networks (models/<name>.safetensors with a `builtin` card), by name; a file without a valid card is not one. */
export async function listBuiltinModels(dir = BUILTIN_MODELS_DIR): Promise<FastModelInfo[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter(isNetworkFilePath).sort();
  const out: FastModelInfo[] = [];
  for (const f of names) {
    const name = networkName(f);
    if (!MODEL_NAME_RE.test(name)) continue;
    const file = path.join(dir, f);
    const st = await readSafetensors(file, { include: () => false }).catch(() => undefined);
    let card: unknown;
    try {
      card = st?.metadata.builtin ? JSON.parse(st.metadata.builtin) : undefined;
    } catch {
      card = undefined;
    }
    if (isCard(card) && card.name === name) out.push({ name, path: file, builtin: true, card });
  }
  return out;
}

/** The user's networks in `dir`: sub-folders with a manifest.json and .safetensors network files (named without the extension). */
export async function listFolderModels(dir: string | undefined): Promise<FastModelInfo[]> {
  if (!dir) return [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: FastModelInfo[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && MODEL_NAME_RE.test(e.name)) {
      if ((await fs.stat(path.join(p, 'manifest.json')).catch(() => null))?.isFile()) out.push({ name: e.name, path: p, builtin: false });
    } else if (e.isFile() && isNetworkFilePath(e.name) && !/\.ckpt\.safetensors$/i.test(e.name)) {
      const name = networkName(e.name);
      if (MODEL_NAME_RE.test(name)) out.push({ name, path: p, builtin: false });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every network runnable by name: the built-in ones first (so that pages and defaults offer them), then the user's
 * in `dir`; a user's network with a built-in name replaces it, as `styleloom fast --model <name>` resolves it.
 */
export async function listFastModels(dir: string | undefined, builtinDir = BUILTIN_MODELS_DIR): Promise<FastModelInfo[]> {
  const user = await listFolderModels(dir);
  const taken = new Set(user.map((m) => m.name));
  return [...(await listBuiltinModels(builtinDir)).filter((m) => !taken.has(m.name)), ...user];
}

/** The network called `name` (a user's in `dir` before a built-in one), or undefined. */
export async function findFastModel(name: string, dir: string | undefined): Promise<FastModelInfo | undefined> {
  if (!MODEL_NAME_RE.test(name)) return undefined;
  return (await listFastModels(dir)).find((m) => m.name === name);
}

/** What `styleloom models` shows of a network: its card (built-in), or what a network file says of itself. */
export interface FastModelSummary {
  name: string;
  builtin: boolean;
  /** The painting's file name (a built-in network's card, a network file's style_file); null for model folders. */
  style: string | null;
  title: string | null;
  artist: string | null;
  licence: string | null;
  /** Built-in networks: iterations, seconds, images/s, crop size, batch, machine, photos. */
  trained: BuiltinCard['trained'] | null;
  /** Parameters and the file's bytes (network files only). */
  params: number | null;
  bytes: number;
  path: string;
}

async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true })) if (e.isFile()) n += (await fs.stat(path.join(dir, e.name))).size;
  return n;
}

/** The summary of `m`, reading a network file's header only. */
export async function summarizeFastModel(m: FastModelInfo): Promise<FastModelSummary> {
  const base = { name: m.name, builtin: m.builtin, path: m.path };
  if (!isNetworkFilePath(m.path)) {
    return { ...base, style: null, title: null, artist: null, licence: null, trained: null, params: null, bytes: await folderBytes(m.path) };
  }
  const st = await readSafetensors(m.path, { include: () => false });
  let params = 0;
  for (const e of st.entries.values()) params += e.shape.reduce((a, b) => a * b, 1);
  const c = m.card;
  return {
    ...base,
    style: c?.style ?? st.metadata.style_file ?? null,
    title: c?.title ?? null,
    artist: c?.artist ?? null,
    licence: c?.licence ?? st.metadata.licence ?? null,
    trained: c?.trained ?? null,
    params,
    bytes: (await fs.stat(m.path)).size,
  };
}
