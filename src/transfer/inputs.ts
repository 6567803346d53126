// The run's input images, read from disk once at the start: each file's bytes and SHA-256 (recorded in
// the resumable state, checked on resume), decoded from those bytes, so every scale sees the same pixels.
import { createHash } from 'node:crypto';
import { readImage, readInput } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import type { ResolvedOptions } from './options.js';
import type { ImageSource, InputHashes } from './types.js';

/** An input as the run holds it: decoded pixels as the caller gave them, or a file's bytes and hash. */
export type HeldImage = RgbImage | { file: string; bytes: Buffer; sha256: string };

export interface RunInputs {
  content: HeldImage;
  styles: HeldImage[];
  /** The init image, when `init` names one (else null). */
  init: HeldImage | null;
  /** The masks (`mask`, `styleMasks`, `styleRegions`), when given. */
  mask: HeldImage | null;
  styleMasks: HeldImage[];
  styleRegions: HeldImage[];
  hashes: InputHashes;
}

async function hold(src: ImageSource): Promise<HeldImage> {
  if (typeof src !== 'string') return src;
  const bytes = await readInput(src, src);
  return { file: src, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const hashOf = (h: HeldImage): string | null => ('sha256' in h ? h.sha256 : null);

/** Reads the content, style, init and mask files of `o` (in that order; errors as readImage's). */
export async function readInputs(o: ResolvedOptions): Promise<RunInputs> {
  const content = await hold(o.content);
  const styles: HeldImage[] = [];
  for (const s of o.styles) styles.push(await hold(s));
  const init = o.init === 'content' || o.init === 'noise' ? null : await hold(o.init);
  const mask = o.mask === undefined ? null : await hold(o.mask);
  const styleMasks: HeldImage[] = [];
  for (const s of o.styleMasks ?? []) styleMasks.push(await hold(s));
  const styleRegions: HeldImage[] = [];
  for (const s of o.styleRegions ?? []) styleRegions.push(await hold(s));
  const hashes: InputHashes = { content: hashOf(content), styles: styles.map(hashOf), init: init && hashOf(init) };
  // masks are recorded only when given, so that a state without masks reads as before
  if (mask) hashes.mask = hashOf(mask);
  if (styleMasks.length) hashes.styleMasks = styleMasks.map(hashOf);
  if (styleRegions.length) hashes.styleRegions = styleRegions.map(hashOf);
  return { content, styles, init, mask, styleMasks, styleRegions, hashes };
}

/** The pixels of a held input, decoded from the bytes read at the start (the file is not read again). */
export async function decodeHeld(h: HeldImage): Promise<RgbImage> {
  return 'bytes' in h ? readImage(h.bytes, { name: h.file }) : h;
}
