// Images as the browser has them — { data, width, height } RGB or RGBA, ImageData, ImageBitmap, Blob —
// turned into 8-bit RGB at the working size; pixels already at that size are used as they are.
import { StyleloomError } from '../errors.js';
import { longSideDims } from '../image/dims.js';
import type { RgbImage } from '../image/types.js';

/** Raw pixels: RGB (3 bytes a pixel) or RGBA (4; alpha dropped), row-major. */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

export type PixelSource = RawPixels | ImageData | ImageBitmap | Blob;

const isBlob = (v: unknown): v is Blob => typeof Blob !== 'undefined' && v instanceof Blob;
const isBitmap = (v: unknown): v is ImageBitmap => typeof ImageBitmap !== 'undefined' && v instanceof ImageBitmap;

function badInput(what: string, problem: string): StyleloomError {
  return new StyleloomError('E_INPUT', `${what}: ${problem}`);
}

/** RGB or RGBA bytes of `what` -> RgbImage (a copy), checked against its size. */
export function rawToRgb(p: RawPixels, what: string): RgbImage {
  const { data, width, height } = p;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw badInput(what, `size ${width}x${height} is not valid; give positive whole numbers`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw badInput(what, 'data must be a Uint8Array or Uint8ClampedArray of RGB or RGBA bytes');
  }
  const n = width * height;
  if (data.length === 3 * n) return { data: new Uint8Array(data), width, height };
  if (data.length !== 4 * n) {
    throw badInput(what, `${data.length} bytes do not fit ${width}x${height} pixels (RGB needs ${3 * n}, RGBA ${4 * n}); pass the image's own width and height`);
  }
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    out[3 * i] = data[4 * i];
    out[3 * i + 1] = data[4 * i + 1];
    out[3 * i + 2] = data[4 * i + 2];
  }
  return { data: out, width, height };
}

function canvas2d(width: number, height: number): OffscreenCanvasRenderingContext2D {
  if (typeof OffscreenCanvas === 'undefined') throw new StyleloomError('E_INPUT', 'this browser has no OffscreenCanvas to decode or resize images; pass raw pixels at the working size');
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new StyleloomError('E_INTERNAL', 'no 2d context on an OffscreenCanvas');
  return ctx;
}

/** Draws `src` at width x height (the browser's high-quality resampling) and reads the RGB back. */
function drawn(src: CanvasImageSource, width: number, height: number, what: string): RgbImage {
  const ctx = canvas2d(width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, 0, 0, width, height);
  const id = ctx.getImageData(0, 0, width, height);
  return rawToRgb({ data: id.data, width, height }, what);
}

async function bitmapOf(img: RgbImage): Promise<ImageBitmap> {
  return createImageBitmap(toImageData(img));
}

async function decodeBlob(b: Blob, what: string): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(b);
  } catch (e) {
    throw badInput(what, `cannot be decoded as an image (${(e as Error)?.message ?? e}); give a PNG, JPEG or WebP`);
  }
}

/** The source as decoded RGB at its own size. */
export async function toRgb(src: PixelSource, what: string): Promise<RgbImage> {
  if (isBlob(src)) {
    const bm = await decodeBlob(src, what);
    try {
      return drawn(bm, bm.width, bm.height, what);
    } finally {
      bm.close();
    }
  }
  if (isBitmap(src)) return drawn(src, src.width, src.height, what);
  if (src && typeof src === 'object' && 'data' in src) return rawToRgb(src, what);
  throw badInput(what, 'give { data, width, height } (RGB or RGBA bytes), an ImageData, an ImageBitmap or a Blob');
}

/** The image at long side `size` (aspect kept, the node library's rounding); unchanged when it is already that size. */
export async function atLongSide(img: RgbImage, size: number, what: string): Promise<RgbImage> {
  const d = longSideDims(img.width, img.height, size);
  return resizeRgb(img, d.width, d.height, what);
}

/** The image resized to exactly width x height (the browser's resampling); unchanged when it already is. */
export async function resizeRgb(img: RgbImage, width: number, height: number, what: string): Promise<RgbImage> {
  if (width === img.width && height === img.height) return img;
  const bm = await bitmapOf(img);
  try {
    return drawn(bm, width, height, what);
  } finally {
    bm.close();
  }
}

/** RGB -> ImageData (opaque), for a canvas. */
export function toImageData(img: RgbImage): ImageData {
  const n = img.width * img.height;
  const rgba = new Uint8ClampedArray(4 * n);
  for (let i = 0; i < n; i++) {
    rgba[4 * i] = img.data[3 * i];
    rgba[4 * i + 1] = img.data[3 * i + 1];
    rgba[4 * i + 2] = img.data[3 * i + 2];
    rgba[4 * i + 3] = 255;
  }
  return new ImageData(rgba, img.width, img.height);
}
