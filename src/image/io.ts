// Image decoding, resizing and encoding with sharp: any input format -> 8-bit sRGB RgbImage, and
// RgbImage -> PNG/JPEG/WebP files written atomically. Every failure becomes a one-line StyleloomError.

import { readFile, stat } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { StyleloomError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { longSideDims } from './dims.js';
import type { RgbImage } from './types.js';

/** Largest input accepted by default, in pixels (100 megapixels; sharp's own default is 268 MP). */
export const DEFAULT_MAX_PIXELS = 100_000_000;

export type OutputFormat = 'png' | 'jpeg' | 'webp';

export interface ReadImageOptions {
  /** Reject inputs whose header claims more pixels than this (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Name used in error messages (default: the path, or `image` for a Buffer). */
  name?: string;
}

export interface EncodeOptions {
  /** JPEG/WebP quality 1..100 (default 92); ignored for PNG. */
  quality?: number;
  /** Text key/value pairs: PNG tEXt/iTXt chunks; JPEG/WebP EXIF ImageDescription as JSON. */
  metadata?: Record<string, string>;
  /** PNG zlib level 0..9 (default 6); 1 is ~2.5x faster for ~12% more bytes (a video's frames folder uses it). */
  pngCompression?: number;
}

const DEFAULT_QUALITY = 92;
const READABLE = 'PNG, JPEG, WebP, TIFF, GIF, AVIF';

/** Decode an image file or buffer to 8-bit sRGB RGB: EXIF auto-orient, alpha flattened on white. */
export async function readImage(
  src: string | Buffer,
  opts: ReadImageOptions = {},
): Promise<RgbImage> {
  const name = opts.name ?? (typeof src === 'string' ? src : 'image');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 1) {
    throw new StyleloomError('E_USAGE', `maxPixels ${maxPixels} is not valid; pass a positive integer`);
  }
  const bytes = typeof src === 'string' ? await readInput(src, name) : src;
  if (bytes.length === 0) {
    throw new StyleloomError('E_INPUT', `${name}: the file is empty; pass an image file`);
  }

  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'truncated' }).metadata();
  } catch (err) {
    throw decodeError(name, err);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels) {
    throw new StyleloomError(
      'E_INPUT',
      `${name}: ${w}x${h} pixels is more than the limit of ${maxPixels}; downscale it first`,
    );
  }

  try {
    const { data, info } = await sharp(bytes, {
      limitInputPixels: maxPixels,
      failOn: 'truncated',
      autoOrient: true,
      sequentialRead: true,
    })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded to ${info.channels} channels`);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (err) {
    throw decodeError(name, err);
  }
}

/** The bytes of an input file; every failure is a one-line E_INPUT error starting with `name`. */
export async function readInput(path: string, name: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new StyleloomError('E_INPUT', `${name}: no such file; check the path`, { cause: err });
    if (code === 'EISDIR') {
      throw new StyleloomError('E_INPUT', `${name}: is a directory, not an image; name an image file`, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new StyleloomError('E_INPUT', `${name}: permission denied; make the file readable`, { cause: err });
    }
    if (code === 'ENOTDIR') {
      throw new StyleloomError('E_INPUT', `${name}: a part of the path is not a directory; check the path`, {
        cause: err,
      });
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new StyleloomError('E_INPUT', `${name}: cannot read the file (${oneLine(detail)}); check the path`, {
      cause: err,
    });
  }
}

function decodeError(name: string, err: unknown): StyleloomError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) {
    return new StyleloomError('E_INPUT', `${name}: not an image sharp can read (${READABLE}); convert it first`, {
      cause: err,
    });
  }
  if (/pixel limit/i.test(msg)) {
    return new StyleloomError('E_INPUT', `${name}: the image has more pixels than allowed; downscale it first`, {
      cause: err,
    });
  }
  return new StyleloomError('E_INPUT', `${name}: the image data is truncated or corrupt; re-export the file`, {
    cause: err,
  });
}

export { longSideDims } from './dims.js';

/** Resize (Lanczos-3) so that the long side is `longSide` pixels; returns `img` when already that size. */
export async function resizeLongSide(img: RgbImage, longSide: number): Promise<RgbImage> {
  if (!Number.isInteger(longSide) || longSide < 1) {
    throw new StyleloomError('E_USAGE', `size ${longSide} is not valid; pass a positive integer number of pixels`);
  }
  const d = longSideDims(img.width, img.height, longSide);
  return resizeTo(img, d.width, d.height);
}

/** Resize (Lanczos-3) to exactly width x height, aspect not kept; returns `img` when already that size. */
export async function resizeTo(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new StyleloomError('E_USAGE', `size ${width}x${height} is not valid; pass positive integers`);
  }
  if (width === img.width && height === img.height) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== width || info.height !== height) {
    throw new StyleloomError('E_INTERNAL', `resize gave ${info.width}x${info.height}x${info.channels}; please report`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

/** Output format from the file extension (.png, .jpg, .jpeg, .webp; case-insensitive). */
export function formatForPath(path: string): OutputFormat {
  switch (extname(path).toLowerCase()) {
    case '.png':
      return 'png';
    case '.jpg':
    case '.jpeg':
      return 'jpeg';
    case '.webp':
      return 'webp';
    default:
      throw new StyleloomError('E_USAGE', `${path}: unsupported output extension; use .png, .jpg or .webp`);
  }
}

/** Encode an RgbImage; PNG is lossless, JPEG/WebP use `quality` (default 92). */
export async function encodeImage(
  img: RgbImage,
  format: OutputFormat,
  opts: EncodeOptions = {},
): Promise<Buffer> {
  const quality = opts.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new StyleloomError('E_USAGE', `quality ${quality} is not valid; pass an integer from 1 to 100`);
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new StyleloomError(
      'E_USAGE',
      `image data has ${img.data.length} bytes but ${img.width}x${img.height} RGB needs ${img.width * img.height * 3}; pass a consistent RgbImage`,
    );
  }
  const entries = Object.entries(opts.metadata ?? {});
  for (const [k] of entries) checkKey(k);
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (format === 'png') {
    const png = await s.png(opts.pngCompression === undefined ? {} : { compressionLevel: opts.pngCompression }).toBuffer();
    return entries.length ? insertPngText(png, entries) : png;
  }
  if (entries.length) {
    const json = JSON.stringify(Object.fromEntries(entries)).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    s = s.withExif({ IFD0: { ImageDescription: json } });
  }
  return format === 'jpeg' ? s.jpeg({ quality }).toBuffer() : s.webp({ quality }).toBuffer();
}

/** Encode by the path's extension and write atomically; the output directory must exist. */
export async function writeImage(
  path: string,
  img: RgbImage,
  opts: EncodeOptions = {},
): Promise<void> {
  const format = formatForPath(path);
  const dir = dirname(path);
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new StyleloomError('E_OUTPUT', `${path}: ${dir} is not a directory; choose another output path`);
    }
  } catch (err) {
    if (err instanceof StyleloomError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const msg =
      code === 'ENOENT'
        ? `${path}: directory ${dir} does not exist; create it first`
        : `${path}: cannot use directory ${dir} (${code ?? 'error'}); check the path`;
    throw new StyleloomError('E_OUTPUT', msg, { cause: err });
  }
  const bytes = await encodeImage(img, format, opts);
  await writeFileAtomic(path, bytes);
}

// PNG text chunks: keywords are 1-79 Latin-1 printable characters (PNG spec 11.3.4.3).
function checkKey(k: string): void {
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(k) || /^ | $| {2}/.test(k)) {
    throw new StyleloomError(
      'E_USAGE',
      `metadata key ${JSON.stringify(k)} is not valid; use 1-79 printable Latin-1 characters without edge or double spaces`,
    );
  }
}

function insertPngText(png: Buffer, entries: [string, string][]): Buffer {
  const chunks = entries.map(([k, v]) =>
    /^[\x00-\xff]*$/.test(v) && !v.includes('\0')
      ? pngChunk('tEXt', Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v, 'latin1')]))
      : // iTXt: keyword, 0, compression flag 0, method 0, empty language tag 0, empty translated keyword 0, UTF-8 text
        pngChunk('iTXt', Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(v, 'utf8')])),
  );
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4; // signature + IHDR length/type + data + CRC
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

let crcTable: Uint32Array | undefined;

function crc32(buf: Uint8Array): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
